import { sql } from 'drizzle-orm'
import { queryRows, type Executor } from '../../db/client.js'
import { isoTimestamp } from '../../shared/schemas.js'
import { findReceipt } from '../receipts/repository.js'
import { receiptView } from '../receipts/views.js'

export interface OutboxEvent {
  id: string
  programId: string
  type: string
  payload: Record<string, unknown>
  memberId: string | null
  createdAt: Date | string
}

/**
 * The body an endpoint receives, Standard Webhooks style: {type, timestamp, data}. Composed at
 * each attempt from the outbox row: the member's contact as it is now (an erased member has
 * none; a changed phone gets the message) and, for events with a receipt, the receipt itself
 * with its SMS text and public link. So the outbox keeps no copy of personal data.
 */
export async function composeBody(ex: Executor, publicBaseUrl: string, event: OutboxEvent): Promise<string> {
  const data: Record<string, unknown> = { ...event.payload }
  let phone: string | null = null
  if (event.memberId) {
    const [m] = await queryRows<{ id: string; name: string | null; phone: string | null; email: string | null }>(
      ex,
      sql`select id, name, phone, email from members where program_id = ${event.programId}::uuid and id = ${event.memberId}::uuid`,
    )
    phone = m?.phone ?? null
    data.member = m ? { id: m.id, name: m.name, phone: m.phone, email: m.email } : { id: event.memberId, name: null, phone: null, email: null }
  }
  if (typeof event.payload.receiptId === 'string') {
    const row = await findReceipt(ex, event.programId, event.payload.receiptId)
    if (row) {
      const receipt = receiptView(row, publicBaseUrl)
      data.receipt = receipt
      data.sms = { to: phone, text: receipt.sms }
    }
  }
  return JSON.stringify({ type: event.type, timestamp: isoTimestamp(event.createdAt), data })
}
