// The group-commit policy (src/db/apply.ts), with a fake database: a lone plan leaves at once;
// plans arriving while groups are in flight wait and leave together in the next group; one
// plan's failure is its own; a deadlocked plan is sent again; a lost group fails every plan in it.
import t from 'tap'
import { PlanError, type PlanData } from '../../src/db/apply.js'
import { GroupApplier, type GroupRunner } from '../../src/db/groups.js'

type Outcomes = Awaited<ReturnType<GroupRunner>>
const plan = (n: number): PlanData => ({ program: `p${n}` })
const programsOf = (json: string) => (JSON.parse(json) as PlanData[]).map((p) => p.program)

/** A database whose answers the test releases one group at a time. */
function fakeDatabase(answer: (programs: string[]) => Outcomes | Error) {
  const sent: string[][] = []
  const pending: (() => void)[] = []
  const run: GroupRunner = (json) =>
    new Promise((resolve, reject) => {
      const programs = programsOf(json)
      sent.push(programs)
      pending.push(() => {
        const a = answer(programs)
        if (a instanceof Error) reject(a)
        else resolve(a)
      })
    })
  const releaseOne = async () => {
    pending.shift()?.()
    await new Promise((r) => setImmediate(r))
  }
  return { run, sent, releaseOne }
}
const ok = (programs: string[]): Outcomes => programs.map(() => ({ ok: { wallets: { pointsBalance: '0', pointsPending: '0', storedValueBalance: '0', storedValuePending: '0' }, member: null, events: [], facts: {} } }))

t.test('a lone plan is sent at once; plans arriving meanwhile leave together', async (t) => {
  const db = fakeDatabase(ok)
  const applier = new GroupApplier(db.run, { maxInFlight: 1, maxGroup: 3 })
  const first = applier.apply(plan(1))
  t.same(db.sent, [['p1']], 'sent without waiting for company')
  const later = [2, 3, 4, 5].map((n) => applier.apply(plan(n)))
  t.same(db.sent, [['p1']], 'the others wait while the group is in flight')
  await db.releaseOne()
  await first
  t.same(db.sent, [['p1'], ['p2', 'p3', 'p4']], 'the next group takes what waited, up to maxGroup')
  await db.releaseOne()
  t.same(db.sent[2], ['p5'])
  await db.releaseOne()
  await Promise.all(later)
  t.same(applier.stats, { groups: 3, plans: 5, largest: 3 })
})

t.test('two groups in flight when allowed', async (t) => {
  const db = fakeDatabase(ok)
  const applier = new GroupApplier(db.run, { maxInFlight: 2, maxGroup: 10 })
  const all = [1, 2, 3].map((n) => applier.apply(plan(n)))
  t.same(db.sent, [['p1'], ['p2']])
  await db.releaseOne()
  t.same(db.sent[2], ['p3'])
  await db.releaseOne()
  await db.releaseOne()
  await Promise.all(all)
})

t.test('one plan’s refusal is its own; a deadlocked plan is sent again, up to three times', async (t) => {
  let deadlocks = 0
  const db = fakeDatabase((programs) =>
    programs.map((p) => {
      if (p === 'p2') return { error: { code: 'LL100', message: 'insufficient_funds:VND', constraint: null } }
      if (p === 'p3' && deadlocks++ < 1) return { error: { code: '40P01', message: 'deadlock detected', constraint: null } }
      if (p === 'p4') return { error: { code: '40P01', message: 'deadlock detected', constraint: null } }
      return ok([p])[0]!
    }),
  )
  const applier = new GroupApplier(db.run, { maxInFlight: 1, maxGroup: 10 })
  const first = applier.apply(plan(0))
  const results = [1, 2, 3, 4].map((n) => applier.apply(plan(n)).then(() => 'ok', (e: unknown) => e))
  for (let i = 0; i < 5; i++) await db.releaseOne()
  await first
  const [r1, r2, r3, r4] = await Promise.all(results)
  t.equal(r1, 'ok')
  t.ok(r2 instanceof PlanError && r2.code === 'LL100', 'the refusal reaches its caller only')
  t.equal(r3, 'ok', 'a plan undone by a deadlock is applied on its second attempt')
  t.ok(r4 instanceof PlanError && r4.code === '40P01', 'a plan that keeps deadlocking fails after three attempts')
  t.same(db.sent.slice(1), [['p1', 'p2', 'p3', 'p4'], ['p3', 'p4'], ['p4']])
})

t.test('a group lost as a whole fails every plan in it, and the next group still goes', async (t) => {
  let calls = 0
  const db = fakeDatabase((programs) => (calls++ === 1 ? Object.assign(new Error('connection lost'), { code: 'CONNECTION_CLOSED' }) : ok(programs)))
  const applier = new GroupApplier(db.run, { maxInFlight: 1, maxGroup: 10 })
  const first = applier.apply(plan(1))
  const lost = [2, 3].map((n) => applier.apply(plan(n)).then(() => 'ok', (e: Error) => e.message))
  await db.releaseOne()
  await first
  const after = applier.apply(plan(4))
  await db.releaseOne()
  t.same(await Promise.all(lost), ['connection lost', 'connection lost'])
  await db.releaseOne()
  await after
  t.same(db.sent, [['p1'], ['p2', 'p3'], ['p4']])
})

t.test('an answer with the wrong number of outcomes fails the group instead of misrouting answers', async (t) => {
  const db = fakeDatabase(() => [])
  const applier = new GroupApplier(db.run, { maxInFlight: 1, maxGroup: 10 })
  const p = applier.apply(plan(1)).then(() => 'ok', (e: Error) => e.message)
  await db.releaseOne()
  t.equal(await p, 'll_apply answered 0 outcomes for 1 plans')
})

t.test('filled writes facts where the plan says, as ll_fill does, without touching the template', async (t) => {
  const { filled } = await import('../../src/db/apply.js')
  const template = { entry: { postings: [{ seq: 1, balanceAfter: null }, { seq: 2, balanceAfter: null }] }, balances: null, money: null }
  const out = filled(
    template,
    [
      { path: ['entry', 'postings', 1, 'balanceAfter'], fact: 'entry.0.2' },
      { path: ['balances'], fact: 'balances' },
      { path: ['money'], fact: 'entry.0.1', exponent: 2 },
    ],
    { 'entry.0.2': '120', 'entry.0.1': '-5', balances: { points: { balance: 1 } } },
  )
  t.same(out, { entry: { postings: [{ seq: 1, balanceAfter: null }, { seq: 2, balanceAfter: '120' }] }, balances: { points: { balance: 1 } }, money: '-0.05' })
  t.equal(template.balances, null, 'the template is not changed')
  t.throws(() => filled(template, [{ path: ['balances'], fact: 'points.available' }], {}), /unknown fact points.available/)
})

t.test('a group applies its plans in member order, one member’s plans in the order they came', async (t) => {
  const db = fakeDatabase(ok)
  const applier = new GroupApplier(db.run, { maxInFlight: 1, maxGroup: 10 })
  const first = applier.apply(plan(0))
  const member = (n: number, id: string): PlanData => ({ program: `p${n}`, member: { id, refuseErased: true } })
  const rest = [member(1, 'm3'), member(2, 'm1'), member(3, 'm3'), member(4, 'm2'), member(5, 'm1')].map((p) => applier.apply(p))
  await db.releaseOne()
  await first
  t.same(db.sent[1], ['p2', 'p5', 'p4', 'p1', 'p3'], 'm1, m2, m3: two groups never lock two members in opposite orders')
  await db.releaseOne()
  await Promise.all(rest)
})

t.test('a group is sent unguarded; only when a plan fails it is sent again guarded, and a lone plan’s failure is its answer', async (t) => {
  const calls: [string[], boolean][] = []
  const refusal = Object.assign(new Error('insufficient_funds:VND'), { code: 'LL100' })
  const run: GroupRunner = async (json, guarded) => {
    const programs = programsOf(json)
    calls.push([programs, guarded])
    if (!guarded && programs.includes('bad')) throw refusal
    return programs.map((p) => (p === 'bad' ? { error: { code: 'LL100', message: 'insufficient_funds:VND', constraint: null } } : ok([p])[0]!))
  }
  const applier = new GroupApplier(run, { maxInFlight: 1, maxGroup: 10 })
  const lone = await applier.apply({ program: 'bad' }).then(() => 'ok', (e: unknown) => e)
  t.ok(lone instanceof PlanError && lone.code === 'LL100', 'a lone plan: the thrown refusal is its outcome')
  const first = applier.apply({ program: 'p0' })
  const group = ['p1', 'bad', 'p2'].map((p) => applier.apply({ program: p }).then(() => 'ok', (e: PlanError) => e.code))
  await first
  t.same(await Promise.all(group), ['ok', 'LL100', 'ok'])
  t.same(calls, [[['bad'], false], [['p0'], false], [['p1', 'bad', 'p2'], false], [['p1', 'bad', 'p2'], true]])
  const lost = Object.assign(new Error('terminating connection due to administrator command'), { code: '57P01' })
  const down = new GroupApplier(async () => Promise.reject(lost), { maxInFlight: 1, maxGroup: 10 })
  t.equal(await down.apply({ program: 'x' }).then(() => 'ok', (e: Error) => e), lost, 'a server shutdown is not a plan’s refusal: the group fails as a whole')
})
