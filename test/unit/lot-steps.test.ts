// The lot steps of an entry as a plan applies them: consume, named shares, an overdraft's exact
// shares and cuts decided from the loaded lots, a restore of what an earlier entry took, an open.
import t from 'tap'
import { accountId, memberPoints, pointsIssued, pointsRedeemed } from '../../src/modules/ledger/accounts.js'
import { lotSteps, overdraftMembers, type MemberLots } from '../../src/modules/ledger/lot-steps.js'
import { transfer, type EntryPlan } from '../../src/modules/ledger/planner.js'

const programId = '00000000-0000-4000-8000-000000000001'
const m = '00000000-0000-4000-8000-0000000000aa'
const entryId = '00000000-0000-4000-8000-0000000000e1'
const sale = '00000000-0000-4000-8000-0000000000e0'
const at = new Date('2026-12-01T10:00:00Z')
const day = (d: number) => new Date(Date.UTC(2027, 0, d))

const entry = (over: Partial<EntryPlan>): EntryPlan => ({ id: entryId, kind: 'return', effectiveAt: at, legs: [], ...over })
const clawback = (points: bigint) => transfer(memberPoints(m), pointsIssued(), points)
const giveBack = (points: bigint) => transfer(pointsRedeemed(), memberPoints(m), points)
const without = <T extends object>(x: T, key: keyof T) => Object.fromEntries(Object.entries(x).filter(([k]) => k !== key))

t.test('a debit consumes free points, the lots of consumeLotsOf first; a credit opens a lot', async (t) => {
  const steps = lotSteps(programId, entryId, entry({ consumeLotsOf: sale, legs: [...clawback(30n)] }))!
  t.same(steps, [{ kind: 'consume', entryId, memberId: m, points: '30', preferEntry: sale }])
  const opened = lotSteps(programId, entryId, entry({ pointsExpireAt: day(5), legs: [...transfer(pointsIssued(), memberPoints(m), 7n)] }))!
  t.equal(opened.length, 1)
  t.same(without(opened[0] as Record<string, unknown>, 'lotId'), {
    kind: 'open', memberId: m, entryId, points: '7', earnedAt: at.toISOString(), expiresAt: day(5).toISOString(), accountId: accountId(programId, memberPoints(m)),
  })
})

t.test('named shares are taken exactly first, the rest consumed; never more than the debit', async (t) => {
  const plan = entry({ takeLots: [{ lotId: 'L1', points: 4n }], legs: [...clawback(10n)] })
  t.same(lotSteps(programId, entryId, plan), [
    { kind: 'shares', entryId, shares: [{ lot_id: 'L1', points: '4', held: '0' }] },
    { kind: 'consume', entryId, memberId: m, points: '6', preferEntry: null },
  ])
  t.throws(() => lotSteps(programId, entryId, entry({ takeLots: [{ lotId: 'L1', points: 11n }], legs: [...clawback(10n)] })), RangeError)
})

t.test('points given back restore the lots the original entry took them from, after the debit', async (t) => {
  const plan = entry({ consumeLotsOf: sale, restoreLotsOf: sale, pointsExpireAt: day(9), legs: [...giveBack(50n), ...clawback(20n)] })
  const steps = lotSteps(programId, entryId, plan)!
  t.same(steps.map((s) => s.kind), ['consume', 'restore'], 'debit first, as applyLots did')
  t.same(without(steps[1] as Record<string, unknown>, 'lotId'), {
    kind: 'restore', entryId, memberId: m, points: '50', original: sale, effectiveAt: at.toISOString(), expiresAt: day(9).toISOString(), accountId: accountId(programId, memberPoints(m)),
  })
})

t.test('an overdraft needs the lots loaded and takes exactly what takeIntoHolds decides', async (t) => {
  const plan = entry({ allowOverdraft: true, consumeLotsOf: sale, legs: [...clawback(100n)] })
  t.same(overdraftMembers(plan), [m])
  t.same(overdraftMembers(entry({ legs: [...clawback(1n)] })), [], 'no overdraft, nothing to load')
  t.equal(lotSteps(programId, entryId, plan), null, 'not loaded: no steps')
  const loaded: MemberLots = {
    lots: [
      { id: 'soon', expiresAt: day(2), remaining: 50n, held: 40n, sourceEntryId: 'other' },
      { id: 'own', expiresAt: day(20), remaining: 30n, held: 0n, sourceEntryId: sale },
    ],
    reservations: [
      { holdId: 'h1', lotId: 'soon', points: 25n },
      { holdId: 'h2', lotId: 'soon', points: 15n },
    ],
  }
  t.same(lotSteps(programId, entryId, plan, new Map([[m, loaded]])), [
    // the sale's own lot (30 free) first, then the other lot's 10 free, then 40 held of it; the newest hold (h2) is cut first
    { kind: 'shares', entryId, shares: [{ lot_id: 'soon', points: '50', held: '40' }, { lot_id: 'own', points: '30', held: '0' }] },
    { kind: 'cuts', cuts: [{ hold_id: 'h2', lot_id: 'soon', points: '15' }, { hold_id: 'h1', lot_id: 'soon', points: '25' }] },
  ])
  const free: MemberLots = { lots: [{ id: 'own', expiresAt: null, remaining: 500n, held: 0n, sourceEntryId: sale }], reservations: [] }
  t.same(lotSteps(programId, entryId, plan, new Map([[m, free]])), [{ kind: 'shares', entryId, shares: [{ lot_id: 'own', points: '100', held: '0' }] }], 'no held points taken: no cuts')
  t.same(lotSteps(programId, entryId, plan, new Map([[m, { lots: [], reservations: [] }]])), [], 'no lots: the debit goes below zero without lot steps')
})
