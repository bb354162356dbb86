// POST /v1/jobs/{name}/runs and GET /v1/jobs[/{name}/runs]: the claim by date, replays, failures
// and retries, take-over of a stalled run, errors and scopes.
import t from 'tap'
import { sql } from 'drizzle-orm'
import { queryRows } from '../../../src/db/client.js'
import { jobs } from '../../../src/modules/jobs/registry.js'
import { newId } from '../../../src/shared/ids.js'
import { startTestApp, type ProgramFixture } from '../../helpers/app.js'
import { TestClock } from '../../helpers/clock.js'
import { Till, VND_RULES } from '../../helpers/pos.js'

// The service lives at the end of 2027, so every date these runs use is past (a run may not be dated later than now).
const clock = new TestClock()
clock.set(new Date('2027-12-31T12:00:00Z'))
const ctx = await startTestApp(t, {}, { now: clock.now })
const program = await ctx.createProgram({ rules: { ...VND_RULES, holdMinutes: 30 } })

// A job that fails on its first attempt, registered the way real jobs are (this process only).
let flakyCalls = 0
jobs.push({
  name: 'test-flaky',
  description: 'fails its first attempt',
  daily: true,
  run: async () => {
    flakyCalls += 1
    if (flakyCalls === 1) throw new Error('connection to 10.0.0.7 refused (an internal detail)')
    return { done: 1 }
  },
  preview: async () => ({ result: {}, affected: [], affectedTotal: 0 }),
})

const run = (p: ProgramFixture, job: string, body?: unknown, token = p.token) => ctx.call(token, 'POST', `/v1/jobs/${job}/runs`, body)
const runsOf = async (p: ProgramFixture, job: string, query = '') => (await ctx.call(p.token, 'GET', `/v1/jobs/${job}/runs${query}`)).json()

t.test('GET /v1/jobs lists the registered jobs', async (t) => {
  const res = await ctx.call(program.token, 'GET', '/v1/jobs')
  t.equal(res.statusCode, 200)
  const byName = Object.fromEntries(res.json().data.map((j: { name: string; daily: boolean }) => [j.name, j.daily]))
  t.equal(byName['birthday-rewards'], true)
  t.equal(byName['void-expired-holds'], false)
})

t.test('an unknown job is 404 JOB_NOT_FOUND', async (t) => {
  for (const res of [await run(program, 'no-such-job', { asOf: '2027-01-01' }), await ctx.call(program.token, 'GET', '/v1/jobs/no-such-job/runs')]) {
    t.equal(res.statusCode, 404)
    t.equal(res.headers['content-type'], 'application/problem+json')
    t.equal(res.json().code, 'JOB_NOT_FOUND')
  }
})

t.test('a bad asOf is 422 INVALID_AS_OF; a malformed body is 400', async (t) => {
  for (const asOf of ['2027-02-30', 'tomorrow', '2027-03-15T10:00:00', '15/03/2027']) {
    const res = await run(program, 'birthday-rewards', { asOf })
    t.equal(res.statusCode, 422, asOf)
    t.match(res.json(), { code: 'INVALID_AS_OF', errors: [{ path: 'body/asOf' }] })
  }
  t.equal((await run(program, 'birthday-rewards', { asOf: 20270315 })).statusCode, 400)
  t.equal((await run(program, 'birthday-rewards', { when: '2027-03-15' })).statusCode, 400, 'unknown fields are rejected')
  t.same((await runsOf(program, 'birthday-rewards')).data, [], 'nothing ran')
})

t.test('runs need program:manage and a program client', async (t) => {
  const pos = await ctx.createClient(program.id, ['pos'])
  t.equal((await run(program, 'birthday-rewards', { asOf: '2027-01-01' }, pos.token)).statusCode, 403)
  t.equal((await ctx.call(pos.token, 'GET', '/v1/jobs')).statusCode, 403)
  t.equal((await run(program, 'birthday-rewards', { asOf: '2027-01-01' }, await ctx.adminToken())).statusCode, 403, 'the platform admin has no program')
  t.equal((await ctx.call(undefined, 'POST', '/v1/jobs/birthday-rewards/runs', {})).statusCode, 401)
})

t.test('without asOf a job runs as of now; a body is optional', async (t) => {
  const p = await ctx.createProgram()
  const res = await ctx.inject({ method: 'POST', url: '/v1/jobs/birthday-rewards/runs', headers: { authorization: `Bearer ${p.token}` } })
  t.equal(res.statusCode, 201)
  const body = res.json()
  t.match(body, { status: 'succeeded', replayed: false, runDate: /^\d{4}-\d{2}-\d{2}$/ })
  t.equal(body.asOf, clock.now().toISOString(), 'asOf is the service’s now')
  t.equal(body.runDate, '2027-12-31', 'today in the program zone')
})

t.test('a failed run answers 500 JOB_FAILED, is recorded, and is retried by the next run of that date', async (t) => {
  const p = await ctx.createProgram()
  const failed = await run(p, 'test-flaky', { asOf: '2027-01-05' })
  t.equal(failed.statusCode, 500)
  t.match(failed.json(), { code: 'JOB_FAILED', run: { job: 'test-flaky', runDate: '2027-01-05', status: 'failed', attempts: 1, result: null } })
  t.notMatch(failed.body, /10\.0\.0\.7/, 'internal error text is not shown to the program')
  t.match((await runsOf(p, 'test-flaky')).data, [{ id: failed.json().run.id, status: 'failed', error: /failed/ }])

  const retried = await run(p, 'test-flaky', { asOf: '2027-01-05T12:00:00+07:00' })
  t.equal(retried.statusCode, 201)
  t.match(retried.json(), { id: failed.json().run.id, status: 'succeeded', attempts: 2, result: { done: 1 }, error: null, replayed: false })
  const replay = await run(p, 'test-flaky', { asOf: '2027-01-05' })
  t.equal(replay.statusCode, 200)
  t.match(replay.json(), { id: failed.json().run.id, status: 'succeeded', attempts: 2, replayed: true })
  t.equal(flakyCalls, 2, 'the replay ran nothing')
})

t.test('a run stalled past its lease is taken over; a live one is not', async (t) => {
  const p = await ctx.createProgram()
  const stalled = newId()
  const live = newId()
  await queryRows(
    ctx.database.db,
    sql`insert into job_runs (program_id, id, job, run_date, as_of, status, attempts, claimed_by, started_at, heartbeat_at) values
        (${p.id}::uuid, ${stalled}::uuid, 'birthday-rewards', '2027-05-05', '2027-05-04T17:00:00Z', 'running', 1, 'crashed-instance', now() - interval '11 minutes', now() - interval '11 minutes'),
        (${p.id}::uuid, ${live}::uuid, 'birthday-rewards', '2027-05-06', '2027-05-05T17:00:00Z', 'running', 1, 'busy-instance', now() - interval '11 minutes', now())`,
  )
  const takeOver = await run(p, 'birthday-rewards', { asOf: '2027-05-05' })
  t.equal(takeOver.statusCode, 201)
  t.match(takeOver.json(), { id: stalled, status: 'succeeded', attempts: 2, replayed: false })
  const busy = await run(p, 'birthday-rewards', { asOf: '2027-05-06' })
  t.equal(busy.statusCode, 200, 'another instance is running it: nothing runs here')
  t.match(busy.json(), { id: live, status: 'running', attempts: 1, replayed: true, finishedAt: null })
})

t.test('runs are listed newest first, paged, and only the caller’s program', async (t) => {
  const p = await ctx.createProgram()
  const other = await ctx.createProgram()
  for (const asOf of ['2027-09-01', '2027-09-02', '2027-09-03']) t.equal((await run(p, 'birthday-rewards', { asOf })).statusCode, 201)
  await run(other, 'birthday-rewards', { asOf: '2027-09-04' })
  const first = await runsOf(p, 'birthday-rewards', '?limit=2')
  t.same(
    first.data.map((r: { runDate: string }) => r.runDate),
    ['2027-09-03', '2027-09-02'],
  )
  t.type(first.nextCursor, 'string')
  const second = await runsOf(p, 'birthday-rewards', `?limit=2&cursor=${first.nextCursor}`)
  t.same(
    second.data.map((r: { runDate: string }) => r.runDate),
    ['2027-09-01'],
  )
  t.equal(second.nextCursor, null)
})

t.test('void-expired-holds is not daily: each run sweeps the program’s expired holds as of its instant', async (t) => {
  const till = new Till(ctx, program.token)
  const m = await ctx.enrol(program.token)
  await till.grantPoints(m.id, 1000)
  const p = (await till.purchase(m.id, [{ sku: 'A', quantity: 1, unitPrice: '50000' }], [{ type: 'points', points: 500 }], { capture: false })).json()
  t.same((await till.balances(m.id)).points, { balance: 1000, available: 500, pending: 500 })

  const early = await run(program, 'void-expired-holds', { asOf: new Date(Date.now() + 29 * 60_000).toISOString() })
  t.equal(early.statusCode, 201)
  t.match(early.json(), { runDate: null, status: 'succeeded', result: { voided: 0 } }, 'not before the deadline')
  const later = new Date(Date.now() + 31 * 60_000).toISOString()
  t.match((await run(program, 'void-expired-holds', { asOf: later })).json(), { status: 'succeeded', result: { voided: 1 }, replayed: false })
  const again = await run(program, 'void-expired-holds', { asOf: later })
  t.equal(again.statusCode, 201, 'runs again: there is no claim by date')
  t.match(again.json().result, { voided: 0 }, 'and finds nothing left to void')
  t.equal((await ctx.call(program.token, 'GET', `/v1/purchases/${p.id}`)).json().status, 'voided')
  t.same((await till.balances(m.id)).points, { balance: 1000, available: 1000, pending: 0 })
  t.equal((await runsOf(program, 'void-expired-holds')).data.length, 3, 'runs started through the API are recorded')
  t.ok((await till.verify()).ok)
})
