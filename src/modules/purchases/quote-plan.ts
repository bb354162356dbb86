// The quote of a sale, pure: what planPurchase decides, with every refusal the real call would give.
import { AppError } from '../../shared/errors.js'
import { accountId, memberPoints, memberStoredValue } from '../ledger/accounts.js'
import { insufficientFunds } from '../ledger/errors.js'
import type { MemberBalances } from '../ledger/reads.js'
import { assertMinSpend, couponSteps, percentFirst, type ResolvedCoupon } from '../coupons/discounts.js'
import { earnedPoints, priceSale, type PricedSale, type TenderInput } from './calculator.js'
import { exponentOf, levelOf, planPurchase, tierDiscount, type PlanContext, type PurchaseLoaded, type Sale } from './plan.js'
import type { PurchaseCreate } from './schemas.js'

export interface PurchaseQuotation {
  priced: PricedSale
  tierCode: string | null
  pointsEarned: bigint
  pointsRedeemed: bigint
  storedValueUsed: bigint
  /** In the order the real call checks them: its answer is the first. */
  refusals: AppError[]
}

/** Runs a decision; a refusal (AppError) is collected and undefined returned, anything else thrown. */
function collected<T>(decide: () => T, refusals: AppError[]): T | undefined {
  try {
    return decide()
  } catch (err) {
    if (!(err instanceof AppError)) throw err
    refusals.push(err)
    return undefined
  }
}

/** INSUFFICIENT_FUNDS for each wallet the sale would take more from than is available, in account-id order like the guarded debits. */
export function fundsRefusals(program: PurchaseLoaded['program'], memberId: string, wanted: { pointsRedeemed: bigint; storedValueUsed: bigint }, balances: MemberBalances): AppError[] {
  return [
    { ref: memberPoints(memberId), asset: 'POINTS', wanted: wanted.pointsRedeemed, available: balances.points.available },
    { ref: memberStoredValue(memberId, program.currency), asset: program.currency, wanted: wanted.storedValueUsed, available: balances.storedValue.available },
  ]
    .sort((a, b) => (accountId(program.id, a.ref) < accountId(program.id, b.ref) ? -1 : 1))
    .filter((w) => w.wanted > 0n && w.wanted > w.available)
    .map((w) => insufficientFunds(w.asset))
}

const sentPoints = (tenders: TenderInput[]) => tenders.reduce((s, t) => s + (t.points ?? 0n), 0n)
const sentStoredValue = (tenders: TenderInput[]) => tenders.reduce((s, t) => s + (t.type === 'storedValue' ? t.amount! : 0n), 0n)

/**
 * Quotes a sale. A coupon below its minimum spend is refused and the others still price the sale;
 * tenders that do not pay the total (or points the rules refuse) are refused and the sale is
 * priced as if money paid it all; wallets are checked against the balances read. Refusals that
 * leave nothing to price (a line discount over its line) are thrown, as the real call throws them.
 */
export function quotePurchase(loaded: PurchaseLoaded & { memberId: string }, sale: Sale, input: PurchaseCreate, ctx: PlanContext, balances: MemberBalances): PurchaseQuotation {
  const exponent = exponentOf(loaded.program)
  const level = levelOf(loaded)
  const beforeCoupons = priceSale(sale.lines, tierDiscount(level)).total
  const refusals: AppError[] = []
  const coupons: ResolvedCoupon[] = percentFirst(loaded.coupons).filter((c) => {
    const before = refusals.length
    collected(() => assertMinSpend(c, beforeCoupons, exponent), refusals)
    return refusals.length === before
  })
  const plan = collected(() => planPurchase({ ...loaded, coupons }, sale, input, ctx), refusals)
  const wanted = plan ? plan.totals : { pointsRedeemed: sentPoints(sale.tenders), storedValueUsed: sentStoredValue(sale.tenders) }
  refusals.push(...fundsRefusals(loaded.program, loaded.memberId, wanted, balances))
  if (plan) return { priced: plan.totals, tierCode: plan.row.tierCode, pointsEarned: plan.row.pointsEarned, ...wanted, refusals }
  const priced = priceSale(sale.lines, [...tierDiscount(level), ...couponSteps(coupons, exponent)])
  const pointsEarned = input.capture ? earnedPoints(priced.lines, priced.total, priced.total, loaded.rules, exponent, level?.earnMultiplier) : 0n
  return { priced, tierCode: level?.code ?? null, pointsEarned, ...wanted, refusals }
}
