// Posting one sale under its idempotency key, answer included: POST /v1/purchases and each sale of
// POST /v1/purchases/batch go through this one function, so the two cannot answer a sale differently.
import type { Database } from '../../db/client.js'
import { requestHash, runIdempotentPipelined, type StoredResponse } from '../idempotency/service.js'
import { balancesView } from '../ledger/views.js'
import type { ProgramRow } from '../programs/tables.js'
import { receiptLinkOf } from '../receipts/links.js'
import { createPurchase } from './create.js'
import type { PurchaseCreate } from './schemas.js'
import { purchaseView } from './views.js'

export interface PurchaseDeps {
  database: Database
  /** Where receipt links point (config.publicBaseUrl). */
  publicBaseUrl: string
}

/**
 * Posts `sale` (a parsed POST /v1/purchases body) at most once per (program, key), in its own
 * transaction. Resolves to the stored response: 201 and the purchase, or, for a key already used,
 * what was answered then (a refusal included). A fresh refusal (4xx) is stored under the key and
 * thrown, as every route throws it; anything else (5xx, a lost connection) is thrown with nothing
 * committed, so a retry with the same key is safe.
 */
export function postPurchase(deps: PurchaseDeps, program: ProgramRow, key: string, sale: PurchaseCreate, actor: string): Promise<StoredResponse> {
  // The hash of the parsed body: a sale sent alone or in a batch under the same key is the same request.
  const hash = requestHash('purchase', sale)
  return runIdempotentPipelined(deps.database, program.id, key, hash, async (p) => {
    const { row, balances, receipt } = await createPurchase(p, program, sale, actor)
    const body = { ...purchaseView(program, row), balances: balancesView(row.memberId, program.currency, balances), receipt: receiptLinkOf(receipt, deps.publicBaseUrl) }
    return { status: 201, body }
  })
}
