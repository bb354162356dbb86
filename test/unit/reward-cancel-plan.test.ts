// A redemption cancelled as one plan (rewards/cancel-plan.ts): refused once cancelled or once its
// coupon was used; otherwise the reversing entry giving the points back to their lots, the stock,
// count and counter given back, the coupon voided while unused, the redemption marked, its row locked.
import t from 'tap'
import { accountId, memberPoints, pointsRedeemed } from '../../src/modules/ledger/accounts.js'
import { cancellationPlan, cancellationRefusal, type LoadedRedemption } from '../../src/modules/rewards/cancel-plan.js'
import type { RewardRedemptionRow } from '../../src/modules/rewards/tables.js'

const program = { id: '01a2352a-0000-7000-8000-000000000001', currency: 'VND' }
const memberId = '01a2352a-0000-7000-8000-000000000002'
const now = new Date('2026-12-03T03:00:00Z')
const grace = new Date('2026-12-10T03:00:00Z')
const ctx = { now, actor: 'till-1', entryId: 'e2', restoredPointsExpireAt: grace }

const row = (over: Partial<RewardRedemptionRow> = {}): RewardRedemptionRow => ({
  programId: program.id,
  id: 'r1',
  rewardId: 'w1',
  memberId,
  rewardName: 'Phiếu 35k',
  points: 250n,
  entryId: 'e1',
  givesKind: 'coupon',
  couponCode: 'ABCDE12345',
  campaignId: 'c1',
  sku: null,
  itemDescription: null,
  status: 'active',
  createdAt: new Date('2026-12-01T00:00:00Z'),
  createdBy: 'till-1',
  cancelledAt: null,
  cancellationEntryId: null,
  ...over,
})
const loaded = (over: Partial<LoadedRedemption> = {}): LoadedRedemption => ({ row: row(), version: '901', counted: true, couponUses: 0, ...over })
const refusal = (fn: () => unknown) => {
  try {
    fn()
  } catch (err) {
    return (err as { code: string }).code
  }
  return undefined
}

t.test('refused once cancelled, or once its coupon was used', async (t) => {
  t.equal(refusal(() => cancellationPlan(program, loaded({ row: row({ status: 'cancelled' }) }), ctx)), 'REWARD_ALREADY_CANCELLED')
  t.equal(refusal(() => cancellationPlan(program, loaded({ couponUses: 1 }), ctx)), 'REWARD_ALREADY_USED')
})

t.test('the points back through an entry reversing the redemption’s, to the lots it took them from', async (t) => {
  const plan = cancellationPlan(program, loaded(), ctx)
  t.match(plan.data.entries![0]!.entry, { id: 'e2', kind: 'reward_cancellation', memberId, reversesEntryId: 'e1', referenceType: 'reward_redemption', referenceId: 'r1' })
  t.same(
    plan.data.entries![0]!.postings.map((p) => [p.accountId, p.amount]),
    [
      [accountId(program.id, pointsRedeemed()), '-250'],
      [accountId(program.id, memberPoints(memberId)), '250'],
    ],
  )
  t.match(plan.data.lots, [{ kind: 'restore', entryId: 'e2', memberId, points: '250', original: 'e1', expiresAt: grace.toISOString() }])
  t.same(plan.data.locks, [{ table: 'reward_redemptions', key: { id: 'r1' }, version: '901', missing: { code: 'LL404', message: 'redemption_not_found' } }])
  t.same(plan.data.member, { id: memberId, refuseErased: false })
})

t.test('stock, count and counter given back; the coupon voided only while unused; the row marked', async (t) => {
  const plan = cancellationPlan(program, loaded(), ctx)
  t.same(plan.data.rows, [
    { op: 'update', table: 'rewards', key: { id: 'w1' }, add: { stock_left: '1', redemptions: '-1' } },
    { op: 'update', table: 'reward_member_counts', key: { reward_id: 'w1', member_id: memberId }, add: { redemptions: '-1' } },
    { op: 'update', table: 'coupons', key: { code: 'ABCDE12345' }, set: { max_uses: 0 }, expect: { uses: 0 } },
    { op: 'update', table: 'reward_redemptions', key: { id: 'r1' }, set: { status: 'cancelled', cancelled_at: now.toISOString(), cancellation_entry_id: 'e2' }, expect: { status: 'active' } },
  ])
  t.match(plan.answer.redemption, { id: 'r1', status: 'cancelled', cancelledAt: now.toISOString(), cancellationEntryId: 'e2', gives: { kind: 'coupon', couponCode: 'ABCDE12345' } })
  const item = cancellationPlan(program, loaded({ row: row({ givesKind: 'item', couponCode: null, campaignId: null, sku: 'CF-01' }), counted: false, couponUses: null }), ctx)
  t.same(
    item.data.rows!.map((r) => r.table),
    ['rewards', 'reward_redemptions'],
    'an item without a limit per member: no counter, no coupon',
  )
})

t.test('the database’s refusals as the API answers them', async (t) => {
  t.equal(cancellationRefusal({ code: '23505', constraint: 'journal_entries_reverses_key' })?.code, 'REWARD_ALREADY_CANCELLED')
  t.equal(cancellationRefusal({ code: 'LL404' })?.code, 'REWARD_REDEMPTION_NOT_FOUND')
  t.equal(cancellationRefusal({ code: 'LL300' }), undefined, 'stale: planned again')
})
