// The expire-points job's plan for one member (memberExpiryPlan) and the bounded fan-out the jobs use (forEachInFlight).
import t from 'tap'
import { accountId, memberPoints, memberStoredValue } from '../../src/modules/ledger/accounts.js'
import { memberExpiryPlan } from '../../src/modules/ledger/expiry-plan.js'
import { noticePlan } from '../../src/modules/ledger/expiry-notice.js'
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
  t.same(plan.data.member, { id: member, refuseErased: false }, 'named for the group order; an erased member still expires')
  t.notOk('idempotency' in plan.data, 'a job plan: no idempotency record')
})

t.test('the expiring-points notice: each lot marked once while it holds what the load saw, one event with the points and the earliest date', async (t) => {
  const events = { id: program.id, currency: 'VND', timezone: 'Asia/Ho_Chi_Minh', rules: {} }
  t.equal(noticePlan(events, member, [], asOf), undefined, 'nothing expiring soon: no plan')
  const later = new Date('2026-12-20T17:00:00Z')
  const sooner = new Date('2026-12-10T17:00:00Z')
  const plan = noticePlan(events, member, [{ id: 'l1', remaining: 70n, expiresAt: later }, { id: 'l2', remaining: 30n, expiresAt: sooner }], asOf)!
  t.same(plan.member, { id: member, refuseErased: false })
  t.same(plan.rows, [
    { op: 'update', table: 'points_lots', key: { id: 'l1' }, set: { expiry_notice_at: asOf.toISOString() }, expect: { expiry_notice_at: null, remaining: '70' } },
    { op: 'update', table: 'points_lots', key: { id: 'l2' }, set: { expiry_notice_at: asOf.toISOString() }, expect: { expiry_notice_at: null, remaining: '30' } },
  ])
  t.equal(plan.events!.length, 1)
  t.match(plan.events![0]!.row, {
    program_id: program.id,
    type: 'points.expiringSoon',
    category: 'transactional',
    member_id: member,
    payload: { memberId: member, points: 100, expiresAt: sooner.toISOString() },
    available_at: asOf.toISOString(),
    expires_at: null,
    endpoint_id: null,
  })
  t.notOk('entries' in plan || 'lots' in plan, 'no ledger change')
  t.equal(plan.wallets!.points, accountId(program.id, memberPoints(member)), 'the wallets locked before the lots, as a sale locks them')
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
  await forEachInFlight([], 7, async () => {
    t.fail('no items, no visit')
  })
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
