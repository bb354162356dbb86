import { sql } from 'drizzle-orm'
import { queryRows, type Executor } from '../../db/client.js'
import { isoTimestamp } from '../../shared/schemas.js'

/**
 * The receipt an event names (payload.receiptId) as a webhook body carries it: its API view, SMS
 * text included; undefined when there is no such receipt. The receipts module provides it
 * (receipts/webhook.ts): receipts emits events in the statement that writes the receipt, so
 * events cannot import receipts back.
 */
export type WebhookReceipt = (ex: Executor, programId: string, receiptId: string, publicBaseUrl: string) => Promise<({ sms: string } & Record<string, unknown>) | undefined>

let webhookReceipt: WebhookReceipt | undefined

/**
 * Installs the receipt reader composeBody uses; the dispatcher plugin calls it before it creates
 * the dispatcher. (A module variable, not an option of createDispatcher, only while dispatcher.ts
 * is being rewritten elsewhere; the option is where it belongs.)
 */
export function composeReceiptsWith(read: WebhookReceipt): void {
  webhookReceipt = read
}

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
    // Wiring missing is a bug to see, not a webhook to send without its receipt.
    if (!webhookReceipt) throw new Error('composeBody: no receipt reader installed (composeReceiptsWith)')
    const receipt = await webhookReceipt(ex, event.programId, event.payload.receiptId, publicBaseUrl)
    if (receipt) {
      data.receipt = receipt
      data.sms = { to: phone, text: receipt.sms }
    }
  }
  return JSON.stringify({ type: event.type, timestamp: isoTimestamp(event.createdAt), data })
}
