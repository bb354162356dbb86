// Which dates a job may run for (issue 14): not later than the service's now (a future run would
// change live data now and turn the real run of that day into a replay), not before the program
// existed, and only inside the supported calendar. The service's clock is injected.
import t from 'tap'
import { sql } from 'drizzle-orm'
import { queryRows } from '../../../src/db/client.js'
import { localDate } from '../../../src/shared/period.js'
import { startTestApp, type ProgramFixture } from '../../helpers/app.js'
import { TestClock } from '../../helpers/clock.js'
import { Till, VND_RULES } from '../../helpers/pos.js'

const clock = new TestClock()
const ctx = await startTestApp(t, {}, { now: clock.now })
const ZONE = 'Asia/Ho_Chi_Minh'
const DAY = 86_400_000

const run = (p: ProgramFixture, job: string, body?: unknown) => ctx.call(p.token, 'POST', `/v1/jobs/${job}/runs`, body)
const runsOf = async (p: ProgramFixture, job: string) => (await ctx.call(p.token, 'GET', `/v1/jobs/${job}/runs`)).json().data as unknown[]
const entriesOf = (programId: string) => queryRows(ctx.database.db, sql`select id from journal_entries where program_id = ${programId}::uuid and kind <> 'opening'`)

t.test('a run dated after today in the program zone is 422 AS_OF_IN_FUTURE and changes nothing', async (t) => {
  clock.set(new Date())
  const p = await ctx.createProgram({ rules: { ...VND_RULES, birthday: { bonusPoints: 500 }, pointsExpiry: { afterDays: 1, roundUpTo: 'day', restoredGraceDays: 30 } } })
  const today = localDate(clock.now(), ZONE)
  const tomorrow = localDate(new Date(clock.now().getTime() + DAY), ZONE)
  const m = await ctx.enrol(p.token, { birthday: `1990-${tomorrow.slice(5)}` })
  await new Till(ctx, p.token).grantPoints(m.id, 100)
  const before = await entriesOf(p.id)

  for (const job of ['birthday-rewards', 'expire-points', 'review-tiers']) {
    const res = await run(p, job, { asOf: localDate(new Date(clock.now().getTime() + 400 * DAY), ZONE) })
    t.equal(res.statusCode, 422, job)
    t.equal(res.headers['content-type'], 'application/problem+json')
    t.match(res.json(), { code: 'AS_OF_IN_FUTURE', today, errors: [{ path: 'body/asOf' }] })
  }
  t.match((await run(p, 'birthday-rewards', { asOf: tomorrow })).json(), { status: 422, code: 'AS_OF_IN_FUTURE', today }, 'tomorrow is the future too')
  const later = new Date(clock.now().getTime() + 3_600_000).toISOString()
  t.match((await run(p, 'void-expired-holds', { asOf: later })).json(), { status: 422, code: 'AS_OF_IN_FUTURE' }, 'an instant still to come')

  t.same(await runsOf(p, 'birthday-rewards'), [], 'no run claimed')
  t.same(await runsOf(p, 'expire-points'), [])
  t.same(await entriesOf(p.id), before, 'no ledger entry')
  t.equal((await ctx.call(p.token, 'GET', `/v1/members/${m.id}/balances`)).json().points.balance, 100, 'the points are still there')

  // The next day, on the service's clock: the run goes ahead, as the real one does.
  clock.set(new Date(clock.now().getTime() + DAY))
  const onTheDay = await run(p, 'birthday-rewards', { asOf: tomorrow })
  t.equal(onTheDay.statusCode, 201, onTheDay.body)
  t.match(onTheDay.json(), { runDate: tomorrow, result: { celebrated: 1, points: 500 }, replayed: false })
  t.equal((await run(p, 'birthday-rewards')).json().runDate, tomorrow, 'without asOf the run is for the clock’s today')
})

t.test('a run dated before the day the program was created is 422 AS_OF_BEFORE_PROGRAM', async (t) => {
  clock.set(new Date())
  const p = await ctx.createProgram()
  const created = localDate(new Date(), ZONE)
  const dayBefore = localDate(new Date(Date.now() - DAY), ZONE)
  for (const job of ['birthday-rewards', 'expire-points', 'review-tiers', 'void-expired-holds']) {
    const res = await run(p, job, { asOf: dayBefore })
    t.equal(res.statusCode, 422, job)
    t.match(res.json(), { code: 'AS_OF_BEFORE_PROGRAM', programCreatedOn: created, errors: [{ path: 'body/asOf' }] })
  }
  t.same(await runsOf(p, 'void-expired-holds'), [], 'nothing recorded')
  t.equal((await run(p, 'birthday-rewards', { asOf: created })).statusCode, 201, 'the creation day itself runs')
})

t.test('dates outside the supported calendar are 400 VALIDATION_FAILED on body/asOf, never 500 or another year', async (t) => {
  clock.set(new Date())
  const p = await ctx.createProgram()
  for (const asOf of ['9999-12-31', '9999-01-01T00:00:00Z', '0001-01-01', '1899-12-31', '3000-01-01']) {
    for (const job of ['birthday-rewards', 'void-expired-holds']) {
      const res = await run(p, job, { asOf })
      t.equal(res.statusCode, 400, `${job} ${asOf}`)
      t.match(res.json(), { code: 'VALIDATION_FAILED', errors: [{ path: 'body/asOf', message: /1900-01-01 and 2999-12-31/ }] })
    }
  }
  t.same(await runsOf(p, 'birthday-rewards'), [], 'nothing ran (0001-01-01 is not run as 1901)')
})
