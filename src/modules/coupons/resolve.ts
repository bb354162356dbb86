// Which coupons a sale may use, pure: the codes as sent checked (count, repeats), then the rows
// loaded for them (by loadSaleCoupons, for a sale's plan or a quote)
// checked against the sale's member. Limits are not checked here: redemption enforces them.
import { validationFailed } from '../../shared/errors.js'
import { normalizeCode } from './codes.js'
import type { ResolvedCoupon } from './discounts.js'
import { couponErrors } from './errors.js'

/** Most codes one purchase may carry (the purchase schema says the same). */
export const MAX_COUPONS_PER_PURCHASE = 5

/** A code and its campaign as loaded: `started`/`ended` against the sale's time. */
export interface CouponCampaignJoin {
  code: string
  campaign_id: string
  member_id: string | null
  name: string
  kind: 'percent' | 'fixed'
  percent_off: string | null
  amount_off: string | null
  min_spend: string
  max_uses_per_member: number | null
  status: string
  started: boolean
  ended: boolean
}

/** The codes in upper case; refuses more than MAX_COUPONS_PER_PURCHASE (400) and a repeated code (COUPON_DUPLICATE). */
export function checkedCodes(sent: string[]): string[] {
  if (sent.length > MAX_COUPONS_PER_PURCHASE) {
    throw validationFailed(`couponCodes: at most ${MAX_COUPONS_PER_PURCHASE} coupons per purchase`, [{ path: 'body/couponCodes', message: `at most ${MAX_COUPONS_PER_PURCHASE}` }])
  }
  const codes = sent.map(normalizeCode)
  const seen = new Set<string>()
  for (const code of codes) {
    if (seen.has(code)) throw couponErrors.duplicate(code)
    seen.add(code)
  }
  return codes
}

/**
 * The coupons in the order given; refuses (422) a code that is unknown (COUPON_NOT_FOUND),
 * archived or outside its window (COUPON_NOT_ACTIVE), issued to another member
 * (COUPON_NOT_FOR_MEMBER), or of a campaign already used (COUPON_DUPLICATE).
 */
export function resolvedCoupons(codes: string[], rows: CouponCampaignJoin[], memberId: string): ResolvedCoupon[] {
  const byCode = new Map(rows.map((r) => [r.code, r]))
  const campaigns = new Set<string>()
  return codes.map((code) => {
    const r = byCode.get(code)
    if (!r) throw couponErrors.notFound(code)
    if (r.status !== 'active') throw couponErrors.notActive(code, 'archived')
    if (!r.started) throw couponErrors.notActive(code, 'not_started')
    if (r.ended) throw couponErrors.notActive(code, 'expired')
    if (r.member_id !== null && r.member_id !== memberId) throw couponErrors.notForMember(code)
    if (campaigns.has(r.campaign_id)) throw couponErrors.duplicate(code)
    campaigns.add(r.campaign_id)
    return {
      code,
      campaignId: r.campaign_id,
      campaignName: r.name,
      kind: r.kind,
      percentOff: r.percent_off,
      amountOff: r.amount_off === null ? null : BigInt(r.amount_off),
      minSpend: BigInt(r.min_spend),
      maxUsesPerMember: r.max_uses_per_member === null ? null : Number(r.max_uses_per_member),
      assignedTo: r.member_id,
    }
  })
}
