// Two or more runs of the birthday job for the same date at once. On PGlite (one connection)
// they serialise; on PostgreSQL (TEST_DATABASE_URL) they are real races on separate connections.
// The claim makes one of them run; without the claim, the once-a-year row still grants once.
import t, { type Test } from 'tap'
import pino from 'pino'
import type { FastifyBaseLogger } from 'fastify'
import { birthdayRewardsJob } from '../../../src/modules/birthdays/job.js'
import { findProgram } from '../../../src/modules/programs/repository.js'
import { onRealPostgres, startTestApp, type ProgramFixture } from '../../helpers/app.js'
import { TestClock } from '../../helpers/clock.js'

const clock = new TestClock()
const ctx = await startTestApp(t, {}, { now: clock.now })
t.comment(`database: ${onRealPostgres ? 'PostgreSQL: concurrent runs race' : 'PGlite: concurrent runs serialise'}`)
const BONUS = 250
const MEMBERS = 12
const RUNS = 5

const pointsOf = async (p: ProgramFixture, memberId: string) => (await ctx.call(p.token, 'GET', `/v1/members/${memberId}/balances`)).json().points.balance as number
const birthdayEntryCount = async (p: ProgramFixture, memberId: string) =>
  ((await ctx.call(p.token, 'GET', `/v1/members/${memberId}/activity?limit=100`)).json().data as { reference: { type: string } | null }[]).filter(
    (e) => e.reference?.type === 'birthday',
  ).length

async function programWithBirthdays(birthday: string) {
  const p = await ctx.createProgram({ rules: { birthday: { bonusPoints: BONUS } } })
  const members = []
  for (let i = 0; i < MEMBERS; i++) members.push(await ctx.enrol(p.token, { birthday }))
  return { p, members }
}

async function assertGrantedOnce(t: Test, p: ProgramFixture, members: { id: string }[]) {
  for (const m of members) {
    t.equal(await pointsOf(p, m.id), BONUS, 'each member granted once')
    t.equal(await birthdayEntryCount(p, m.id), 1, 'one ledger entry each')
  }
  await ctx.assertLedgerClean(t, p.token)
}

t.test('concurrent API runs of one job and date: one runs, the others get its record', async (t) => {
  const { p, members } = await programWithBirthdays('1990-09-09')
  clock.setTo('2027-09-09')
  const responses = await Promise.all(Array.from({ length: RUNS }, () => ctx.call(p.token, 'POST', '/v1/jobs/birthday-rewards/runs', { asOf: '2027-09-09' })))
  const statuses = responses.map((r) => r.statusCode).sort()
  t.same(statuses, [200, 200, 200, 200, 201], 'one 201, the rest 200 replayed')
  const ids = new Set(responses.map((r) => r.json().id))
  t.equal(ids.size, 1, 'all about the same run')
  const ran = responses.find((r) => r.statusCode === 201)!.json()
  t.match(ran.result, { celebrated: MEMBERS, granted: MEMBERS, points: MEMBERS * BONUS })
  for (const r of responses.filter((r) => r.statusCode === 200)) t.equal(r.json().replayed, true)
  const runs = (await ctx.call(p.token, 'GET', '/v1/jobs/birthday-rewards/runs')).json().data
  t.equal(runs.length, 1, 'one run recorded')
  t.equal(runs[0].status, 'succeeded')
  await assertGrantedOnce(t, p, members)
})

t.test('concurrent runs past the claim (a take-over while the first still runs) still grant once', async (t) => {
  const { p, members } = await programWithBirthdays('1990-10-10')
  const program = (await findProgram(ctx.database.db, p.id))!
  const log = pino({ level: 'silent' }) as unknown as FastifyBaseLogger
  const asOf = new Date('2027-10-10T03:00:00Z')
  const results = await Promise.all(Array.from({ length: RUNS }, () => birthdayRewardsJob.run({ database: ctx.database, program, asOf, log })))
  const celebrated = results.reduce((sum, r) => sum + r.celebrated!, 0)
  t.equal(celebrated, MEMBERS, 'every member celebrated by exactly one of the runs')
  t.comment(`grants that found the member already celebrated by a concurrent run: ${results.reduce((sum, r) => sum + r.skipped!, 0)}`)
  await assertGrantedOnce(t, p, members)
})
