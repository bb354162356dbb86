// couponReleaseSteps: what giving a purchase's coupons back writes, as row steps of a plan.
import t from 'tap'
import { couponReleaseSteps, type ActiveRedemption } from '../../src/modules/coupons/release-plan.js'

const now = new Date('2026-12-02T03:00:00Z')
const r = (id: string, campaignId: string, code: string, discount: bigint, countsMemberUses: boolean): ActiveRedemption => ({ id, campaignId, code, memberId: 'm1', discount, countsMemberUses })

t.test('nothing to release writes nothing', async (t) => {
  t.same(couponReleaseSteps([], now), [])
})

t.test('each redemption is released only while active, then campaigns, codes and member counters get their use back, each in key order', async (t) => {
  const steps = couponReleaseSteps([r('r2', 'c2', 'ZED', 5000n, false), r('r1', 'c1', 'ALPHA', 2500n, true)], now)
  t.same(steps, [
    { op: 'update', table: 'coupon_redemptions', key: { id: 'r2' }, set: { status: 'released', released_at: now.toISOString() }, expect: { status: 'active' } },
    { op: 'update', table: 'coupon_redemptions', key: { id: 'r1' }, set: { status: 'released', released_at: now.toISOString() }, expect: { status: 'active' } },
    { op: 'update', table: 'coupon_campaigns', key: { id: 'c1' }, add: { budget_used: '-2500', redemptions: '-1' } },
    { op: 'update', table: 'coupon_campaigns', key: { id: 'c2' }, add: { budget_used: '-5000', redemptions: '-1' } },
    { op: 'update', table: 'coupons', key: { code: 'ALPHA' }, add: { uses: '-1' } },
    { op: 'update', table: 'coupons', key: { code: 'ZED' }, add: { uses: '-1' } },
    { op: 'update', table: 'coupon_member_uses', key: { campaign_id: 'c1', member_id: 'm1' }, add: { uses: '-1' } },
  ])
})
