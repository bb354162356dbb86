// Posting one sale under its idempotency key, answer included: POST /v1/purchases and each sale of
// POST /v1/purchases/batch go through this one function, so the two cannot answer a sale differently.
// Every sale takes the executor: a captured one applied.ts (a load, then one plan through the
// group-commit executor), a held one authorize.ts; a sale by phone or card reads its member first
// (buyer.ts, one round trip) and goes on as the same sale by member id.
import type { Database } from '../../db/client.js'
import { requestHash, runIdempotentPlan, type StoredResponse } from '../idempotency/service.js'
import { giftCardErrors } from '../gift-cards/errors.js'
import type { ProgramRow } from '../programs/tables.js'
import { postAppliedSale } from './applied.js'
import { postHeldSale } from './authorize.js'
import { byMemberId, resolveBuyer } from './buyer.js'
import { rulesAt } from './load.js'
import { assertSaleWindow, readSale } from './plan.js'
import { isAnonymousSale, type PurchaseCreate } from './schemas.js'
import { postAnonymousSale } from './anonymous.js'

export interface PurchaseDeps {
  database: Database
  /** Where receipt links point (config.publicBaseUrl). */
  publicBaseUrl: string
}

/**
 * Posts `sale` (a parsed POST /v1/purchases body) at most once per (program, key). Resolves to the
 * stored response: 201 and the purchase, or, for a key already used, what was answered then (a
 * refusal included). A fresh refusal (4xx) is stored under the key and thrown, as every route
 * throws it; anything else (5xx, a lost connection) is thrown with nothing committed, or with the
 * outcome unknown (a group lost with its connection), so a retry with the same key is safe.
 */
export function postPurchase(deps: PurchaseDeps, program: ProgramRow, key: string, sale: PurchaseCreate, actor: string): Promise<StoredResponse> {
  const { database } = deps
  // The hash of the parsed body: a sale sent alone or in a batch under the same key is the same request.
  const hash = requestHash('purchase', sale)
  return runIdempotentPlan(database, program.id, key, hash, (idempotency) => postAsPlan(deps, program, sale, actor, idempotency))
}

/**
 * A sale through the executor. The refusals come in this order: the sale as sent and its window,
 * then the member.
 */
async function postAsPlan(deps: PurchaseDeps, program: ProgramRow, sale: PurchaseCreate, actor: string, idempotency: { key: string; hash: string }): Promise<{ status: number; body: unknown }> {
  const { database, publicBaseUrl: baseUrl } = deps
  if (!sale.capture && sale.tenders.some((t) => t.type === 'giftCard')) throw giftCardErrors.notHoldable()
  // A held sale by id reads its rules itself (authorize.ts): nothing is read twice.
  if (sale.memberId !== undefined && !sale.capture) return postHeldSale(database, { program, input: { ...sale, memberId: sale.memberId }, actor, baseUrl, idempotency })
  const now = new Date()
  const read = readSale(program, sale, now)
  const { rules, effectiveFrom } = await rulesAt(database.db, program, read.occurredAt)
  assertSaleWindow(rules, read.occurredAt, now)
  if (isAnonymousSale(sale)) return postAnonymousSale(database, { program, rules, rulesEffectiveFrom: effectiveFrom, sale: read, input: sale, actor, baseUrl, idempotency, now })
  const input = sale.memberId !== undefined ? { ...sale, memberId: sale.memberId } : byMemberId(sale, await resolveBuyer(database.db, program, sale))
  if (input.capture) return postAppliedSale(database, { program, rules, rulesEffectiveFrom: effectiveFrom, sale: read, input, actor, baseUrl, idempotency, now })
  return postHeldSale(database, { program, input, actor, baseUrl, idempotency })
}
