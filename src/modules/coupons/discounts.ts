// Coupon arithmetic, pure: what each coupon takes off a purchase.
import { formatMinorUnits } from '../../shared/money.js'
import { D, roundToInteger } from '../../shared/rounding.js'
import { couponErrors } from './errors.js'

/** A code a purchase may use, with what its campaign takes off. Limits are not checked here: redemption enforces them atomically. */
export interface ResolvedCoupon {
  /** Upper case, as stored. */
  code: string
  campaignId: string
  campaignName: string
  kind: 'percent' | 'fixed'
  /** percent: "10", "12.5"; null for fixed. */
  percentOff: string | null
  /** fixed: minor units; null for percent. */
  amountOff: bigint | null
  /** Minor units the amount before coupons must reach. */
  minSpend: bigint
  /** Null: unlimited; otherwise redemption keeps a per-member counter. */
  maxUsesPerMember: number | null
  /** The member a coupon was issued to (birthday coupons); null for anyone's. */
  assignedTo: string | null
}

/**
 * What one coupon takes off `amountBeforeCoupon` (minor units): a percentage rounded down to a
 * whole minor unit, or the fixed amount capped at the amount. Pure; min spend is checked by assertMinSpend.
 */
export function couponDiscount(coupon: ResolvedCoupon, amountBeforeCoupon: bigint): bigint {
  if (amountBeforeCoupon <= 0n) return 0n
  if (coupon.kind === 'percent') return roundToInteger(D(amountBeforeCoupon.toString()).mul(coupon.percentOff ?? '0').div(100), 'down')
  const off = coupon.amountOff ?? 0n
  return off < amountBeforeCoupon ? off : amountBeforeCoupon
}

/** Refuses (422 COUPON_MIN_SPEND_NOT_MET, with `minSpend` in major units) a coupon whose minimum the amount before coupons does not reach. Pure. */
export function assertMinSpend(coupon: ResolvedCoupon, amountBeforeCoupons: bigint, exponent: number): void {
  if (amountBeforeCoupons < coupon.minSpend) throw couponErrors.minSpendNotMet(coupon.code, formatMinorUnits(coupon.minSpend, exponent))
}

/**
 * The discounts of several coupons on one purchase, in the order given. Every minimum is checked
 * against the amount before coupons (after line and tier discounts). Percentages apply first,
 * each to what the previous left, then fixed amounts, each capped at what is left: the result
 * does not depend on the order the cashier typed the codes, and never exceeds the amount. Pure.
 */
export function planCouponDiscounts(coupons: ResolvedCoupon[], amountBeforeCoupons: bigint, exponent: number): { coupon: ResolvedCoupon; discount: bigint }[] {
  for (const c of coupons) assertMinSpend(c, amountBeforeCoupons, exponent)
  const order = coupons.map((c, i) => ({ c, i })).sort((a, b) => (a.c.kind === b.c.kind ? a.i - b.i : a.c.kind === 'percent' ? -1 : 1))
  const discounts = new Array<bigint>(coupons.length).fill(0n)
  let left = amountBeforeCoupons
  for (const { c, i } of order) {
    discounts[i] = couponDiscount(c, left)
    left -= discounts[i]!
  }
  return coupons.map((coupon, i) => ({ coupon, discount: discounts[i]! }))
}

/** Coupons in the order a purchase takes them: percentages first, then fixed amounts, each kind as given. */
export const percentFirst = (coupons: ResolvedCoupon[]): ResolvedCoupon[] => [...coupons].sort((a, b) => (a.kind === b.kind ? 0 : a.kind === 'percent' ? -1 : 1))

/** Structurally a DiscountStep of purchases/calculator.ts: one order-level discount taken from what is left. */
export interface CouponStep {
  type: 'coupon'
  code: string
  name: string
  campaignId: string
  percent?: string
  amountOf(base: bigint): bigint
}

/**
 * The same plan as planCouponDiscounts, as discount steps for computePurchase, which calls each
 * step once, in order, with what is left to pay: percentages come first, and every step checks
 * its minimum spend against the base the first coupon step saw (the amount before coupons, after
 * the tier discount). Put them after the tier step.
 */
export function couponSteps(coupons: ResolvedCoupon[], exponent: number): CouponStep[] {
  let beforeCoupons: bigint | undefined
  return percentFirst(coupons).map((c) => ({
    type: 'coupon' as const,
    code: c.code,
    name: c.campaignName,
    campaignId: c.campaignId,
    ...(c.percentOff !== null ? { percent: c.percentOff } : {}),
    amountOf: (base: bigint) => {
      beforeCoupons ??= base
      assertMinSpend(c, beforeCoupons, exponent)
      return couponDiscount(c, base)
    },
  }))
}
