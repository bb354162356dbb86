// The nightly analytics snapshot (job analytics-snapshot): a program under the size threshold is
// skipped and answers live; a snapshotted one answers its RFM, lifecycle, summaries, cohorts and
// segment/stage member lists from the snapshot, with its as-of time, and the answers are the live
// ones of that moment. Sales inserted with SQL (test/helpers/seed.ts) to spread them over months.
import t from 'tap'
import { sql } from 'drizzle-orm'
import { startTestApp } from '../../helpers/app.js'
import { daysAgo, enrolledAt, seedPurchase } from '../../helpers/seed.js'
import { setSnapshotMinPurchases, snapshotPeriods } from '../../../src/modules/analytics/snapshot.js'
import { localDate } from '../../../src/shared/period.js'

const ctx = await startTestApp(t)
const program = await ctx.createProgram()
const other = await ctx.createProgram()
const ZONE = 'Asia/Ho_Chi_Minh'

// Members whose purchases put them in different segments and stages.
const plans: number[][] = [[400, 200], [30], [400, 300, 120], [400, 200, 100, 50, 10], [400, 150, 20], [5, 6, 7, 8, 9, 10], [700], []]
for (const [i, days] of plans.entries()) {
  const m = await ctx.enrol(program.token)
  await enrolledAt(ctx.database, program.id, m.id, daysAgo(800))
  for (const d of days) await seedPurchase(ctx.database, program.id, { memberId: m.id, occurredAt: daysAgo(d), total: BigInt(10_000 * (i + 1)), returned: d === 10 ? 5_000n : 0n })
}
const outsider = await ctx.enrol(other.token)
await seedPurchase(ctx.database, other.id, { memberId: outsider.id, occurredAt: daysAgo(3), total: 99_000n })

const get = async (token: string, url: string) => {
  const res = await ctx.call(token, 'GET', url)
  if (res.statusCode !== 200) throw new Error(`${url}: ${res.statusCode} ${res.body}`)
  return { body: res.json(), asOfHeader: res.headers['analytics-as-of'] }
}
const runSnapshot = async (token: string) => ctx.call(token, 'POST', '/v1/jobs/analytics-snapshot/runs', {})
const today = localDate(new Date(), ZONE)
const { summaries, cohorts } = snapshotPeriods(new Date(), ZONE)
const query = (p: { from: Date; to: Date }) => `from=${p.from.toISOString()}&to=${p.to.toISOString()}`
const summaryUrls = summaries.map((p) => `/v1/analytics/summary?${query(p)}`)
const cohortUrl = `/v1/analytics/cohorts?${query(cohorts[0]!.period)}&by=${cohorts[0]!.by}`
const listUrls = ['/v1/members?segment=champions', '/v1/members?segment=lost', '/v1/members?stage=mature', '/v1/members?stage=lapsed&segment=lost', '/v1/members?stage=new&limit=1']

const live = {
  summaries: await Promise.all(summaryUrls.map(async (u) => (await get(program.token, u)).body)),
  cohorts: (await get(program.token, cohortUrl)).body,
  lists: await Promise.all(listUrls.map(async (u) => (await get(program.token, u)).body)),
}

t.test('a program under ANALYTICS_SNAPSHOT_MIN_PURCHASES is skipped and answers live', async (t) => {
  const res = await runSnapshot(program.token)
  t.equal(res.statusCode, 201)
  t.match(res.json(), { job: 'analytics-snapshot', runDate: today, status: 'succeeded', result: { skipped: 1, members: 0, reports: 0 } })
  const rfm = (await get(program.token, '/v1/analytics/rfm')).body
  t.notOk('snapshot' in rfm, 'no snapshot field: computed live')
  const list = await get(program.token, listUrls[0]!)
  t.equal(list.asOfHeader, undefined, 'a live list has no Analytics-As-Of')
})

t.test('the snapshot answers are the live answers of its moment, with the as-of time', async (t) => {
  setSnapshotMinPurchases(ctx.app.db, 0)
  await ctx.database.db.execute(sql`delete from job_runs where program_id = ${program.id}`) // the skipped run of today would be a replay
  const res = await runSnapshot(program.token)
  t.equal(res.statusCode, 201, 'ran now')
  const run = res.json()
  t.match(run.result, { skipped: 0, members: plans.length, reports: 2 + summaries.length + cohorts.length })
  const asOf = run.asOf as string

  for (const report of ['rfm', 'lifecycle']) {
    const served = (await get(program.token, `/v1/analytics/${report}`)).body
    t.match(served.snapshot, { asOf, takenAt: String }, `${report}: served from the snapshot`)
    t.equal(served.asOf, asOf, `${report}: its asOf is the snapshot's`)
    const { snapshot, ...figures } = served
    t.same(figures, (await get(program.token, `/v1/analytics/${report}?asOf=${asOf}`)).body, `${report}: identical to the live answer as of the snapshot (an explicit asOf is live)`)
  }
  for (const [i, url] of summaryUrls.entries()) {
    const { snapshot, ...figures } = (await get(program.token, url)).body
    t.match(snapshot, { asOf }, `summary ${i}: from the snapshot`)
    t.same(figures, live.summaries[i], `summary ${i}: identical to the live answer`)
  }
  const { snapshot, ...cohortFigures } = (await get(program.token, cohortUrl)).body
  t.match(snapshot, { asOf }, 'cohorts from the snapshot')
  t.same(cohortFigures, live.cohorts, 'cohorts identical to the live answer')

  for (const [i, url] of listUrls.entries()) {
    const list = await get(program.token, url)
    t.equal(list.asOfHeader, asOf, `${url}: Analytics-As-Of`)
    t.same(list.body, live.lists[i], `${url}: the same members as live`)
  }
  t.ok(live.lists.some((l) => l.data.length > 0), 'the lists are not all empty')

  const otherPeriod = (await get(program.token, `/v1/analytics/summary?from=${today}&to=${today}`)).body
  t.notOk('snapshot' in otherPeriod, 'a period the job did not compute answers live')
})

t.test('the snapshot is the program’s own', async (t) => {
  const rfm = (await get(other.token, '/v1/analytics/rfm')).body
  t.notOk('snapshot' in rfm)
  t.equal(rfm.members, 1, 'the other program counts its own customer only')
  const list = await get(other.token, '/v1/members?segment=lost') // one customer: R1, F1
  t.equal(list.asOfHeader, undefined)
  t.same(list.body.data.map((m: { id: string }) => m.id), [outsider.id])
})

t.test('later sales do not move a snapshot answer; a stale snapshot is not served', async (t) => {
  const before = (await get(program.token, '/v1/analytics/lifecycle')).body
  const m = await ctx.enrol(program.token)
  await seedPurchase(ctx.database, program.id, { memberId: m.id, occurredAt: daysAgo(0), total: 10_000n })
  t.same((await get(program.token, '/v1/analytics/lifecycle')).body, before, 'the snapshot stands until the next run')
  await ctx.database.db.execute(sql`update analytics_snapshots set as_of = as_of - interval '3 days' where program_id = ${program.id}`)
  const now = (await get(program.token, '/v1/analytics/lifecycle')).body
  t.notOk('snapshot' in now, 'older than 48 hours: live again')
  t.equal(now.members, before.members + 1, 'and current')
  t.equal((await get(program.token, listUrls[0]!)).asOfHeader, undefined, 'lists too')
})
