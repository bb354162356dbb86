// Giving a purchase's coupons back (a void, an expired hold, a full return) as steps of the
// command's plan (src/db/apply.ts): the load reads the purchase's active redemptions, the pure
// steps release each one (only if still active: a concurrent release makes the plan stale) and
// give its campaign's budget and count, its code's use and the member's use back, in the lock
// order of redeeming (campaigns by id, then codes, then member counters).
import { and, eq } from 'drizzle-orm'
import type { Executor } from '../../db/client.js'
import type { RowStep } from '../../db/apply.js'
import { couponCampaigns, couponRedemptions } from './tables.js'

export interface ActiveRedemption {
  id: string
  campaignId: string
  code: string
  memberId: string
  discount: bigint
  /** The campaign limits uses per member: the member has a counter row to give the use back to. */
  countsMemberUses: boolean
}

export async function loadActiveRedemptions(db: Executor, programId: string, purchaseId: string): Promise<ActiveRedemption[]> {
  const rows = await db
    .select({
      id: couponRedemptions.id,
      campaignId: couponRedemptions.campaignId,
      code: couponRedemptions.code,
      memberId: couponRedemptions.memberId,
      discount: couponRedemptions.discount,
      maxUsesPerMember: couponCampaigns.maxUsesPerMember,
    })
    .from(couponRedemptions)
    .innerJoin(couponCampaigns, and(eq(couponCampaigns.programId, couponRedemptions.programId), eq(couponCampaigns.id, couponRedemptions.campaignId)))
    .where(and(eq(couponRedemptions.programId, programId), eq(couponRedemptions.purchaseId, purchaseId), eq(couponRedemptions.status, 'active')))
  return rows.map(({ maxUsesPerMember, ...r }) => ({ ...r, countsMemberUses: maxUsesPerMember !== null }))
}

const byKey = <T>(key: (x: T) => string) => (a: T, b: T) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0)

/** Pure: the row steps that release `redemptions` at `now`. */
export function couponReleaseSteps(redemptions: ActiveRedemption[], now: Date): RowStep[] {
  const steps: RowStep[] = redemptions.map((r) => ({
    op: 'update',
    table: 'coupon_redemptions',
    key: { id: r.id },
    set: { status: 'released', released_at: now.toISOString() },
    expect: { status: 'active' },
  }))
  for (const r of [...redemptions].sort(byKey((x) => x.campaignId))) {
    steps.push({ op: 'update', table: 'coupon_campaigns', key: { id: r.campaignId }, add: { budget_used: (-r.discount).toString(), redemptions: '-1' } })
  }
  for (const r of [...redemptions].sort(byKey((x) => x.code))) {
    steps.push({ op: 'update', table: 'coupons', key: { code: r.code }, add: { uses: '-1' } })
  }
  for (const r of [...redemptions].sort(byKey((x) => x.campaignId))) {
    if (r.countsMemberUses) steps.push({ op: 'update', table: 'coupon_member_uses', key: { campaign_id: r.campaignId, member_id: r.memberId }, add: { uses: '-1' } })
  }
  return steps
}
