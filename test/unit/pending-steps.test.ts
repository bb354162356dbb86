// A held sale, its capture, void and hold expiry as steps of a plan (src/db/apply.ts), pure: the
// holds placed reserving exact lot shares (authorize.ts placeSteps), then, from what the load saw
// (the purchase at its version, the lots the points hold reserves), each hold resolved against
// that reservation, the capture taking exactly the reserved shares it captures, released points
// already past due expired at once, coupons given back and the row updated (pending-steps.ts).
import t from 'tap'
import { earningRules, vndProgram } from '../helpers/plan-fixtures.js'
import { placeSteps } from '../../src/modules/purchases/authorize.js'
import { planPurchase, readSale } from '../../src/modules/purchases/plan.js'
import { planCapture, planHoldExpiry, planVoid, readCapture } from '../../src/modules/purchases/capture-plan.js'
import { captureSteps, purchaseUpdate, releasedLotsOf, releaseSteps, withTierAndReferral, type HeldLot } from '../../src/modules/purchases/pending-steps.js'
import { tierAndReferralSteps } from '../../src/modules/purchases/sale-steps.js'
import type { PurchaseCreate } from '../../src/modules/purchases/schemas.js'
import type { StoredHolds } from '../../src/modules/purchases/stored.js'
import type { ProgramRules } from '../../src/modules/programs/rules.js'
import { accountId, memberPoints, memberStoredValue } from '../../src/modules/ledger/accounts.js'

const posted = new Date('2026-12-01T10:00:00Z')
const now = new Date('2026-12-01T10:20:00Z')
const memberId = '00000000-0000-4000-8000-0000000000aa'
const program = vndProgram(posted)
const rules = (): ProgramRules => earningRules({ holdMinutes: 30, pointsExpiry: { afterDays: 365, roundUpTo: 'day', restoredGraceDays: 30 } })
const SV_HOLD = '00000000-0000-4000-8000-00000000a001'
const POINTS_HOLD = '00000000-0000-4000-8000-00000000b002'
const PURCHASE = '00000000-0000-4000-8000-0000000000b1'
const [L1, L2, L3] = ['00000000-0000-4000-8000-0000000001a1', '00000000-0000-4000-8000-0000000001a2', '00000000-0000-4000-8000-0000000001a3']
const lotsSeen = [
  { id: L2, expiresAt: new Date('2027-06-01T00:00:00Z'), remaining: 400n, held: 0n },
  { id: L1, expiresAt: new Date('2026-12-01T10:10:00Z'), remaining: 300n, held: 100n },
  { id: L3, expiresAt: null, remaining: 1000n, held: 0n },
]

/** 100,000: 50,000 stored value + 500 points (50,000), held. */
function held() {
  const input: PurchaseCreate = {
    memberId,
    storeId: 'S1',
    terminalId: 'T1',
    externalId: 'R-1',
    currency: 'VND',
    lines: [{ sku: 'A', name: 'A', quantity: 1, unitPrice: '100000' }],
    tenders: [
      { type: 'storedValue', amount: '50000' },
      { type: 'points', points: 500 },
    ],
    capture: false,
  }
  const plan = planPurchase({ program, rules: rules(), rulesEffectiveFrom: program.rulesEffectiveFrom, memberId, tierCode: null, coupons: [] }, readSale(program, { ...input, occurredAt: posted.toISOString() }, posted), input, {
    now: posted,
    actor: 'pos',
    purchaseId: PURCHASE,
    entryId: '00000000-0000-4000-8000-0000000000e1',
  })
  return placeSteps(program.id, plan, lotsSeen, { points: POINTS_HOLD, storedValue: SV_HOLD })
}

t.test('a held sale places its holds reserving exactly the free lot shares, soonest-expiring first, and names them on the row', async (t) => {
  const { holds, row } = held()
  const byKind = Object.fromEntries(holds.map((h) => [h.op === 'place' ? h.asset : '', h]))
  t.match(byKind.POINTS, { op: 'place', holdId: POINTS_HOLD, accountId: accountId(program.id, memberPoints(memberId)), amount: '500', referenceType: 'purchase', referenceId: PURCHASE, expiresAt: row.holdExpiresAt!.toISOString() })
  t.same((byKind.POINTS as { lots: unknown }).lots, [{ lot_id: L1, points: '200' }, { lot_id: L2, points: '300' }], 'the free part of the due lot, then the next')
  t.match(byKind.VND, { op: 'place', holdId: SV_HOLD, accountId: accountId(program.id, memberStoredValue(memberId, 'VND')), amount: '50000', lots: [] })
  const ids = holds.map((h) => (h.op === 'place' ? h.accountId : ''))
  t.same(ids, [...ids].sort(), 'in account-id order')
  t.same(row.holds, { points: { holdId: POINTS_HOLD, points: '500' }, storedValue: { holdId: SV_HOLD, amount: '50000' }, authorizedTotal: '100000' })
  t.equal(row.status, 'pending')
})

/** What the load sees once the hold is placed: its reservation on L1 (due at 10:10) and L2. */
const heldLots: HeldLot[] = [
  { holdId: POINTS_HOLD, lotId: L1, points: 200n, memberId, expiresAt: lotsSeen[1]!.expiresAt, remaining: 300n, held: 300n },
  { holdId: POINTS_HOLD, lotId: L2, points: 300n, memberId, expiresAt: lotsSeen[0]!.expiresAt, remaining: 400n, held: 300n },
]

t.test('a released hold gives each lot its reservation back', async (t) => {
  t.same(releasedLotsOf(heldLots, POINTS_HOLD).map((l) => [l.id, l.held, l.reserved]), [[L1, 100n, 200n], [L2, 0n, 300n]])
  t.same(releasedLotsOf(heldLots, SV_HOLD), [])
})

t.test('a row update sets exactly the columns changed, as the row after holds them', async (t) => {
  const { row } = held()
  const u = purchaseUpdate(row, { status: 'voided', total: 5n, updatedAt: now, holdExpiresAt: null })
  t.same(u.step, { op: 'update', table: 'purchases', key: { id: PURCHASE }, set: { status: 'voided', total: '5', updated_at: now.toISOString(), hold_expires_at: null } })
  t.equal(u.row.status, 'voided')
  t.equal(u.row.memberId, memberId)
})

t.test('a full capture: holds posted against what the load saw, the reserved shares taken exactly, nothing due left to expire', async (t) => {
  const { row } = held()
  const plan = planCapture(row, readCapture(row, undefined, program, now), { program, rules: rules() }, { now, entryId: 'e-cap' })
  const s = captureSteps(program.id, { row, version: '42', lots: heldLots }, plan, { now, actor: 'pos' })
  t.same(s.data.locks, [{ table: 'purchases', key: { id: PURCHASE }, version: '42', missing: { code: 'LL404', message: 'purchase_not_found' } }])
  t.same(s.data.holds, [
    { op: 'resolve', holdId: SV_HOLD, status: 'posted', postedAmount: '50000', postedEntryId: null, reserved: [] },
    { op: 'resolve', holdId: POINTS_HOLD, status: 'posted', postedAmount: '500', postedEntryId: null, reserved: [{ lot_id: L1, points: '200' }, { lot_id: L2, points: '300' }] },
  ])
  t.equal(s.data.entries!.length, 1, 'the capture entry alone')
  t.same(s.data.lots!.map((l) => l.kind), ['shares', 'open'])
  t.same(s.data.lots![0], { kind: 'shares', entryId: 'e-cap', shares: [{ lot_id: L1, points: '200', held: '0' }, { lot_id: L2, points: '300', held: '0' }] })
  t.match(s.data.lots![1], { kind: 'open', entryId: 'e-cap', points: '5', memberId })
  t.match(s.data.rows, [{ op: 'update', table: 'purchases', key: { id: PURCHASE }, set: { status: 'completed', points_redeemed: '500', entry_id: 'e-cap', hold_expires_at: null } }])
  t.equal(s.row.status, 'completed')
  t.same(s.data.wallets, { memberId, points: accountId(program.id, memberPoints(memberId)), storedValue: accountId(program.id, memberStoredValue(memberId, 'VND')), currency: 'VND', exponent: 0 })
})

t.test('a partial capture takes the soonest-expiring reserved part; what goes back to the due lot expires at once, before the earned lot opens', async (t) => {
  const { row } = held()
  const plan = planCapture(row, readCapture(row, '50000', program, now), { program, rules: rules() }, { now, entryId: 'e-cap' })
  t.equal(plan.purchase.pointsRedeemed, 250n)
  const s = captureSteps(program.id, { row, version: '42', lots: heldLots }, plan, { now, actor: 'pos' })
  t.same(s.data.lots!.map((l) => l.kind), ['shares', 'open'])
  t.same(s.data.lots![0], { kind: 'shares', entryId: 'e-cap', shares: [{ lot_id: L1, points: '200', held: '0' }, { lot_id: L2, points: '50', held: '0' }] })
  // L1 after the release: 300 remaining, 100 held by another hold, 200 taken by the capture: nothing free is due.
  t.equal(s.data.entries!.length, 1)
  const due: HeldLot[] = [{ ...heldLots[0]!, held: 200n }, heldLots[1]!]
  const d = captureSteps(program.id, { row, version: '42', lots: due }, planCapture(row, 40000n, { program, rules: rules() }, { now, entryId: 'e-cap' }), { now, actor: 'pos' })
  t.equal(d.data.entries!.length, 2, 'the capture, then the expiry of what it gave back to the due lot')
  t.match(d.data.entries![1]!.entry, { kind: 'expiry', referenceId: `hold:${POINTS_HOLD}`, effectiveAt: now.toISOString() })
  const expiry = d.data.lots!.find((l) => l.kind === 'shares' && l.entryId !== 'e-cap')
  t.same(expiry && expiry.kind === 'shares' ? expiry.shares : undefined, [{ lot_id: L1, points: '100', held: '0' }], 'L1: 300 remaining, nothing held, 200 taken: 100 free and due')
  t.same(d.data.lots!.map((l) => l.kind), ['shares', 'shares', 'expired', 'open'], 'the expiry before the earned lot opens')
})

t.test('a capture the reservation no longer covers (an overdraft cut it) takes the rest from free points', async (t) => {
  const { row } = held()
  const plan = planCapture(row, readCapture(row, undefined, program, now), { program, rules: rules() }, { now, entryId: 'e-cap' })
  const cut: HeldLot[] = [{ ...heldLots[1]!, points: 100n, held: 100n }]
  const s = captureSteps(program.id, { row, version: '1', lots: cut }, plan, { now, actor: 'pos' })
  t.same(s.data.lots!.map((l) => [l.kind, l.kind === 'consume' ? l.points : undefined]), [['shares', undefined], ['consume', '400'], ['open', undefined]])
})

t.test('a void resolves every hold against its reservation, expires released points already due, gives coupons back and voids the row', async (t) => {
  const { row } = held()
  const plan = planVoid(row, 'customer left', now)
  const redemption = { id: 'r1', campaignId: 'c1', code: 'SAVE', memberId, discount: 1000n, countsMemberUses: false }
  const s = releaseSteps(program.id, { row, version: '7', lots: heldLots }, plan, [redemption])
  t.same(s.data.holds!.map((h) => (h.op === 'resolve' ? [h.holdId, h.status, h.reserved] : [])), [
    [SV_HOLD, 'voided', []],
    [POINTS_HOLD, 'voided', [{ lot_id: L1, points: '200' }, { lot_id: L2, points: '300' }]],
  ])
  t.equal(s.data.entries!.length, 1, 'L1 is due at the void: its 200 released points expire')
  t.match(s.data.entries![0]!.entry, { kind: 'expiry', referenceId: `hold:${POINTS_HOLD}`, createdBy: 'purchase:void' })
  t.same(s.data.lots, [
    { kind: 'shares', entryId: s.data.entries![0]!.entry.id, shares: [{ lot_id: L1, points: '200', held: '0' }] },
    { kind: 'expired', entryId: s.data.entries![0]!.entry.id, lotIds: [L1] },
  ])
  t.match(s.data.rows[0], { op: 'update', table: 'purchases', set: { status: 'voided', warnings: [{ code: 'VOIDED', message: 'customer left' }] } })
  t.match(s.data.rows.slice(1), [{ table: 'coupon_redemptions', key: { id: 'r1' } }, { table: 'coupon_campaigns' }, { table: 'coupons' }])
  t.equal(s.row.status, 'voided')
})

t.test('the job ends an expired hold the same way, as expired, nothing due when no lot is', async (t) => {
  const { row } = held()
  const later = new Date(row.holdExpiresAt!.getTime() + 1)
  const plan = planHoldExpiry(row, later, later)!
  const fresh = heldLots.map((l) => ({ ...l, expiresAt: null }))
  const s = releaseSteps(program.id, { row, version: '7', lots: fresh }, plan, [])
  t.same(s.data.holds!.map((h) => (h.op === 'resolve' ? h.status : '')), ['expired', 'expired'])
  t.same(s.data.entries, [])
  t.same(s.data.lots, [])
  t.equal(s.data.rows.length, 1)
  t.match(s.row, { status: 'voided', warnings: [{ code: 'HOLD_EXPIRED' }] })
  t.same((s.row.holds as StoredHolds).points, { holdId: POINTS_HOLD, points: '500' })
})

t.test('a capture in a program with tiers and a referral rule: the member guard and tier lock after the purchase, the reward entry after the capture, its rows after the update', async (t) => {
  const { row } = held()
  const referrerId = '00000000-0000-4000-8000-0000000000bb'
  const tiers: NonNullable<ProgramRules['tiers']> = {
    metric: 'spend',
    windowMonths: 12,
    retentionMonths: 12,
    levels: [
      { code: 'base', name: 'Base', threshold: '0', earnMultiplier: '1', discountPercent: '0', birthdayBonusPoints: 0 },
      { code: 'gold', name: 'Gold', threshold: '1000000', earnMultiplier: '2', discountPercent: '10', birthdayBonusPoints: 0 },
    ],
  }
  const r = { ...rules(), tiers, referral: { referrerPoints: 100, refereePoints: 50 } }
  const plan = planCapture(row, readCapture(row, undefined, program, now), { program, rules: r }, { now, entryId: 'e-cap' })
  const s = captureSteps(program.id, { row, version: '42', lots: heldLots }, plan, { now, actor: 'pos' })
  const state = {
    memberVersion: '741',
    referredBy: referrerId,
    tier: { current: { code: 'base', version: '99' }, metricBefore: 950_000n, at: now },
    referral: { referredBy: referrerId, referrer: { erased: false }, rewarded: false, purchasedBefore: false },
  }
  const more = tierAndReferralSteps({ program, rules: r, memberId, state }, { purchaseId: PURCHASE, occurredAt: row.occurredAt, total: plan.purchase.total, pointsEarned: plan.purchase.pointsEarned }, now)
  t.equal(more.tierChange?.to, 'gold', 'the captured 100,000 takes the metric over 1,000,000')
  const w = withTierAndReferral(program.id, s, more)
  t.same(
    w.data.locks!.map((l) => l.table),
    ['purchases', 'members', 'member_tiers'],
  )
  t.same(
    w.data.entries!.map((e) => e.entry.kind),
    ['capture', 'bonus'],
  )
  t.same(w.data.entries!.slice(0, 1), s.data.entries, 'the capture entry as captureSteps made it')
  t.match(w.data.entries![1], { entry: { reason: 'referral', createdBy: 'referral' } })
  t.same(w.data.lots!.slice(0, s.data.lots!.length), s.data.lots, "the capture's lots first")
  t.same(
    w.data.lots!.slice(s.data.lots!.length).map((l) => l.kind),
    ['open', 'open'],
    "then the reward's two lots",
  )
  t.same(
    w.data.rows.map((x) => x.table),
    ['purchases', 'referral_rewards', 'member_tiers', 'tier_changes', 'members'],
  )
  t.ok(w.accountIds.length >= s.accountIds.length)
  t.same(w.data.holds, s.data.holds)
  t.same(w.data.member, s.data.member, 'the member checked, erased or not, as a capture did')
  t.same(w.row, s.row)
  const none = withTierAndReferral(program.id, s, { locks: [], entries: [], rows: [] })
  t.same(none, s, 'nothing to add: the capture as it was')
})
