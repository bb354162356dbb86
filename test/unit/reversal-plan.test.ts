// The reversal of an entry as one plan (ledger/reversal.ts): the refusals that need nothing more,
// the mirrored legs taking back from the lots the original opened and giving back to the lots it
// took from, the original locked at its version, the answer with the wallets' balances to fill.
import t from 'tap'
import { accountId, memberPoints, memberStoredValue, pointsIssued, pointsRedeemed, storedValueAdjustments } from '../../src/modules/ledger/accounts.js'
import { reversalData, reversalPlan, type OriginalEntry } from '../../src/modules/ledger/reversal.js'
import { entryFills, plannedEntryRecord } from '../../src/modules/ledger/entry-step.js'
import { planPostings } from '../../src/modules/ledger/planner.js'

const program = { id: '00000000-0000-4000-8000-000000000001', currency: 'VND' }
const m = '00000000-0000-4000-8000-0000000000aa'
const now = new Date('2026-12-01T10:00:00Z')
const ctx = { now, entryId: '00000000-0000-4000-8000-0000000000f2', actor: 'admin' }
const original = (over: Partial<OriginalEntry> = {}): OriginalEntry => ({
  id: '00000000-0000-4000-8000-0000000000e1',
  kind: 'purchase',
  version: '77',
  memberId: m,
  storeId: 'S1',
  referenceType: 'purchase',
  referenceId: 'p1',
  reversesEntryId: null,
  reversedByEntryId: null,
  // The sale: 40 points earned, 10 redeemed.
  postings: [
    { account: pointsIssued(), amount: -40n },
    { account: memberPoints(m), amount: 30n },
    { account: pointsRedeemed(), amount: 10n },
  ],
  ...over,
})
const refusal = (fn: () => unknown) => {
  try {
    fn()
  } catch (err) {
    return (err as { code: string }).code
  }
  return undefined
}

t.test('a reversal of a reversal, or of an entry already reversed, is refused', async (t) => {
  t.equal(refusal(() => reversalPlan(original({ reversesEntryId: 'x' }), { reason: 'r' }, ctx)), 'CANNOT_REVERSE_REVERSAL')
  t.equal(refusal(() => reversalPlan(original({ reversedByEntryId: 'y' }), { reason: 'r' }, ctx)), 'ALREADY_REVERSED')
})

t.test('a reward redemption is not reversed here: its cancellation gives the points, the stock and the coupon back together', async (t) => {
  t.equal(refusal(() => reversalPlan(original({ kind: 'reward_redemption' }), { reason: 'r' }, ctx)), 'CANNOT_REVERSE_REWARD_REDEMPTION')
})

t.test('the mirror of the original: its lots taken back first, what it took given back', async (t) => {
  const plan = reversalPlan(original(), { reason: 'mistake', allowOverdraft: false, restoredPointsExpireAt: null }, ctx)
  t.same(plan.legs.map((l) => l.amount), [40n, -30n, -10n])
  t.match(plan, { kind: 'reversal', reversesEntryId: original().id, consumeLotsOf: original().id, restoreLotsOf: original().id, memberId: m, referenceType: 'purchase', referenceId: 'p1', reason: 'mistake' })
  const r = reversalData(program, original(), new Map(), { reason: 'mistake' }, ctx)
  t.same(r.data.locks, [{ table: 'journal_entries', key: { id: original().id }, version: '77', missing: { code: 'LL404', message: 'entry_not_found' } }])
  t.same(r.data.lots!.map((l) => l.kind), ['consume'], 'the member’s points leave the lot the original opened')
  t.match(r.data.lots![0], { points: '30', preferEntry: original().id })
  t.match(r.data.wallets, { memberId: m, points: accountId(program.id, memberPoints(m)), storedValue: accountId(program.id, memberStoredValue(m, 'VND')) })
  t.equal(r.data.idempotency, undefined, 'the caller adds the key')
  t.match(r.answer, { id: ctx.entryId, kind: 'reversal', reversesEntryId: original().id, reversedByEntryId: null, createdAt: now.toISOString(), createdBy: 'admin' })
  const wallet = r.answer.postings.findIndex((p) => p.accountType === 'member_points')
  t.same(r.fills, [{ path: ['postings', wallet, 'balanceAfter'], fact: `entry.0.${r.answer.postings[wallet]!.seq}` }], 'only the member wallet has a balance after')
})

t.test('a reversal of a debit restores the lots; into an overdraft it takes exactly the loaded lots', async (t) => {
  const spend = original({ postings: [{ account: memberPoints(m), amount: -25n }, { account: pointsRedeemed(), amount: 25n }] })
  const restore = reversalData(program, spend, new Map(), { reason: 'r', restoredPointsExpireAt: new Date('2027-01-01T00:00:00Z') }, ctx)
  t.match(restore.data.lots, [{ kind: 'restore', points: '25', original: spend.id, expiresAt: '2027-01-01T00:00:00.000Z' }])
  const lots = new Map([[m, { lots: [{ id: 'own', expiresAt: null, remaining: 12n, held: 0n, sourceEntryId: original().id }], reservations: [] }]])
  const over = reversalData(program, original(), lots, { reason: 'r', allowOverdraft: true }, ctx)
  t.same(over.data.lots, [{ kind: 'shares', entryId: ctx.entryId, shares: [{ lot_id: 'own', points: '12', held: '0' }] }])
  t.throws(() => reversalData(program, original(), new Map(), { reason: 'r', allowOverdraft: true }, ctx), RangeError)
})

t.test('an entry as it will read once posted, and where its wallets’ balances are filled', async (t) => {
  const legs = [{ account: memberStoredValue(m, 'VND'), amount: 500n }, { account: storedValueAdjustments('VND'), amount: -500n }]
  const planned = planPostings(legs)
  const record = plannedEntryRecord(program.id, { id: 'e', kind: 'adjustment', effectiveAt: now, legs }, planned, { now, actor: 'a' })
  t.match(record, { id: 'e', kind: 'adjustment', effectiveAt: now.toISOString(), metadata: {}, reversesEntryId: null })
  const i = planned.findIndex((p) => p.account.type === 'member_stored_value')
  t.same(entryFills(planned, ['entry'], 2), [{ path: ['entry', 'postings', i, 'balanceAfter'], fact: `entry.2.${planned[i]!.seq}`, exponent: 0 }], 'money with its exponent')
})
