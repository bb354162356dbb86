// A reward redeemed as one plan (rewards/redeem-plan.ts): what the member can redeem now and why
// not, the refusals in the order a redemption meets them, the entry, its lots and the row steps
// that hold stock and limits, and the database's refusals as the API answers them.
import t from 'tap'
import { accountId, memberPoints, pointsRedeemed } from '../../src/modules/ledger/accounts.js'
import { redemptionPlan, redemptionRefusal, rewardAvailability, type RewardState } from '../../src/modules/rewards/redeem-plan.js'
import type { RewardRow } from '../../src/modules/rewards/tables.js'

const program = { id: '01a2352a-0000-7000-8000-000000000001', currency: 'VND' }
const memberId = '01a2352a-0000-7000-8000-000000000002'
const now = new Date('2026-12-03T03:00:00Z')
const ctx = { now, actor: 'till-1', memberId, redemptionId: 'r1', entryId: 'e1', couponCode: 'ABCDE12345' }
const campaignId = '01a2352a-0000-7000-8000-0000000000cc'

const reward = (over: Partial<RewardRow> = {}): RewardRow => ({
  programId: program.id,
  id: '01a2352a-0000-7000-8000-0000000000aa',
  name: 'Cà phê sữa đá',
  pointsPrice: 100n,
  stockLeft: 5n,
  redemptions: 0n,
  validFrom: new Date('2026-01-01T00:00:00Z'),
  validTo: null,
  maxPerMember: null,
  givesKind: 'item',
  campaignId: null,
  sku: 'CF-01',
  itemDescription: 'Iced milk coffee',
  active: true,
  createdAt: now,
  createdBy: 'admin',
  updatedAt: now,
  ...over,
})
const state = (over: Partial<RewardState> = {}): RewardState => ({ reward: reward(), campaign: null, memberRedemptions: 0, pointsAvailable: 150n, ...over })
const couponReward = (over: Partial<RewardRow> = {}) => reward({ givesKind: 'coupon', campaignId, sku: null, itemDescription: null, ...over })
const refusal = (fn: () => unknown) => {
  try {
    fn()
  } catch (err) {
    const e = err as { code: string; extensions?: { reason?: string } }
    return e.extensions?.reason ? `${e.code}:${e.extensions.reason}` : e.code
  }
  return undefined
}

t.test('what a member can redeem now, and the first reason why not', async (t) => {
  const at = (s: RewardState) => rewardAvailability(s, now)
  t.same(at(state()), { availability: 'available', pointsShort: 0n, memberRedemptionsLeft: null })
  t.same(at(state({ pointsAvailable: 40n })), { availability: 'not_enough_points', pointsShort: 60n, memberRedemptionsLeft: null })
  t.equal(at(state({ reward: reward({ stockLeft: 0n }), pointsAvailable: 0n })).availability, 'out_of_stock', 'stock before points')
  t.same(at(state({ reward: reward({ maxPerMember: 2 }), memberRedemptions: 2 })), { availability: 'limit_reached', pointsShort: 0n, memberRedemptionsLeft: 0 })
  t.equal(at(state({ reward: reward({ maxPerMember: 2 }), memberRedemptions: 1 })).availability, 'available')
  t.equal(at(state({ reward: reward({ stockLeft: null }) })).availability, 'available', 'null stock is unlimited')
  t.equal(at(state({ reward: reward({ active: false, stockLeft: 0n }) })).availability, 'inactive', 'inactive before everything')
  t.equal(at(state({ reward: reward({ validFrom: new Date('2026-12-04T00:00:00Z') }) })).availability, 'not_started')
  t.equal(at(state({ reward: reward({ validTo: now }) })).availability, 'ended', 'the end is exclusive')
  t.equal(at(state({ reward: couponReward(), campaign: { status: 'archived', ended: false, maxUsesPerCode: 1 } })).availability, 'campaign_archived')
  t.equal(at(state({ reward: couponReward(), campaign: { status: 'active', ended: true, maxUsesPerCode: 1 } })).availability, 'campaign_ended')
})

t.test('refusals of what the load saw', async (t) => {
  t.equal(refusal(() => redemptionPlan(program, state({ pointsAvailable: 99n }), ctx)), 'INSUFFICIENT_FUNDS')
  t.equal(refusal(() => redemptionPlan(program, state({ reward: reward({ stockLeft: 0n }) }), ctx)), 'REWARD_OUT_OF_STOCK')
  t.equal(refusal(() => redemptionPlan(program, state({ reward: reward({ maxPerMember: 1 }), memberRedemptions: 1 }), ctx)), 'REWARD_LIMIT_REACHED')
  t.equal(refusal(() => redemptionPlan(program, state({ reward: reward({ active: false }) }), ctx)), 'REWARD_NOT_AVAILABLE:inactive')
  t.equal(refusal(() => redemptionPlan(program, state({ reward: reward({ validTo: new Date('2026-06-01T00:00:00Z') }) }), ctx)), 'REWARD_NOT_AVAILABLE:ended')
})

t.test('an item: the points debited to points redeemed from the member’s lots, the stock and count taken, the row', async (t) => {
  const plan = redemptionPlan(program, state(), ctx)
  t.same(plan.data.member, { id: memberId, refuseErased: true })
  t.match(plan.data.entries![0]!.entry, { id: 'e1', kind: 'reward_redemption', memberId, reason: 'Cà phê sữa đá', referenceType: 'reward_redemption', referenceId: 'r1', createdAt: now.toISOString() })
  t.same(
    plan.data.entries![0]!.postings.map((p) => [p.accountId, p.amount]),
    [
      [accountId(program.id, memberPoints(memberId)), '-100'],
      [accountId(program.id, pointsRedeemed()), '100'],
    ],
  )
  t.same(plan.data.lots, [{ kind: 'consume', entryId: 'e1', memberId, points: '100', preferEntry: null }])
  t.same(plan.data.rows![0], {
    op: 'update',
    table: 'rewards',
    key: { id: reward().id },
    add: { stock_left: '-1', redemptions: '1' },
    expect: { active: true, valid_from: '2026-01-01T00:00:00.000Z', valid_to: null },
  })
  t.equal(plan.data.rows!.length, 2, 'no counter without a limit per member, no coupon for an item')
  t.match(plan.data.rows![1], { op: 'insert', table: 'reward_redemptions', rows: [{ id: 'r1', entry_id: 'e1', points: '100', gives_kind: 'item', sku: 'CF-01', coupon_code: null, status: 'active' }] })
  t.same(plan.answer.redemption.gives, { kind: 'item', sku: 'CF-01', description: 'Iced milk coffee' })
  t.same(plan.fills, [{ path: ['balances'], fact: 'balances' }])
  t.equal(plan.couponCode, null)
})

t.test('a coupon issued to the member with the campaign’s uses; the member’s counter added to under its limit', async (t) => {
  const plan = redemptionPlan(program, state({ reward: couponReward({ maxPerMember: 3 }), campaign: { status: 'active', ended: false, maxUsesPerCode: 1 }, memberRedemptions: 2 }), ctx)
  t.same(
    plan.data.rows!.map((r) => r.table),
    ['rewards', 'reward_member_counts', 'coupons', 'reward_redemptions'],
    'the coupon before the redemption that references it',
  )
  t.same(plan.data.rows![1], {
    op: 'insert',
    table: 'reward_member_counts',
    rows: [{ program_id: program.id, reward_id: reward().id, member_id: memberId, redemptions: 1, max_redemptions: 3 }],
    onConflict: { columns: ['program_id', 'reward_id', 'member_id'], add: ['redemptions'] },
  })
  t.match(plan.data.rows![2], { op: 'insert', table: 'coupons', rows: [{ code: 'ABCDE12345', campaign_id: campaignId, member_id: memberId, uses: 0, max_uses: 1, reason: 'reward' }] })
  t.match(plan.data.rows![3], { rows: [{ coupon_code: 'ABCDE12345', campaign_id: campaignId, gives_kind: 'coupon' }] })
  t.same(plan.answer.redemption.gives, { kind: 'coupon', campaignId, couponCode: 'ABCDE12345' })
})

t.test('the database’s refusals as the API answers them', async (t) => {
  const r = reward({ maxPerMember: 2 })
  const code = (e: { code?: string; constraint?: string }) => redemptionRefusal(e, r)?.code
  t.equal(code({ code: '23514', constraint: 'rewards_stock_check' }), 'REWARD_OUT_OF_STOCK', 'the last unit went to another redemption')
  t.equal(code({ code: '23514', constraint: 'reward_member_counts_limit_check' }), 'REWARD_LIMIT_REACHED')
  t.equal(code({ code: 'LL100' }), 'INSUFFICIENT_FUNDS')
  t.equal(code({ code: 'LL201' }), 'MEMBER_NOT_FOUND')
  t.equal(code({ code: 'LL202' }), 'MEMBER_ERASED')
  t.equal(code({ code: 'LL300' }), undefined, 'a stale plan is planned again, not refused')
})
