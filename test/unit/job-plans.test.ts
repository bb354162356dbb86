// The decisions of the daily jobs, shared by the run and its dry run: pure, without a database.
import t from 'tap'
import { planBirthdayGrant } from '../../src/modules/birthdays/plan.js'
import { PREVIEW_LIMIT, PreviewList } from '../../src/modules/job-contract/preview.js'
import { planMemberExpiry } from '../../src/modules/ledger/expiry-plan.js'
import { readRules } from '../../src/modules/programs/rules.js'
import { planTierReview } from '../../src/modules/tiers/review.js'

t.test('expiry takes the free part of the due lots, never more than is available nor what a pending purchase holds', async (t) => {
  const asOf = new Date('2026-06-01T00:00:00Z')
  const lot = (id: string, expires: string | null, remaining: bigint, held = 0n) => ({ id, expiresAt: expires ? new Date(expires) : null, remaining, held })
  const due = lot('a', '2026-05-01T00:00:00Z', 100n)
  const dueLater = lot('b', '2026-05-20T00:00:00Z', 20n)
  const notDue = lot('c', '2026-07-01T00:00:00Z', 50n)
  t.same(planMemberExpiry([dueLater, due, notDue], 500n, asOf), { shares: [{ lotId: 'a', points: 100n }, { lotId: 'b', points: 20n }], points: 120n, deferred: false }, 'all due points, soonest first; the lot not due stays')
  t.same(planMemberExpiry([due, dueLater], 80n, asOf), { shares: [{ lotId: 'a', points: 80n }], points: 80n, deferred: false }, 'never more than the wallet has available')
  t.same(planMemberExpiry([lot('a', '2026-05-01T00:00:00Z', 100n, 40n)], 500n, asOf), { shares: [{ lotId: 'a', points: 60n }], points: 60n, deferred: true }, '40 held by a pending purchase stay')
  t.same(planMemberExpiry([lot('a', '2026-05-01T00:00:00Z', 100n, 100n)], 500n, asOf), { shares: [], points: 0n, deferred: true }, 'all held')
  t.same(planMemberExpiry([due], -5n, asOf), { shares: [], points: 0n, deferred: false }, 'never a negative take')
  t.same(planMemberExpiry([lot('n', null, 100n)], 500n, asOf), { shares: [], points: 0n, deferred: false }, 'points that never expire')
})

t.test('a tier review keeps, raises or lowers by the level the metric reaches', async (t) => {
  const tiers = readRules({
    tiers: {
      metric: 'spend',
      levels: [
        { code: 'member', name: 'Member', threshold: '0' },
        { code: 'silver', name: 'Silver', threshold: '1000000' },
        { code: 'gold', name: 'Gold', threshold: '5000000' },
      ],
    },
  }).tiers!
  t.same(planTierReview(tiers, 'silver', 1_000_000n, 0), { outcome: 'kept', toIndex: 1 }, 'exactly the threshold keeps the tier')
  t.same(planTierReview(tiers, 'silver', 999_999n, 0), { outcome: 'downgraded', toIndex: 0 })
  t.same(planTierReview(tiers, 'member', 7_000_000n, 0), { outcome: 'upgraded', toIndex: 2 })
  t.same(planTierReview(tiers, 'gold', 0n, 0), { outcome: 'downgraded', toIndex: 0 }, 'down to the base tier, not out')
  t.same(planTierReview(tiers, 'retired-tier', 0n, 0), { outcome: 'upgraded', toIndex: 0 }, 'a tier no longer in the rules moves to the one the metric reaches')
})

t.test('a birthday grant: program bonus plus tier bonus, coupon by the rules, the greeting on the day only', async (t) => {
  const rules = readRules({ birthday: { bonusPoints: 100 } })
  t.same(planBirthdayGrant(rules, 50n, '2027-03-15', '2027-03-15'), { points: 150n, late: false, coupon: false, greet: true })
  t.same(planBirthdayGrant(rules, 0n, '2027-03-12', '2027-03-15'), { points: 100n, late: true, coupon: false, greet: false }, 'caught up late: points, no greeting')
  const withCoupon = readRules({ birthday: { bonusPoints: 0, couponCampaignId: '01a23000-0000-7000-8000-000000000001' } })
  t.same(planBirthdayGrant(withCoupon, 0n, '2027-03-15', '2027-03-15'), { points: 0n, late: false, coupon: true, greet: true })
})

t.test('a dry run lists the first PREVIEW_LIMIT affected and counts them all', async (t) => {
  const list = new PreviewList()
  for (let i = 0; i < PREVIEW_LIMIT + 5; i++) list.add({ action: 'expire', memberId: `m${i}`, points: i })
  const preview = list.preview({ members: PREVIEW_LIMIT + 5 })
  t.equal(preview.affected.length, PREVIEW_LIMIT)
  t.equal(preview.affected[0]!.memberId, 'm0', 'in the order found')
  t.equal(preview.affectedTotal, PREVIEW_LIMIT + 5)
  t.same(preview.result, { members: PREVIEW_LIMIT + 5 })
})
