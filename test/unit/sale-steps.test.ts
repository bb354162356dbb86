// The pure pieces of a captured sale's plan beyond its own entry: coupon redemption steps and their
// refusals, the tier upgrade after the sale, the referral reward, and tierAndReferralSteps with its guard.
import t from 'tap'
import { vndProgram } from '../helpers/plan-fixtures.js'
import { couponLimitRefusal, couponRedeemSteps, type CouponLimits } from '../../src/modules/coupons/redeem-plan.js'
import { checkedCodes, resolvedCoupons, type CouponCampaignJoin } from '../../src/modules/coupons/resolve.js'
import type { ResolvedCoupon } from '../../src/modules/coupons/discounts.js'
import { defaultRules, type ProgramRules } from '../../src/modules/programs/rules.js'
import { referralRewardPlan, type ReferralState } from '../../src/modules/referrals/reward-plan.js'
import { metricAfterSale, metricTime, tierChangeSteps, tierProgress, upgradeIndex, type LoadedTier } from '../../src/modules/tiers/upgrade-plan.js'
import { racedAsStale, tierAndReferralSteps } from '../../src/modules/purchases/sale-steps.js'
import { authorizesInOne, heldSaleRules } from '../../src/modules/purchases/authorize.js'
import { STALE } from '../../src/db/apply.js'
import { needsMemberState } from '../../src/modules/purchases/sale-load.js'

const now = new Date('2026-12-01T10:00:00Z')
const program = vndProgram(now)
const memberId = '00000000-0000-4000-8000-0000000000aa'
const referrerId = '00000000-0000-4000-8000-0000000000bb'
const purchaseId = '00000000-0000-4000-8000-0000000000b1'
const tiers: NonNullable<ProgramRules['tiers']> = {
  metric: 'spend',
  windowMonths: 12,
  retentionMonths: 12,
  levels: [
    { code: 'base', name: 'Base', threshold: '0', earnMultiplier: '1', discountPercent: '0', birthdayBonusPoints: 0 },
    { code: 'gold', name: 'Gold', threshold: '1000000', earnMultiplier: '2', discountPercent: '10', birthdayBonusPoints: 0 },
  ],
}
const counter = () => {
  let i = 0
  return () => `00000000-0000-4000-8000-${(++i).toString().padStart(12, '0')}`
}
const coupon = (code: string, campaignId: string, over: Partial<ResolvedCoupon> = {}): ResolvedCoupon => ({
  code,
  campaignId,
  campaignName: code,
  kind: 'fixed',
  percentOff: null,
  amountOff: 5_000n,
  minSpend: 0n,
  maxUsesPerMember: null,
  assignedTo: null,
  ...over,
})

t.test('coupon redemption steps: campaigns by id (active only), codes by code, member counters, then the redemptions as given', async (t) => {
  const a = coupon('ZED', 'c2', { maxUsesPerMember: 2 })
  const b = coupon('ABC', 'c1', { maxUsesPerMember: 1 })
  const steps = couponRedeemSteps(program.id, { purchaseId, memberId, now }, [{ coupon: a, discount: 5000n }, { coupon: b, discount: 3000n }], counter())
  t.same(steps, [
    { op: 'update', table: 'coupon_campaigns', key: { id: 'c1' }, add: { budget_used: '3000', redemptions: '1' }, expect: { status: 'active' } },
    { op: 'update', table: 'coupon_campaigns', key: { id: 'c2' }, add: { budget_used: '5000', redemptions: '1' }, expect: { status: 'active' } },
    { op: 'update', table: 'coupons', key: { code: 'ABC' }, add: { uses: '1' } },
    { op: 'update', table: 'coupons', key: { code: 'ZED' }, add: { uses: '1' } },
    {
      op: 'insert',
      table: 'coupon_member_uses',
      rows: [{ program_id: program.id, campaign_id: 'c1', member_id: memberId, uses: 1, max_uses: 1 }],
      onConflict: { columns: ['program_id', 'campaign_id', 'member_id'], add: ['uses'] },
    },
    {
      op: 'insert',
      table: 'coupon_member_uses',
      rows: [{ program_id: program.id, campaign_id: 'c2', member_id: memberId, uses: 1, max_uses: 2 }],
      onConflict: { columns: ['program_id', 'campaign_id', 'member_id'], add: ['uses'] },
    },
    {
      op: 'insert',
      table: 'coupon_redemptions',
      rows: [
        { program_id: program.id, id: '00000000-0000-4000-8000-000000000001', purchase_id: purchaseId, campaign_id: 'c2', code: 'ZED', member_id: memberId, discount: '5000', status: 'active', created_at: now.toISOString(), released_at: null },
        { program_id: program.id, id: '00000000-0000-4000-8000-000000000002', purchase_id: purchaseId, campaign_id: 'c1', code: 'ABC', member_id: memberId, discount: '3000', status: 'active', created_at: now.toISOString(), released_at: null },
      ],
    },
  ])
  t.same(couponRedeemSteps(program.id, { purchaseId, memberId, now }, []), [], 'no coupons, no steps')
  t.throws(() => couponRedeemSteps(program.id, { purchaseId, memberId, now }, [{ coupon: a, discount: -1n }]), RangeError)
})

t.test('a limit crossed in the plan is refused as COUPON_* naming the tightest coupon', async (t) => {
  const a = { coupon: coupon('AAA', 'c1', { maxUsesPerMember: 3 }), discount: 5000n }
  const b = { coupon: coupon('BBB', 'c2', { maxUsesPerMember: 1 }), discount: 2000n }
  const limits: CouponLimits[] = [
    { code: 'AAA', usesLeft: 1n, budgetLeft: 4000n, memberUsesLeft: 3n },
    { code: 'BBB', usesLeft: 5n, budgetLeft: null, memberUsesLeft: 1n },
  ]
  const code = (constraint: string) => {
    const e = couponLimitRefusal(constraint, [b, a], limits)
    return e && { status: e.status, code: e.code, coupon: (e.extensions as { couponCode: string }).couponCode }
  }
  t.same(code('coupon_campaigns_budget_check'), { status: 409, code: 'COUPON_BUDGET_EXHAUSTED', coupon: 'AAA' }, 'the only campaign with a budget')
  t.same(code('coupons_uses_check'), { status: 409, code: 'COUPON_USED_UP', coupon: 'AAA' }, 'the code with the fewest uses left')
  t.same(code('coupon_member_uses_uses_check'), { status: 409, code: 'COUPON_MEMBER_LIMIT_REACHED', coupon: 'BBB' })
  t.same(code('coupon_redemptions_purchase_campaign_key'), { status: 422, code: 'COUPON_DUPLICATE', coupon: 'BBB' })
  t.equal(couponLimitRefusal('purchases_program_store_external_key', [a], limits), undefined, 'not a coupon limit')
  t.equal(couponLimitRefusal(undefined, [a], limits), undefined)
  t.equal((couponLimitRefusal('coupons_uses_check', [a], [])?.extensions as { couponCode: string }).couponCode, 'AAA', 'limits unknown: the first in lock order')
})

t.test('codes checked, then resolved against the loaded rows', async (t) => {
  t.same(checkedCodes(['abc', 'Def']), ['ABC', 'DEF'])
  t.throws(() => checkedCodes(['a', 'A']), { code: 'COUPON_DUPLICATE' })
  t.throws(() => checkedCodes(['1', '2', '3', '4', '5', '6']), { code: 'VALIDATION_FAILED' })
  const row = (code: string, over: Partial<CouponCampaignJoin> = {}): CouponCampaignJoin => ({
    code,
    campaign_id: 'c1',
    member_id: null,
    name: 'Promo',
    kind: 'fixed',
    percent_off: null,
    amount_off: '5000',
    min_spend: '0',
    max_uses_per_member: 2,
    status: 'active',
    started: true,
    ended: false,
    ...over,
  })
  t.match(resolvedCoupons(['ABC'], [row('ABC')], memberId), [{ code: 'ABC', campaignId: 'c1', amountOff: 5000n, maxUsesPerMember: 2 }])
  t.throws(() => resolvedCoupons(['ABC'], [], memberId), { code: 'COUPON_NOT_FOUND' })
  t.throws(() => resolvedCoupons(['ABC'], [row('ABC', { status: 'archived' })], memberId), { code: 'COUPON_NOT_ACTIVE' })
  t.throws(() => resolvedCoupons(['ABC'], [row('ABC', { ended: true })], memberId), { code: 'COUPON_NOT_ACTIVE' })
  t.throws(() => resolvedCoupons(['ABC'], [row('ABC', { member_id: referrerId })], memberId), { code: 'COUPON_NOT_FOR_MEMBER' })
  t.throws(() => resolvedCoupons(['ABC', 'DEF'], [row('ABC'), row('DEF')], memberId), { code: 'COUPON_DUPLICATE' }, 'one campaign twice')
})

const loadedTier = (metricBefore: bigint, current: LoadedTier['current'] = null): LoadedTier => ({ current, metricBefore, at: now })

t.test('the tier metric after the sale, and the upgrade it reaches', async (t) => {
  const sale = { occurredAt: now, total: 300_000n, pointsEarned: 30n }
  t.equal(metricAfterSale(tiers, program.timezone, loadedTier(800_000n), sale), 1_100_000n, 'spend: the sale’s total added')
  t.equal(metricAfterSale({ ...tiers, metric: 'pointsEarned' }, program.timezone, loadedTier(80n), sale), 110n, 'points: what the sale earned')
  t.equal(metricAfterSale(tiers, program.timezone, loadedTier(800_000n), { ...sale, occurredAt: new Date('2025-11-01T00:00:00Z') }), 800_000n, 'a sale before the window does not count')
  t.equal(metricTime(new Date('2026-12-01T10:03:00Z'), now).toISOString(), '2026-12-01T10:03:00.000Z', 'a sale slightly ahead is measured when it happened')
  t.equal(upgradeIndex(tiers, null, 0n, 0), 0, 'the base tier from nothing')
  t.equal(upgradeIndex(tiers, 'base', 999_999n, 0), undefined, 'below the next threshold')
  t.equal(upgradeIndex(tiers, 'base', 1_000_000n, 0), 1, 'the threshold reached')
  t.equal(upgradeIndex(tiers, 'gold', 5_000_000n, 0), undefined, 'at the top')
  t.same(tierProgress(tiers, 'base', 400_000n, 0), { name: 'Base', next: { name: 'Gold', remaining: 600_000n, unit: 'money' } })
  t.same(tierProgress(tiers, 'gold', 1_400_000n, 0), { name: 'Gold', next: null })
  t.equal(tierProgress(tiers, null, 0n, 0), null)
})

t.test('tier change rows and tier.changed: an update from the tier loaded, or an insert', async (t) => {
  const up = tierChangeSteps(program, tiers, { memberId, current: 'base', hasRow: true, toIndex: 1, metric: 1_200_000n, at: now, purchaseId }, counter())
  t.same(up.rows[0], {
    op: 'update',
    table: 'member_tiers',
    key: { member_id: memberId },
    set: { tier_code: 'gold', since: now.toISOString(), guaranteed_until: '2027-12-01T10:00:00.000Z', updated_at: now.toISOString() },
    expect: { tier_code: 'base' },
  })
  t.same(up.rows[1], {
    op: 'insert',
    table: 'tier_changes',
    rows: [{ program_id: program.id, id: '00000000-0000-4000-8000-000000000001', member_id: memberId, from_tier: 'base', to_tier: 'gold', reason: 'upgrade', metric: '1200000', at: now.toISOString(), purchase_id: purchaseId }],
  })
  t.match(up.event, { program_id: program.id, type: 'tier.changed', member_id: memberId, payload: { memberId, from: 'base', to: 'gold', direction: 'up', reason: 'upgrade' } })
  t.same(up.change, { memberId, from: 'base', to: 'gold', reason: 'upgrade', metric: 1_200_000n, at: now })
  const first = tierChangeSteps(program, tiers, { memberId, current: null, hasRow: false, toIndex: 0, metric: 100n, at: now, purchaseId })
  t.match(first.rows[0], { op: 'insert', table: 'member_tiers', rows: [{ program_id: program.id, member_id: memberId, tier_code: 'base' }] })
})

const referred: ReferralState = { referredBy: referrerId, referrer: { erased: false }, rewarded: false, purchasedBefore: false }
const referralRules = { ...defaultRules(), referral: { referrerPoints: 100, refereePoints: 50 } }

t.test('the referral reward: both credited in one entry on the first purchase, once', async (t) => {
  const sale = { refereeId: memberId, purchaseId, at: now, entryId: 'e1' }
  const reward = referralRewardPlan(program, referralRules, referred, sale)!
  t.same(reward.row, { program_id: program.id, referee_id: memberId, referrer_id: referrerId, purchase_id: purchaseId, entry_id: 'e1', referee_points: '50', referrer_points: '100', created_at: now.toISOString() })
  t.match(reward.entry, { id: 'e1', kind: 'bonus', memberId, reason: 'referral', referenceType: 'referral', referenceId: memberId, metadata: { referrerId, purchaseId } })
  t.equal(reward.entry!.legs.length, 4, 'two transfers: the referee and the referrer')
  t.equal(referralRewardPlan(program, referralRules, { ...referred, rewarded: true }, sale), null, 'rewarded already')
  t.equal(referralRewardPlan(program, referralRules, { ...referred, purchasedBefore: true }, sale), null, 'not the first purchase')
  t.equal(referralRewardPlan(program, referralRules, { ...referred, referredBy: null, referrer: null }, sale), null, 'not referred')
  t.equal(referralRewardPlan(program, defaultRules(), referred, sale), null, 'no referral rule')
  const erased = referralRewardPlan(program, referralRules, { ...referred, referrer: { erased: true } }, sale)!
  t.equal(erased.referrerPoints, 0n, 'an erased referrer gets nothing')
  t.equal(erased.entry!.legs.length, 2)
  const none = referralRewardPlan(program, { ...defaultRules(), referral: { referrerPoints: 0, refereePoints: 0 } }, referred, sale)!
  t.equal(none.entry, undefined, 'zero points: no entry')
  t.equal(none.row.entry_id, null, 'recorded without an entry')
})

t.test('tierAndReferralSteps: the member locked at its version and written back, the tier row locked, the reward and the upgrade', async (t) => {
  const rules = { ...referralRules, tiers }
  const state = { memberVersion: '741', referredBy: referrerId, tier: loadedTier(900_000n, { code: 'base', version: '99' }), referral: referred }
  const sale = { purchaseId, occurredAt: now, total: 200_000n, pointsEarned: 20n }
  const out = tierAndReferralSteps({ program, rules, memberId, state }, sale, now, counter())
  t.same(out.locks, [
    { table: 'members', key: { id: memberId }, version: '741' },
    { table: 'member_tiers', key: { member_id: memberId }, version: '99' },
  ])
  t.same(
    out.rows.map((r) => r.table),
    ['referral_rewards', 'member_tiers', 'tier_changes', 'members'],
  )
  t.same(out.rows.at(-1), { op: 'update', table: 'members', key: { id: memberId }, set: { referred_by: referrerId } }, 'the guard writes the row back unchanged')
  t.equal(out.entries.length, 1, 'the referral bonus entry')
  t.equal(out.events.length, 1, 'tier.changed')
  t.same(out.tierLine, { name: 'Gold', next: null })
  t.equal(out.tierChange?.to, 'gold')

  const below = tierAndReferralSteps({ program, rules: { ...defaultRules(), tiers }, memberId, state: { ...state, referral: undefined } }, { ...sale, total: 50_000n }, now)
  t.same(below.rows.map((r) => r.table), ['members'], 'no upgrade: only the guard')
  t.same(below.tierLine, { name: 'Base', next: { name: 'Gold', remaining: 50_000n, unit: 'money' } })
  t.equal(below.tierChange, undefined)

  const top = tierAndReferralSteps({ program, rules, memberId, state: { ...state, tier: loadedTier(3_000_000n, { code: 'gold', version: '99' }), referral: { ...referred, rewarded: true } } }, sale, now)
  t.same(top.locks, [{ table: 'member_tiers', key: { member_id: memberId }, version: '99' }], 'at the top tier, rewarded: nothing to guard but the tier the price used')
  t.same(top.rows, [], 'no guard written')
  const firstPurchase = tierAndReferralSteps({ program, rules: referralRules, memberId, state: { ...state, tier: undefined, referredBy: null, referral: { ...referred, referredBy: null, referrer: null } } }, sale, now)
  t.same(firstPurchase.locks, [{ table: 'members', key: { id: memberId }, version: '741' }], 'not referred, first purchase: guarded against a referrer named meanwhile')
  t.same(firstPurchase.rows, [{ op: 'update', table: 'members', key: { id: memberId }, set: { referred_by: null } }])

  const plain = tierAndReferralSteps({ program, rules: defaultRules(), memberId, state: { memberVersion: null, referredBy: null, tier: undefined, referral: undefined } }, sale, now)
  t.same(plain, { locks: [], entries: [], rows: [], events: [], tierLine: null, tierChange: undefined, reward: null }, 'a plain program: nothing')
  t.notOk(needsMemberState(defaultRules()), 'a plain program loads nothing of the member')
  t.ok(needsMemberState({ tiers, referral: null }))
})

t.test('a key a concurrent reward or tier change took first is a stale plan; other constraints are not', async (t) => {
  t.equal(racedAsStale('referral_rewards_pkey')?.code, STALE)
  t.equal(racedAsStale('member_tiers_pkey')?.code, STALE)
  t.equal(racedAsStale('coupons_uses_check'), undefined)
  t.equal(racedAsStale(undefined), undefined)
})

t.test('a held sale by member id takes the plan, coupons and tiers included; it reads the tier, never a referral', async (t) => {
  const base = { storeId: 'S1', currency: 'VND', lines: [], tenders: [] } as unknown as Parameters<typeof authorizesInOne>[0]
  t.ok(authorizesInOne({ ...base, memberId, capture: false, couponCodes: ['A'] }))
  t.notOk(authorizesInOne({ ...base, memberId, capture: true }), 'captured: applied.ts')
  t.notOk(authorizesInOne({ ...base, phone: '0900000000', capture: false }), 'by phone: the pipelined path')
  const held = heldSaleRules({ ...referralRules, tiers })
  t.equal(held.referral, null)
  t.same(held.tiers, tiers)
  t.notOk(needsMemberState(heldSaleRules(referralRules)), 'a referral program without tiers loads nothing of the member for a held sale')
})
