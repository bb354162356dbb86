// Redeeming a sale's coupons as steps of its plan (src/db/apply.ts): the load reads the codes, their
// campaigns and what is left of each limit (one statement, no lock); the pure steps add the
// discount to the campaign's budget and count (only while it is active: an archive meanwhile makes
// the plan stale), a use to the code and to the member's counter, and record the redemption, in
// one lock order (campaigns by id, then codes, then member counters: concurrent sales with the
// same coupons in any order do not deadlock). A limit crossed is a CHECK violation of the plan,
// named by its constraint: couponLimitRefusal answers it as 409 COUPON_BUDGET_EXHAUSTED,
// COUPON_USED_UP or COUPON_MEMBER_LIMIT_REACHED.
import { and, eq, inArray, sql } from 'drizzle-orm'
import type { Executor } from '../../db/client.js'
import type { RowStep } from '../../db/apply.js'
import type { AppError } from '../../shared/errors.js'
import { newId } from '../../shared/ids.js'
import type { ResolvedCoupon } from './discounts.js'
import { couponErrors } from './errors.js'
import type { CouponCampaignJoin } from './resolve.js'
import { couponCampaigns, couponMemberUses, coupons } from './tables.js'

/** What is left of a code's limits when the load read them; null: no such limit. */
export interface CouponLimits {
  code: string
  usesLeft: bigint | null
  budgetLeft: bigint | null
  memberUsesLeft: bigint | null
}

export interface LoadedCoupons {
  rows: CouponCampaignJoin[]
  limits: CouponLimits[]
}

const big = (v: unknown) => (v === null || v === undefined ? null : BigInt(v as string))

/** The codes (checked, upper case) with their campaigns as of `at` and the member's uses of each. */
export async function loadSaleCoupons(db: Executor, programId: string, memberId: string, codes: string[], at: Date): Promise<LoadedCoupons> {
  if (codes.length === 0) return { rows: [], limits: [] }
  const when = sql`${at.toISOString()}::timestamptz`
  const found = await db
    .select({
      code: coupons.code,
      campaign_id: coupons.campaignId,
      member_id: coupons.memberId,
      name: couponCampaigns.name,
      kind: couponCampaigns.kind,
      percent_off: couponCampaigns.percentOff,
      amount_off: sql<string | null>`${couponCampaigns.amountOff}::text`,
      min_spend: sql<string>`${couponCampaigns.minSpend}::text`,
      max_uses_per_member: couponCampaigns.maxUsesPerMember,
      status: couponCampaigns.status,
      started: sql<boolean>`${couponCampaigns.validFrom} <= ${when}`,
      ended: sql<boolean>`${couponCampaigns.validTo} is not null and ${couponCampaigns.validTo} <= ${when}`,
      usesLeft: sql<string | null>`(${coupons.maxUses} - ${coupons.uses})::text`,
      budgetLeft: sql<string | null>`(${couponCampaigns.budget} - ${couponCampaigns.budgetUsed})::text`,
      memberUsesLeft: sql<string | null>`(${couponCampaigns.maxUsesPerMember} - coalesce(${couponMemberUses.uses}, 0))::text`,
    })
    .from(coupons)
    .innerJoin(couponCampaigns, and(eq(couponCampaigns.programId, coupons.programId), eq(couponCampaigns.id, coupons.campaignId)))
    .leftJoin(
      couponMemberUses,
      and(eq(couponMemberUses.programId, coupons.programId), eq(couponMemberUses.campaignId, coupons.campaignId), eq(couponMemberUses.memberId, memberId)),
    )
    .where(and(eq(coupons.programId, programId), inArray(coupons.code, codes)))
  return {
    rows: found.map(({ usesLeft: _u, budgetLeft: _b, memberUsesLeft: _m, ...r }) => ({ ...r, kind: r.kind as CouponCampaignJoin['kind'], started: Boolean(r.started), ended: Boolean(r.ended) })),
    limits: found.map((r) => ({ code: r.code, usesLeft: big(r.usesLeft), budgetLeft: big(r.budgetLeft), memberUsesLeft: big(r.memberUsesLeft) })),
  }
}

export interface Redemption {
  coupon: ResolvedCoupon
  discount: bigint
}

const byKey = <T>(key: (x: T) => string) => (a: T, b: T) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0)
const byCampaign = byKey((r: Redemption) => r.coupon.campaignId)
const byCode = byKey((r: Redemption) => r.coupon.code)

/** Pure: the row steps that redeem `redemptions` for the purchase, in the lock order above. */
export function couponRedeemSteps(
  programId: string,
  sale: { purchaseId: string; memberId: string; now: Date },
  redemptions: Redemption[],
  ids: () => string = newId,
): RowStep[] {
  if (redemptions.some((r) => r.discount < 0n)) throw new RangeError('a coupon discount is not negative')
  const steps: RowStep[] = []
  for (const r of [...redemptions].sort(byCampaign)) {
    steps.push({ op: 'update', table: 'coupon_campaigns', key: { id: r.coupon.campaignId }, add: { budget_used: r.discount.toString(), redemptions: '1' }, expect: { status: 'active' } })
  }
  for (const r of [...redemptions].sort(byCode)) steps.push({ op: 'update', table: 'coupons', key: { code: r.coupon.code }, add: { uses: '1' } })
  for (const r of [...redemptions].sort(byCampaign)) {
    if (r.coupon.maxUsesPerMember === null) continue
    steps.push({
      op: 'insert',
      table: 'coupon_member_uses',
      rows: [{ program_id: programId, campaign_id: r.coupon.campaignId, member_id: sale.memberId, uses: 1, max_uses: r.coupon.maxUsesPerMember }],
      onConflict: { columns: ['program_id', 'campaign_id', 'member_id'], add: ['uses'] },
    })
  }
  if (redemptions.length > 0) {
    const rows = redemptions.map((r) => ({
      program_id: programId,
      id: ids(),
      purchase_id: sale.purchaseId,
      campaign_id: r.coupon.campaignId,
      code: r.coupon.code,
      member_id: sale.memberId,
      discount: r.discount.toString(),
      status: 'active',
      created_at: sale.now.toISOString(),
      released_at: null,
    }))
    steps.push({ op: 'insert', table: 'coupon_redemptions', rows })
  }
  return steps
}

/**
 * Pure: a redemption's constraint violation as the refusal the POS sees (undefined: not a
 * coupon limit). The plan says which table refused, not which row: the code is the one, in that
 * table's lock order, with the least of that limit left when loaded (for one coupon, that coupon).
 */
export function couponLimitRefusal(constraint: string | undefined, redemptions: Redemption[], limits: CouponLimits[]): AppError | undefined {
  const left = (code: string, pick: (l: CouponLimits) => bigint | null) => {
    const l = limits.find((x) => x.code === code)
    return l ? pick(l) : null
  }
  const tightest = (sorted: Redemption[], room: (r: Redemption) => bigint | null) => {
    let best: Redemption | undefined
    let bestRoom: bigint | null = null
    for (const r of sorted) {
      const v = room(r)
      if (v === null) continue
      if (best === undefined || bestRoom === null || v < bestRoom) [best, bestRoom] = [r, v]
    }
    return (best ?? sorted[0])?.coupon.code
  }
  const refusal = (code: string | undefined, make: (code: string) => AppError) => (code === undefined ? undefined : make(code))
  switch (constraint) {
    case 'coupon_campaigns_budget_check': {
      const room = (r: Redemption) => {
        const b = left(r.coupon.code, (l) => l.budgetLeft)
        return b === null ? null : b - r.discount
      }
      return refusal(tightest([...redemptions].sort(byCampaign), room), couponErrors.budgetExhausted)
    }
    case 'coupons_uses_check':
      return refusal(tightest([...redemptions].sort(byCode), (r) => left(r.coupon.code, (l) => l.usesLeft)), couponErrors.usedUp)
    case 'coupon_member_uses_uses_check':
      return refusal(
        tightest(
          [...redemptions].sort(byCampaign).filter((r) => r.coupon.maxUsesPerMember !== null),
          (r) => left(r.coupon.code, (l) => l.memberUsesLeft),
        ),
        couponErrors.memberLimitReached,
      )
    case 'coupon_redemptions_purchase_campaign_key':
      return refusal(redemptions[0]?.coupon.code, couponErrors.duplicate)
    default:
      return undefined
  }
}
