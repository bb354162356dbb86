// The in-process schedule, one tick at a time with a fixed clock: every daily job for every
// program, once per program and local date across instances, the expired-holds sweep, and one
// failing job not stopping the others. Ticks are limited to this file's programs (programIds):
// on PostgreSQL the database is shared with other test files running at the same time.
import t from 'tap'
import { buildCheckedApp } from '../../helpers/contract-hooks.js'
import { birthdayRewardsJob } from '../../../src/modules/birthdays/job.js'
import type { JobDefinition } from '../../../src/modules/jobs/registry.js'
import { startTestApp, testConfig, type ProgramFixture } from '../../helpers/app.js'
import { Till, VND_RULES } from '../../helpers/pos.js'

const ctx = await startTestApp(t)
// A second service instance on the same database, with its own scheduler.
const other = await buildCheckedApp(t, testConfig(), { database: ctx.database })
await other.ready()
t.teardown(() => other.close())

const rules = { ...VND_RULES, holdMinutes: 30, birthday: { bonusPoints: 300 } }
const hcm = await ctx.createProgram({ rules })
const utc = await ctx.createProgram({ rules, timezone: 'UTC' })
const programIds = [hcm.id, utc.id]
const hcmMember = await ctx.enrol(hcm.token, { birthday: '1990-03-15' })
const utcMember = await ctx.enrol(utc.token, { birthday: '1990-03-15' })

const pointsOf = async (p: ProgramFixture, memberId: string) => (await ctx.call(p.token, 'GET', `/v1/members/${memberId}/balances`)).json().points
const runsOf = async (p: ProgramFixture) => (await ctx.call(p.token, 'GET', '/v1/jobs/birthday-rewards/runs')).json().data
const verified = async (p: ProgramFixture) => (await ctx.call(p.token, 'GET', '/v1/ledger/verify')).json().ok

t.test('a tick runs every daily job for every program, as of the local date of each', async (t) => {
  // A purchase holding points, its hold long expired by the tick's clock.
  const till = new Till(ctx, hcm.token)
  const buyer = await ctx.enrol(hcm.token)
  await till.grantPoints(buyer.id, 1000)
  const held = (await till.purchase(buyer.id, [{ sku: 'A', quantity: 1, unitPrice: '50000' }], [{ type: 'points', points: 500 }], { capture: false })).json()

  const now = new Date('2027-03-14T18:30:00Z')
  const report = await ctx.app.scheduler.tick(now, { programIds })
  t.equal(report.programs, 2)
  const birthdays = report.runs.filter((r) => r.job === 'birthday-rewards')
  t.match(
    birthdays.find((r) => r.programId === hcm.id),
    { runDate: '2027-03-15', outcome: 'ran', result: { celebrated: 1, points: 300 } },
    'already the 15th in Ho Chi Minh City',
  )
  t.match(birthdays.find((r) => r.programId === utc.id), { runDate: '2027-03-14', outcome: 'ran', result: { celebrated: 0 } }, 'still the 14th in UTC')
  t.equal(report.voided, 1, 'the expired hold was voided')
  t.equal((await ctx.call(hcm.token, 'GET', `/v1/purchases/${held.id}`)).json().status, 'voided')
  t.equal((await pointsOf(hcm, hcmMember.id)).balance, 300)
  t.equal((await pointsOf(utc, utcMember.id)).balance, 0)

  const elsewhere = await other.scheduler.tick(now, { programIds })
  t.same(
    elsewhere.runs.filter((r) => r.job === 'birthday-rewards').map((r) => r.outcome),
    ['replayed', 'replayed'],
    'another instance ticking at the same time finds both runs claimed',
  )
  t.same(
    (await ctx.app.scheduler.tick(new Date('2027-03-14T23:59:00Z'), { programIds })).runs.filter((r) => r.job === 'birthday-rewards'),
    [],
    'later ticks of the same local dates skip the runs this instance saw done, without a round trip',
  )

  const nextUtcDay = await ctx.app.scheduler.tick(new Date('2027-03-15T00:30:00Z'), { programIds })
  t.match(nextUtcDay.runs.filter((r) => r.job === 'birthday-rewards'), [{ programId: utc.id, job: 'birthday-rewards', runDate: '2027-03-15', outcome: 'ran', result: { celebrated: 1 } }], 'only UTC has a new date')
  t.equal((await pointsOf(hcm, hcmMember.id)).balance, 300, 'granted once')
  t.equal((await pointsOf(utc, utcMember.id)).balance, 300)
  t.same(
    (await runsOf(hcm)).map((r: { runDate: string }) => r.runDate),
    ['2027-03-15'],
  )
  t.same(
    (await runsOf(utc)).map((r: { runDate: string }) => r.runDate),
    ['2027-03-15', '2027-03-14'],
  )
  t.ok(await verified(hcm))
  t.ok(await verified(utc))
})

t.test('one failing job or program does not stop the others', async (t) => {
  const failing: JobDefinition = {
    name: 'test-broken',
    description: 'fails for the Ho Chi Minh City program',
    daily: true,
    run: async ({ program }) => {
      if (program.id === hcm.id) throw new Error('broken')
      return { ok: 1 }
    },
    preview: async () => ({ result: {}, affected: [], affectedTotal: 0 }),
  }
  const member = await ctx.enrol(hcm.token, { birthday: '1991-04-20' })
  const report = await ctx.app.scheduler.tick(new Date('2027-04-20T03:00:00Z'), { programIds, jobs: [failing, birthdayRewardsJob] })
  t.same(
    report.runs.map((r) => [r.programId === hcm.id ? 'hcm' : 'utc', r.job, r.outcome]).sort(),
    [
      ['hcm', 'birthday-rewards', 'ran'],
      ['hcm', 'test-broken', 'failed'],
      ['utc', 'birthday-rewards', 'ran'],
      ['utc', 'test-broken', 'ran'],
    ],
  )
  t.equal((await pointsOf(hcm, member.id)).balance, 300, 'the birthday job of the failing program still ran')
  const retry = await ctx.app.scheduler.tick(new Date('2027-04-20T04:00:00Z'), { programIds, jobs: [failing, birthdayRewardsJob] })
  t.same(
    retry.runs.map((r) => [r.programId === hcm.id ? 'hcm' : 'utc', r.job, r.outcome]),
    [['hcm', 'test-broken', 'failed']],
    'the next tick retries only the failed run',
  )
})
