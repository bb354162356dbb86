// What a member can redeem now (rewards/available.ts): active rewards judged as a redemption
// judges them, the available ones cheapest first, or every active one with why not.
import t from 'tap'
import { memberRewards } from '../../src/modules/rewards/available.js'
import type { RewardRow } from '../../src/modules/rewards/tables.js'

const now = new Date('2026-12-03T03:00:00Z')
let n = 0
const reward = (over: Partial<RewardRow>): RewardRow => ({
  programId: 'p',
  id: `w${++n}`,
  name: 'r',
  pointsPrice: 100n,
  stockLeft: null,
  redemptions: 0n,
  validFrom: new Date('2026-01-01T00:00:00Z'),
  validTo: null,
  maxPerMember: null,
  givesKind: 'item',
  campaignId: null,
  sku: 'S',
  itemDescription: null,
  active: true,
  createdAt: now,
  createdBy: 'a',
  updatedAt: now,
  ...over,
})

const catalog = [
  reward({ name: 'pricey', pointsPrice: 500n }),
  reward({ name: 'tea', pointsPrice: 80n }),
  reward({ name: 'coffee', pointsPrice: 80n, maxPerMember: 2 }),
  reward({ name: 'gone', pointsPrice: 10n, stockLeft: 0n }),
  reward({ name: 'once', pointsPrice: 20n, maxPerMember: 1 }),
  reward({ name: 'retired', pointsPrice: 1n, active: false }),
  reward({ name: 'soon', pointsPrice: 1n, validFrom: new Date('2027-01-01T00:00:00Z') }),
  reward({ name: 'voucher', pointsPrice: 30n, givesKind: 'coupon', campaignId: 'c', sku: null }),
].map((r) => ({ reward: r, campaign: r.givesKind === 'coupon' ? { status: 'archived', ended: false, maxUsesPerCode: 1 } : null }))
const counts = new Map([
  [catalog[2]!.reward.id, 1],
  [catalog[4]!.reward.id, 1],
])

t.test('the available rewards, cheapest first, then by name', async (t) => {
  const list = memberRewards(catalog, counts, 100n, now, { all: false })
  t.same(
    list.map((r) => [r.reward.name, r.memberRedemptionsLeft]),
    [
      ['coffee', 1],
      ['tea', null],
    ],
  )
})

t.test('every active reward with the first reason why not and the points short', async (t) => {
  const list = memberRewards(catalog, counts, 100n, now, { all: true })
  t.same(
    list.map((r) => [r.reward.name, r.availability, r.pointsShort]),
    [
      ['soon', 'not_started', 0n],
      ['gone', 'out_of_stock', 0n],
      ['once', 'limit_reached', 0n],
      ['voucher', 'campaign_archived', 0n],
      ['coffee', 'available', 0n],
      ['tea', 'available', 0n],
      ['pricey', 'not_enough_points', 400n],
    ],
    'an inactive reward is not listed at all',
  )
})
