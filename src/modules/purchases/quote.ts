// POST /v1/purchases/quote: loads what a purchase loads (reads only, no lock, nothing written),
// runs the same plan and says what the sale would cost, earn and be refused for.
import type { Executor } from '../../db/client.js'
import { problemOf } from '../../plugins/errors.js'
import { newId } from '../../shared/ids.js'
import { formatMinorUnits } from '../../shared/money.js'
import type { ProgramRow } from '../programs/tables.js'
import { memberBalances, type MemberBalances } from '../ledger/reads.js'
import { pointsNumber } from '../ledger/views.js'
import { resolveCoupons } from '../coupons/service.js'
import { findTier } from '../tiers/service.js'
import { pointValueMinor } from './calculator.js'
import { buyerOf } from './buyer.js'
import { loadSale } from './load.js'
import { exponentOf } from './plan.js'
import { quotePurchase, type PurchaseQuotation } from './quote-plan.js'
import type { PurchaseCreate } from './schemas.js'

/**
 * Quotes a sale. What leaves nothing to quote is thrown as the real call gives it (400, currency,
 * occurredAt, member not found or erased, a coupon that cannot be used by anyone now); the rest is listed in `refusals`.
 */
export async function quoteSale(ex: Executor, program: ProgramRow, input: PurchaseCreate, actor: string) {
  const now = new Date()
  const { sale, rules, effectiveFrom, found, memberId } = await loadSale(ex, program, input, now)
  const codes = input.couponCodes ?? []
  // Sent together: on PostgreSQL each read takes its own pool connection.
  const [members, tier, coupons, balances] = await Promise.all([
    found,
    rules.tiers ? findTier(ex, program.id, memberId) : undefined,
    codes.length > 0 ? resolveCoupons(ex, program, { memberId, codes, at: sale.occurredAt }) : [],
    memberBalances(ex, program.id, memberId, program.currency),
  ] as const)
  buyerOf(members)
  const loaded = { program, rules, rulesEffectiveFrom: effectiveFrom, memberId, tierCode: tier?.code ?? null, coupons }
  const quotation = quotePurchase(loaded, sale, input, { now, actor, purchaseId: newId(), entryId: newId() }, balances)
  return quoteView(program, memberId, quotation, balances, pointValueMinor(rules, exponentOf(program)))
}

function quoteView(program: ProgramRow, memberId: string, q: PurchaseQuotation, balances: MemberBalances, pointValue: bigint | undefined) {
  const money = (v: bigint) => formatMinorUnits(v, exponentOf(program))
  const points = balances.points.available > 0n ? balances.points.available : 0n
  return {
    memberId,
    currency: program.currency,
    tierCode: q.tierCode,
    subtotal: money(q.priced.subtotal),
    discounts: q.priced.discounts.map((d) => ({ ...d, amount: money(d.amount) })),
    discountTotal: money(q.priced.discountTotal),
    total: money(q.priced.total),
    pointsEarned: pointsNumber(q.pointsEarned),
    pointsRedeemed: pointsNumber(q.pointsRedeemed),
    storedValueUsed: money(q.storedValueUsed),
    canPay: {
      points: { available: pointsNumber(balances.points.available), value: pointValue === undefined ? null : money(points * pointValue) },
      storedValue: { available: money(balances.storedValue.available) },
    },
    refusals: q.refusals.map(problemOf),
  }
}
