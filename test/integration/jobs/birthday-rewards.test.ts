// The birthday job, driven through POST /v1/jobs/birthday-rewards/runs with asOf dates. Members
// are enrolled now, so the dates are in the future (a member is celebrated only from the birthday
// after enrolment): the service's clock is moved to each run's date, as a run may not be dated
// later than now. The program's birthday rules are set at creation and so apply at any date.
import t, { type Test } from 'tap'
import { sql } from 'drizzle-orm'
import { queryRows } from '../../../src/db/client.js'
import { startTestApp, type ProgramFixture } from '../../helpers/app.js'
import { TestClock } from '../../helpers/clock.js'

const clock = new TestClock()
const ctx = await startTestApp(t, {}, { now: clock.now })
const BONUS = 500

const birthdayProgram = (extra: Record<string, unknown> = {}, bonusPoints = BONUS) => ctx.createProgram({ rules: { birthday: { bonusPoints } }, ...extra })
const enrol = (p: ProgramFixture, birthday: string, extra: Record<string, unknown> = {}) => ctx.enrol(p.token, { birthday, ...extra })
const run = (p: ProgramFixture, asOf?: string) => {
  if (asOf !== undefined) clock.setTo(asOf)
  return ctx.call(p.token, 'POST', '/v1/jobs/birthday-rewards/runs', asOf === undefined ? {} : { asOf })
}
const pointsOf = async (p: ProgramFixture, memberId: string) => (await ctx.call(p.token, 'GET', `/v1/members/${memberId}/balances`)).json().points.balance as number

interface Activity {
  kind: string
  reason: string | null
  reference: { type: string; id: string } | null
  points: number | null
  occurredAt: string
}
const birthdayEntries = async (p: ProgramFixture, memberId: string) =>
  ((await ctx.call(p.token, 'GET', `/v1/members/${memberId}/activity?limit=100`)).json().data as Activity[]).filter((e) => e.reference?.type === 'birthday')

const assertLedgerClean = (t: Test, p: ProgramFixture) => ctx.assertLedgerClean(t, p.token)

t.test('a birthday is rewarded once, however often the job runs that day', async (t) => {
  const p = await birthdayProgram()
  const lan = await enrol(p, '1990-03-15')
  const other = await enrol(p, '1990-04-01')
  const noBirthday = await ctx.enrol(p.token)

  const first = await run(p, '2027-03-15')
  t.equal(first.statusCode, 201, 'ran now')
  t.match(first.json(), { job: 'birthday-rewards', runDate: '2027-03-15', status: 'succeeded', attempts: 1, replayed: false, error: null })
  t.equal(first.json().asOf, '2027-03-14T17:00:00.000Z', 'a date is the start of that day in the program zone (Asia/Ho_Chi_Minh)')
  t.match(first.json().result, { celebrated: 1, late: 0, granted: 1, points: BONUS })

  t.equal(await pointsOf(p, lan.id), BONUS)
  t.equal(await pointsOf(p, other.id), 0)
  t.equal(await pointsOf(p, noBirthday.id), 0)
  const entries = await birthdayEntries(p, lan.id)
  t.equal(entries.length, 1)
  t.match(entries[0], { kind: 'bonus', reason: 'birthday', reference: { type: 'birthday', id: `${lan.id}:2027` }, points: BONUS, occurredAt: '2027-03-14T17:00:00.000Z' })

  const again = await run(p, '2027-03-15T21:00:00+07:00')
  t.equal(again.statusCode, 200, 'the same local date again: the first run is returned')
  t.match(again.json(), { id: first.json().id, runDate: '2027-03-15', status: 'succeeded', replayed: true, result: first.json().result })

  const nextDay = await run(p, '2027-03-16')
  t.equal(nextDay.statusCode, 201, 'the next day is a new run')
  t.match(nextDay.json().result, { celebrated: 0, granted: 0, points: 0 }, 'its catch-up window finds the birthday already rewarded')

  t.equal(await pointsOf(p, lan.id), BONUS, 'granted once')
  t.equal((await birthdayEntries(p, lan.id)).length, 1, 'one ledger entry')
  const runs = (await ctx.call(p.token, 'GET', '/v1/jobs/birthday-rewards/runs')).json().data
  t.same(
    runs.map((r: { runDate: string }) => r.runDate),
    ['2027-03-16', '2027-03-15'],
    'one run per date, newest first',
  )
  await assertLedgerClean(t, p)
})

t.test('a late run catches up the 7 days before it, once', async (t) => {
  const p = await birthdayProgram()
  const threeDaysAgo = await enrol(p, '1988-06-10')
  const sevenDaysAgo = await enrol(p, '1988-06-06')
  const eightDaysAgo = await enrol(p, '1988-06-05')
  const tomorrow = await enrol(p, '1988-06-14')

  const late = await run(p, '2027-06-13')
  t.equal(late.statusCode, 201)
  t.match(late.json().result, { celebrated: 2, late: 2, granted: 2, points: 2 * BONUS, greetings: 0 }, 'no birthday.today greeting after the day')
  t.equal(await pointsOf(p, threeDaysAgo.id), BONUS)
  t.equal(await pointsOf(p, sevenDaysAgo.id), BONUS)
  t.equal(await pointsOf(p, eightDaysAgo.id), 0, 'more than 7 days late: missed')
  t.equal(await pointsOf(p, tomorrow.id), 0, 'not before the day')

  const next = await run(p, '2027-06-14')
  t.match(next.json().result, { celebrated: 1, late: 0, granted: 1 }, 'only the birthday of that day')
  t.equal(await pointsOf(p, threeDaysAgo.id), BONUS, 'still once')
  t.equal(await pointsOf(p, sevenDaysAgo.id), BONUS)
  t.equal(await pointsOf(p, tomorrow.id), BONUS)
  t.equal((await birthdayEntries(p, threeDaysAgo.id)).length, 1)
  await assertLedgerClean(t, p)
})

t.test('a catch-up over New Year counts for the year of the birthday', async (t) => {
  const p = await birthdayProgram()
  const m = await enrol(p, '1979-12-30')
  t.match((await run(p, '2028-01-02')).json().result, { celebrated: 1, late: 1 })
  t.same((await birthdayEntries(p, m.id)).map((e) => e.reference?.id), [`${m.id}:2027`])
  t.match((await run(p, '2028-12-30')).json().result, { celebrated: 1, late: 0 }, 'the 2028 birthday is another year')
  t.equal(await pointsOf(p, m.id), 2 * BONUS)
  await assertLedgerClean(t, p)
})

t.test('Feb 29 birthdays are celebrated on Feb 28 in common years and on Feb 29 in leap years', async (t) => {
  const p = await birthdayProgram()
  const leapling = await enrol(p, '2000-02-29')
  const feb28 = await enrol(p, '2001-02-28')

  t.match((await run(p, '2027-02-27')).json().result, { celebrated: 0 })
  t.match((await run(p, '2027-02-28')).json().result, { celebrated: 2, late: 0 }, '2027 is a common year: both on Feb 28')
  t.match((await run(p, '2027-03-01')).json().result, { celebrated: 0 })
  t.equal(await pointsOf(p, leapling.id), BONUS)
  t.equal(await pointsOf(p, feb28.id), BONUS)

  t.match((await run(p, '2028-02-28')).json().result, { celebrated: 1 }, '2028 is a leap year: Feb 28 is not the leapling’s day')
  t.equal(await pointsOf(p, leapling.id), BONUS)
  t.match((await run(p, '2028-02-29')).json().result, { celebrated: 1, late: 0 })
  t.equal(await pointsOf(p, leapling.id), 2 * BONUS)
  t.equal(await pointsOf(p, feb28.id), 2 * BONUS)
  t.same((await birthdayEntries(p, leapling.id)).map((e) => e.reference?.id).sort(), [`${leapling.id}:2027`, `${leapling.id}:2028`])
  await assertLedgerClean(t, p)
})

t.test('the birthday is the date in the program time zone', async (t) => {
  const hcm = await birthdayProgram()
  const utc = await birthdayProgram({ timezone: 'UTC' })
  const inHcm = await enrol(hcm, '1995-03-15')
  const inUtc = await enrol(utc, '1995-03-15')
  const instant = '2027-03-14T18:30:00Z'

  const hcmRun = (await run(hcm, instant)).json()
  t.match(hcmRun, { runDate: '2027-03-15', asOf: '2027-03-14T18:30:00.000Z', result: { celebrated: 1 } }, '01:30 on the 15th in Ho Chi Minh City')
  const utcRun = (await run(utc, instant)).json()
  t.match(utcRun, { runDate: '2027-03-14', result: { celebrated: 0 } }, 'still the 14th in UTC')
  t.equal(await pointsOf(hcm, inHcm.id), BONUS)
  t.equal(await pointsOf(utc, inUtc.id), 0)

  t.match((await run(utc, '2027-03-15T00:00:00Z')).json(), { runDate: '2027-03-15', result: { celebrated: 1 } })
  t.equal(await pointsOf(utc, inUtc.id), BONUS)
  await assertLedgerClean(t, hcm)
  await assertLedgerClean(t, utc)
})

t.test('erased members and members enrolled after their birthday are skipped', async (t) => {
  const p = await birthdayProgram()
  const kept = await enrol(p, '1992-07-20')
  const erased = await enrol(p, '1992-07-20')
  t.equal((await ctx.call(p.token, 'DELETE', `/v1/members/${erased.id}`)).statusCode, 204)

  t.match((await run(p, '2027-07-20')).json().result, { celebrated: 1, granted: 1 })
  t.equal(await pointsOf(p, kept.id), BONUS)
  t.equal(await pointsOf(p, erased.id), 0, 'an erased member gets nothing')

  // Enrolled now (after 2026-03-15): that birthday came before they were a member. The program is
  // older than that day (a run dated before the program existed is refused).
  await queryRows(ctx.database.db, sql`update programs set created_at = '2025-01-01T00:00:00Z' where id = ${p.id}::uuid`)
  const newcomer = await enrol(p, '1992-03-15')
  t.match((await run(p, '2026-03-15')).json().result, { celebrated: 0 }, 'a birthday before enrolment is not celebrated')
  t.equal(await pointsOf(p, newcomer.id), 0)
  await assertLedgerClean(t, p)
})

t.test('greetings: birthday.today for consenting members on the day; no points without a bonus', async (t) => {
  const greetOnly = await birthdayProgram({}, 0)
  const consenting = await enrol(greetOnly, '1985-08-08', { consents: { smsMarketing: { granted: true } } })
  const silent = await enrol(greetOnly, '1985-08-08')
  const res = await run(greetOnly, '2027-08-08')
  t.match(res.json().result, { celebrated: 2, granted: 0, points: 0, greetings: 1, greetingsSuppressed: 1 })
  t.equal(await pointsOf(greetOnly, consenting.id), 0)
  t.equal((await birthdayEntries(greetOnly, consenting.id)).length, 0, 'no ledger entry without points')
  t.equal((await birthdayEntries(greetOnly, silent.id)).length, 0)
  t.match((await run(greetOnly, '2027-08-09')).json().result, { celebrated: 0, greetings: 0 }, 'greeted once')
  await assertLedgerClean(t, greetOnly)
})

t.test('birthday points expire like other points earned that day', async (t) => {
  const p = await ctx.createProgram({ rules: { birthday: { bonusPoints: BONUS }, pointsExpiry: { afterDays: 30 } } })
  const m = await enrol(p, '1993-03-15')
  t.equal((await run(p, '2027-03-15')).statusCode, 201)
  t.equal(await pointsOf(p, m.id), BONUS)
  const runExpiry = (asOf: string) => {
    clock.setTo(asOf)
    return ctx.call(p.token, 'POST', '/v1/jobs/expire-points/runs', { asOf })
  }
  t.equal((await runExpiry('2027-04-14')).statusCode, 201)
  t.equal(await pointsOf(p, m.id), BONUS, 'still usable on the 30th day after')
  t.equal((await runExpiry('2027-04-15')).statusCode, 201)
  t.equal(await pointsOf(p, m.id), 0, 'expired after it')
  await assertLedgerClean(t, p)
})
