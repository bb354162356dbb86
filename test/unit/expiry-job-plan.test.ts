// The expire-points job's plan for one member (memberExpiryPlan) and the bounded fan-out the jobs use (forEachInFlight).
import t from 'tap'
import { accountId, memberPoints, memberStoredValue } from '../../src/modules/ledger/accounts.js'
import { memberExpiryPlan } from '../../src/modules/ledger/expiry-plan.js'
import { forEachInFlight } from '../../src/shared/in-flight.js'

const program = { id: '01a2352a-0000-7000-8000-000000000001', currency: 'VND' }
const member = '01a2352a-0000-7000-8000-000000000002'
const asOf = new Date('2026-12-02T17:00:00Z')
const at = { asOf, referenceId: `${member}:2026-12-03`, actor: 'job:expire-points', entryId: 'e1' }

t.test('nothing free to expire: no plan', async (t) => {
  t.equal(memberExpiryPlan(program, member, [], at), undefined)
})

t.test('the breakage entry, the exact shares and the marks, with the member wallets locked by the executor', async (t) => {
  const plan = memberExpiryPlan(program, member, [{ lotId: 'l1', points: 60n }, { lotId: 'l2', points: 40n }], at)!
  t.equal(plan.steps.points, 100n)
  t.same(plan.data.wallets, { memberId: member, points: accountId(program.id, memberPoints(member)), storedValue: accountId(program.id, memberStoredValue(member, 'VND')), currency: 'VND', exponent: 0 })
  t.equal(plan.data.program, program.id)
  t.same(plan.data.entries, [plan.steps.entry])
  t.match(plan.data.entries![0]!.entry, { id: 'e1', kind: 'expiry', referenceId: at.referenceId, createdBy: 'job:expire-points' })
  t.same(plan.data.lots, [
    { kind: 'shares', entryId: 'e1', shares: [{ lot_id: 'l1', points: '60', held: '0' }, { lot_id: 'l2', points: '40', held: '0' }] },
    { kind: 'expired', entryId: 'e1', lotIds: ['l1', 'l2'] },
  ])
  t.notOk('member' in plan.data || 'idempotency' in plan.data, 'a job plan: no member refusal, no idempotency record')
})

t.test('forEachInFlight: every item once, never more than the limit at once', async (t) => {
  let running = 0
  let most = 0
  const seen: number[] = []
  await forEachInFlight(Array.from({ length: 50 }, (_, i) => i), 7, async (i) => {
    running += 1
    most = Math.max(most, running)
    await new Promise((r) => setTimeout(r, i % 3))
    seen.push(i)
    running -= 1
  })
  t.same([...seen].sort((a, b) => a - b), Array.from({ length: 50 }, (_, i) => i))
  t.equal(most, 7)
  await forEachInFlight([], 7, async () => t.fail('no items, no visit'))
})

t.test('forEachInFlight: the first failure stops new visits and is thrown once the running ones end', async (t) => {
  const started: number[] = []
  let finished = 0
  await t.rejects(
    forEachInFlight([0, 1, 2, 3, 4, 5], 2, async (i) => {
      started.push(i)
      if (i === 1) throw new Error('boom')
      await new Promise((r) => setTimeout(r, 5))
      finished += 1
    }),
    { message: 'boom' },
  )
  t.same(started, [0, 1], 'nothing started after the failure')
  t.equal(finished, 1, 'the one running finished')
})
