import type { Executor } from '../../db/client.js'
import { findReceipt } from './repository.js'
import { receiptView } from './views.js'

/**
 * A receipt as the webhook of its event carries it (events/compose.ts): the API view with its SMS
 * text and public link, read when each attempt is composed, so a resent webhook shows the
 * receipt as it is then.
 */
export async function webhookReceipt(ex: Executor, programId: string, receiptId: string, publicBaseUrl: string) {
  const row = await findReceipt(ex, programId, receiptId)
  return row ? receiptView(row, publicBaseUrl) : undefined
}
