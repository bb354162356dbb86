// POST /v1/purchases as one function, for the route and the batch upload: idempotent, and on the
// one-round-trip path (applied.ts) when the sale allows it.
import type { Database } from '../../db/client.js'
import { recordKey, requestHash, runIdempotentPlan, type StoredResponse } from '../idempotency/service.js'
import { balancesView } from '../ledger/views.js'
import type { ProgramRow } from '../programs/tables.js'
import { receiptLinkOf } from '../receipts/links.js'
import { appliesInOne, postAppliedSale } from './applied.js'
import { createPurchase } from './create.js'
import { rulesAt } from './load.js'
import { assertSaleWindow, readSale } from './plan.js'
import type { PurchaseCreate } from './schemas.js'
import { purchaseView } from './views.js'

export interface PostContext {
  database: Database
  program: ProgramRow
  actor: string
  baseUrl: string
}

export function postPurchase(ctx: PostContext, key: string, input: PurchaseCreate): Promise<StoredResponse> {
  const { database, program } = ctx
  const hash = requestHash('purchase', input)
  return runIdempotentPlan(database, program.id, key, hash, async (idempotency) => {
    if (input.memberId !== undefined && input.capture) {
      const now = new Date()
      const sale = readSale(program, input, now)
      const { rules, effectiveFrom } = await rulesAt(database.db, program, sale.occurredAt)
      if (appliesInOne(rules, input)) {
        assertSaleWindow(rules, sale.occurredAt, now)
        return postAppliedSale(database, { program, rules, rulesEffectiveFrom: effectiveFrom, sale, input, actor: ctx.actor, baseUrl: ctx.baseUrl, idempotency, now })
      }
    }
    return database.pipelined(async (p) => {
      const { row, balances, receipt } = await createPurchase(p, program, input, ctx.actor)
      const body = { ...purchaseView(program, row), balances: balancesView(row.memberId, program.currency, balances), receipt: receiptLinkOf(receipt, ctx.baseUrl) }
      void recordKey(p, program.id, key, hash, 201, body) // sent with COMMIT; its failure is the transaction's
      return { status: 201, body }
    })
  })
}
