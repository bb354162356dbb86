// Posting one sale under its idempotency key, answer included: POST /v1/purchases and each sale of
// POST /v1/purchases/batch go through this one function, so the two cannot answer a sale differently.
// A captured sale by member id takes the executor (applied.ts: a load, then one plan through the
// group-commit executor), a held one without coupons or tiers too (authorize.ts); the others (sales
// by phone or card, held sales with coupons or tiers) the pipelined transaction (create.ts).
import type { Database } from '../../db/client.js'
import { recordKey, requestHash, runIdempotentPlan, type StoredResponse } from '../idempotency/service.js'
import { balancesView } from '../ledger/views.js'
import type { ProgramRow } from '../programs/tables.js'
import { receiptLinkOf } from '../receipts/links.js'
import { appliesAsPlan, postAppliedSale } from './applied.js'
import { authorizesInOne, postHeldSale } from './authorize.js'
import { createPurchase } from './create.js'
import { rulesAt } from './load.js'
import { assertSaleWindow, readSale } from './plan.js'
import type { PurchaseCreate } from './schemas.js'
import { purchaseView } from './views.js'

export interface PurchaseDeps {
  database: Database
  /** Where receipt links point (config.publicBaseUrl). */
  publicBaseUrl: string
  /** A captured sale by member id as one plan through the executor (config database.salesAsPlans). */
  salesAsPlans?: boolean
}

/**
 * Posts `sale` (a parsed POST /v1/purchases body) at most once per (program, key). Resolves to the
 * stored response: 201 and the purchase, or, for a key already used, what was answered then (a
 * refusal included). A fresh refusal (4xx) is stored under the key and thrown, as every route
 * throws it; anything else (5xx, a lost connection) is thrown with nothing committed, or with the
 * outcome unknown (a group lost with its connection), so a retry with the same key is safe.
 */
export function postPurchase(deps: PurchaseDeps, program: ProgramRow, key: string, sale: PurchaseCreate, actor: string): Promise<StoredResponse> {
  const { database, publicBaseUrl } = deps
  // The hash of the parsed body: a sale sent alone or in a batch under the same key is the same request.
  const hash = requestHash('purchase', sale)
  return runIdempotentPlan(database, program.id, key, hash, async (idempotency) => {
    if (deps.salesAsPlans && appliesAsPlan(sale)) {
      const now = new Date()
      const read = readSale(program, sale, now)
      const { rules, effectiveFrom } = await rulesAt(database.db, program, read.occurredAt)
      assertSaleWindow(rules, read.occurredAt, now)
      return postAppliedSale(database, { program, rules, rulesEffectiveFrom: effectiveFrom, sale: read, input: sale, actor, baseUrl: publicBaseUrl, idempotency, now })
    }
    if (deps.salesAsPlans && authorizesInOne(sale)) return postHeldSale(database, { program, input: sale, actor, baseUrl: publicBaseUrl, idempotency })
    return database.pipelined(async (p) => {
      const { row, balances, receipt } = await createPurchase(p, program, sale, actor)
      const body = { ...purchaseView(program, row), balances: balancesView(row.memberId, program.currency, balances), receipt: receiptLinkOf(receipt, publicBaseUrl) }
      void recordKey(p, program.id, key, hash, 201, body) // sent with COMMIT; its failure is the transaction's
      return { status: 201, body }
    })
  })
}
