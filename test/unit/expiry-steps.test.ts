// expirySteps: points expiring as a plan's steps (one breakage entry, exact shares, lots marked).
import t from 'tap'
import { accountId, memberPoints, pointsBreakage } from '../../src/modules/ledger/accounts.js'
import { expirySteps } from '../../src/modules/ledger/expiry-steps.js'

const program = '01a2352a-0000-7000-8000-000000000001'
const member = '01a2352a-0000-7000-8000-000000000002'
const asOf = new Date('2026-12-02T17:00:00Z')

t.test('no points, no steps', async (t) => {
  t.equal(expirySteps(program, member, [], { asOf, referenceId: 'x', actor: 'job' }), undefined)
  t.equal(expirySteps(program, member, [{ lotId: 'l1', points: 0n }], { asOf, referenceId: 'x', actor: 'job' }), undefined)
})

t.test('one breakage entry for the shares, which are taken exactly and marked expired by it', async (t) => {
  const s = expirySteps(program, member, [{ lotId: 'l1', points: 70n }, { lotId: 'l2', points: 30n }], { asOf, referenceId: `hold:h1`, actor: 'api', entryId: 'e1' })!
  t.equal(s.points, 100n)
  t.equal(s.entryId, 'e1')
  t.match(s.entry.entry, { id: 'e1', kind: 'expiry', memberId: member, referenceType: 'points_expiry', referenceId: 'hold:h1', effectiveAt: asOf.toISOString(), createdBy: 'api' })
  const byAccount = Object.fromEntries(s.entry.postings.map((p) => [p.accountId as string, p.amount]))
  t.same(byAccount, { [accountId(program, memberPoints(member))]: '-100', [accountId(program, pointsBreakage())]: '100' })
  t.same(s.lots, [
    { kind: 'shares', entryId: 'e1', shares: [{ lot_id: 'l1', points: '70', held: '0' }, { lot_id: 'l2', points: '30', held: '0' }] },
    { kind: 'expired', entryId: 'e1', lotIds: ['l1', 'l2'] },
  ])
})
