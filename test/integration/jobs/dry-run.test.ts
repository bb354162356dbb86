// POST /v1/jobs/{name}/runs with dryRun: true (issue 14): what each job would do, for any date in
// the supported calendar, future ones included, and nothing written: no run claimed, no ledger
// entry, no event, no tier or purchase changed.
import t, { type Test } from 'tap'
import { sql } from 'drizzle-orm'
import { queryRows } from '../../../src/db/client.js'
import { localDate } from '../../../src/shared/period.js'
import { startTestApp, type ProgramFixture } from '../../helpers/app.js'
import { TestClock } from '../../helpers/clock.js'
import { Till, VND_RULES } from '../../helpers/pos.js'

const clock = new TestClock()
const ctx = await startTestApp(t, {}, { now: clock.now })
const DAY = 86_400_000
const ZONE = 'Asia/Ho_Chi_Minh'

const dryRun = (p: ProgramFixture, job: string, asOf?: string) => ctx.call(p.token, 'POST', `/v1/jobs/${job}/runs`, { dryRun: true, ...(asOf ? { asOf } : {}) })
const run = (p: ProgramFixture, job: string) => ctx.call(p.token, 'POST', `/v1/jobs/${job}/runs`, {})
const dayIn = (days: number) => localDate(new Date(Date.now() + days * DAY), ZONE)

/** Everything a run could write for the program, to compare before and after a dry run. */
const footprint = async (programId: string) => ({
  runs: await queryRows(ctx.database.db, sql`select id from job_runs where program_id = ${programId}::uuid`),
  entries: await queryRows(ctx.database.db, sql`select id from journal_entries where program_id = ${programId}::uuid order by id`),
  events: await queryRows(ctx.database.db, sql`select id from events where program_id = ${programId}::uuid order by id`),
  tiers: await queryRows(ctx.database.db, sql`select member_id, tier_code, guaranteed_until from member_tiers where program_id = ${programId}::uuid order by member_id`),
  purchases: await queryRows(ctx.database.db, sql`select id, status from purchases where program_id = ${programId}::uuid order by id`),
  birthdays: await queryRows(ctx.database.db, sql`select member_id from birthday_rewards where program_id = ${programId}::uuid`),
  lots: await queryRows(ctx.database.db, sql`select id, remaining, expiry_notice_at from points_lots where program_id = ${programId}::uuid order by id`),
})

async function assertNothingWritten(t: Test, p: ProgramFixture, before: Awaited<ReturnType<typeof footprint>>) {
  t.same(await footprint(p.id), before, 'nothing written: no run, entry, event, tier, purchase, birthday or lot changed')
}

t.test('birthday-rewards: a future date answers who would be celebrated, and the real run on the day does it', async (t) => {
  clock.set(new Date())
  const p = await ctx.createProgram({ rules: { ...VND_RULES, birthday: { bonusPoints: 500 } } })
  const day = dayIn(10)
  const lan = await ctx.enrol(p.token, { birthday: `1990-${day.slice(5)}`, consents: { smsMarketing: { granted: true } } })
  await ctx.enrol(p.token, { birthday: `1991-${dayIn(20).slice(5)}` })
  const before = await footprint(p.id)

  const res = await dryRun(p, 'birthday-rewards', day)
  t.equal(res.statusCode, 200, res.body)
  t.same(res.json(), {
    job: 'birthday-rewards',
    dryRun: true,
    runDate: day,
    asOf: res.json().asOf,
    result: { celebrated: 1, late: 0, granted: 1, points: 500, coupons: 0, greetings: 1 },
    affected: [{ action: 'celebrate', memberId: lan.id, points: 500, detail: { celebratedOn: day } }],
    affectedTotal: 1,
  })
  await assertNothingWritten(t, p, before)

  clock.setTo(`${day}T09:00:00+07:00`)
  const real = await run(p, 'birthday-rewards')
  t.equal(real.statusCode, 201, 'the dry run claimed nothing: the day’s run runs')
  t.match(real.json().result, { celebrated: 1, late: 0, granted: 1, points: 500, greetings: 1 }, 'and does what the dry run said')
  t.match((await dryRun(p, 'birthday-rewards', day)).json(), { result: { celebrated: 0 }, affected: [], affectedTotal: 0 }, 'a dry run after it finds nothing left')
})

t.test('expire-points: the points that would expire and the members told, without expiring them', async (t) => {
  clock.set(new Date())
  const p = await ctx.createProgram({ rules: { ...VND_RULES, pointsExpiry: { afterDays: 10, roundUpTo: 'day', restoredGraceDays: 30 } } })
  const till = new Till(ctx, p.token)
  const a = await ctx.enrol(p.token)
  const b = await ctx.enrol(p.token)
  await till.grantPoints(a.id, 100)
  await till.grantPoints(b.id, 40)
  const before = await footprint(p.id)

  const soon = (await dryRun(p, 'expire-points', dayIn(1))).json()
  t.match(soon, { runDate: dayIn(1), result: { members: 0, points: 0, noticed: 2 }, affected: [], affectedTotal: 0 }, 'nothing due yet; both would be told')
  const late = await dryRun(p, 'expire-points', dayIn(30))
  t.equal(late.statusCode, 200)
  t.match(late.json().result, { members: 2, lots: 2, points: 140, deferredByHolds: 0, noticed: 0 })
  t.same(
    late.json().affected.sort((x: { points: number }, y: { points: number }) => y.points - x.points),
    [
      { action: 'expire', memberId: a.id, points: 100 },
      { action: 'expire', memberId: b.id, points: 40 },
    ],
  )
  t.equal((await till.balances(a.id)).points.balance, 100, 'the points are still there')
  await assertNothingWritten(t, p, before)
})

t.test('review-tiers: who would move, from and to which tier, without moving them', async (t) => {
  clock.set(new Date())
  const tiers = {
    metric: 'spend',
    windowMonths: 12,
    retentionMonths: 12,
    levels: [
      { code: 'member', name: 'Member', threshold: '0' },
      { code: 'silver', name: 'Silver', threshold: '1000000' },
    ],
  }
  const p = await ctx.createProgram({ rules: { ...VND_RULES, tiers } })
  const till = new Till(ctx, p.token)
  const m = await ctx.enrol(p.token)
  t.equal((await till.purchase(m.id, [{ sku: 'A', quantity: 1, unitPrice: '1000000' }], [{ type: 'cash', amount: '1000000' }])).statusCode, 201)
  const before = await footprint(p.id)

  t.match((await dryRun(p, 'review-tiers', dayIn(30))).json(), { result: { reviewed: 0 }, affected: [], affectedTotal: 0 }, 'still guaranteed')
  const res = (await dryRun(p, 'review-tiers', dayIn(400))).json()
  t.same(res.result, { reviewed: 1, kept: 0, upgraded: 0, downgraded: 1 })
  t.same(res.affected, [{ action: 'downgrade', memberId: m.id, points: null, detail: { fromTier: 'silver', toTier: 'member' } }])
  t.equal((await ctx.call(p.token, 'GET', `/v1/members/${m.id}/tier`)).json().tier.code, 'silver', 'still silver')
  await assertNothingWritten(t, p, before)
})

t.test('void-expired-holds: the purchases whose hold would be voided, still pending after', async (t) => {
  clock.set(new Date())
  const p = await ctx.createProgram({ rules: { ...VND_RULES, holdMinutes: 30 } })
  const till = new Till(ctx, p.token)
  const m = await ctx.enrol(p.token)
  await till.grantPoints(m.id, 1000)
  const held = (await till.purchase(m.id, [{ sku: 'A', quantity: 1, unitPrice: '50000' }], [{ type: 'points', points: 500 }], { capture: false })).json()
  const before = await footprint(p.id)

  t.match((await dryRun(p, 'void-expired-holds')).json(), { runDate: null, result: { voided: 0 }, affectedTotal: 0 }, 'not yet, as of now')
  const later = (await dryRun(p, 'void-expired-holds', new Date(Date.now() + 31 * 60_000).toISOString())).json()
  t.same(later.result, { voided: 1 })
  t.same(later.affected, [{ action: 'void', memberId: m.id, points: null, detail: { purchaseId: held.id } }])
  t.equal((await ctx.call(p.token, 'GET', `/v1/purchases/${held.id}`)).json().status, 'pending')
  await assertNothingWritten(t, p, before)
})

t.test('a dry run may be dated anywhere in the calendar, but not outside it; the list is bounded', async (t) => {
  clock.set(new Date())
  const p = await ctx.createProgram({ rules: { ...VND_RULES, birthday: { bonusPoints: 10 } } })
  const day = dayIn(3)
  for (let i = 0; i < 101; i++) await ctx.enrol(p.token, { birthday: `1980-${day.slice(5)}` })
  const bounded = (await dryRun(p, 'birthday-rewards', day)).json()
  t.equal(bounded.affected.length, 100, 'the first 100')
  t.equal(bounded.affectedTotal, 101, 'of 101')
  t.equal(bounded.result.points, 1010)

  t.match((await dryRun(p, 'birthday-rewards', '2999-12-31')).json(), { dryRun: true, runDate: '2999-12-31' }, 'the last supported day')
  t.match((await dryRun(p, 'expire-points', '1900-01-01')).json(), { dryRun: true, result: { points: 0 } }, 'before the program existed: nothing to do')
  for (const asOf of ['9999-12-31', '0001-01-01']) {
    const res = await dryRun(p, 'birthday-rewards', asOf)
    t.equal(res.statusCode, 400, asOf)
    t.match(res.json(), { code: 'VALIDATION_FAILED', errors: [{ path: 'body/asOf' }] })
  }
  t.equal((await ctx.call(p.token, 'POST', '/v1/jobs/birthday-rewards/runs', { dryRun: 'yes' })).statusCode, 400, 'dryRun is a boolean')
  t.same((await ctx.call(p.token, 'GET', '/v1/jobs/birthday-rewards/runs')).json().data, [], 'no run recorded')
})
