// Lifecycle stages relative to today. Older sales are inserted with SQL (test/helpers/seed.ts);
// one member buys through the API.
import t from 'tap'
import { startTestApp } from '../../helpers/app.js'
import { Till } from '../../helpers/pos.js'
import { daysAgo, enrolledAt, seedPurchase } from '../../helpers/seed.js'
import { lifecycleStage, LIFECYCLE } from '../../../src/modules/segments/lifecycle.js'

const ctx = await startTestApp(t)
const program = await ctx.createProgram()
const till = new Till(ctx, program.token)

const enrol = async (daysBefore: number) => {
  const m = await ctx.enrol(program.token)
  await enrolledAt(ctx.database, program.id, m.id, daysAgo(daysBefore))
  return m.id
}
const buy = (memberId: string, ...days: number[]) =>
  Promise.all(days.map((d) => seedPurchase(ctx.database, program.id, { memberId, occurredAt: daysAgo(d), total: 50_000n })))

const expected: Record<string, string> = {}
const justJoined = await enrol(0)
expected[justJoined] = 'new' // no purchase yet, enrolled today
const neverBought = await enrol(200)
expected[neverBought] = 'lapsed' // enrolled 200 days ago, never bought
const gone = await enrol(500)
await buy(gone, 400, 200)
expected[gone] = 'lapsed' // last purchase 200 days ago
const newcomer = await enrol(40)
await buy(newcomer, 30)
expected[newcomer] = 'new' // first purchase 30 days ago
const slipping = await enrol(500)
await buy(slipping, 400, 300, 120)
expected[slipping] = 'declining' // last purchase 120 days ago
const regular = await enrol(500)
await buy(regular, 400, 200, 100, 50, 10)
expected[regular] = 'mature' // 4 purchases in the last 365 days, last 10 days ago
const occasional = await enrol(500)
await buy(occasional, 400, 150, 20)
expected[occasional] = 'growing' // 2 in the last year, last 20 days ago
const returnedAll = await enrol(500)
await seedPurchase(ctx.database, program.id, { memberId: returnedAll, occurredAt: daysAgo(5), total: 50_000n, returned: 50_000n })
expected[returnedAll] = 'lapsed' // its only sale was wholly returned: no purchase counts
const walkIn = await ctx.enrol(program.token)
const sale = await till.purchase(walkIn.id, [{ sku: 'TEA', quantity: 1, unitPrice: '30000' }], [{ type: 'cash', amount: '30000' }])
if (sale.statusCode !== 201) throw new Error(sale.body)
expected[walkIn.id] = 'new' // bought through the API today

t.test('each member shows its stage', async (t) => {
  for (const [id, stage] of Object.entries(expected)) {
    const res = await ctx.call(program.token, 'GET', `/v1/members/${id}`)
    t.equal(res.json().lifecycleStage, stage, `${stage}`)
  }
})

t.test('the stages are countable, and the counts agree with the members shown', async (t) => {
  const res = await ctx.call(program.token, 'GET', '/v1/analytics/lifecycle')
  t.equal(res.statusCode, 200)
  const body = res.json()
  t.equal(body.members, 9)
  t.same(
    body.stages.map((s: { stage: string; members: number }) => [s.stage, s.members]),
    [
      ['new', 3],
      ['growing', 1],
      ['mature', 1],
      ['declining', 1],
      ['lapsed', 3],
    ],
  )
  t.equal(body.stages[0].share, 0.3333)
  const listed = (await ctx.call(program.token, 'GET', '/v1/members?limit=200')).json().data as { lifecycleStage: string }[]
  const shown = new Map<string, number>()
  for (const m of listed) shown.set(m.lifecycleStage, (shown.get(m.lifecycleStage) ?? 0) + 1)
  for (const s of body.stages) t.equal(shown.get(s.stage) ?? 0, s.members, `${s.stage}: counted in SQL = shown on the members`)
})

t.test('members can be listed by stage, and by stage and segment together', async (t) => {
  const lapsed = (await ctx.call(program.token, 'GET', '/v1/members?stage=lapsed')).json().data.map((m: { id: string }) => m.id)
  t.same(lapsed.sort(), [neverBought, gone, returnedAll].sort())
  const declining = (await ctx.call(program.token, 'GET', '/v1/members?stage=declining')).json()
  t.same(declining.data.map((m: { id: string }) => m.id), [slipping])
  const both = (await ctx.call(program.token, 'GET', '/v1/members?stage=lapsed&segment=champions')).json()
  t.same(both.data, [], 'a lapsed member is no champion')
})

t.test('as of a past date, with the stage rules', async (t) => {
  // 100 days ago, counting days before then: gone bought 300 and 100 days before (declining);
  // slipping 300, 200, 20, regular 300, 100, 0 and occasional 300, 50 (growing: fewer than 4 in a
  // year); neverBought and returnedAll had enrolled and bought nothing (lapsed); the others had not enrolled.
  const asOf = daysAgo(100).toISOString()
  const body = (await ctx.call(program.token, 'GET', `/v1/analytics/lifecycle?asOf=${encodeURIComponent(asOf)}`)).json()
  const counts = Object.fromEntries(body.stages.map((s: { stage: string; members: number }) => [s.stage, s.members]))
  t.same(counts, { new: 0, growing: 3, mature: 0, declining: 1, lapsed: 2 })
  t.equal(body.members, 6)
})

t.test('the rules, one by one', async (t) => {
  const now = new Date('2025-06-30T00:00:00Z')
  const d = (days: number) => daysAgo(days, now)
  const stage = (enrolled: number, first: number | null, last: number | null, lastYear = 1) =>
    lifecycleStage({ enrolledAt: d(enrolled), firstPurchaseAt: first === null ? null : d(first), lastPurchaseAt: last === null ? null : d(last), purchasesLastYear: lastYear }, now)
  t.equal(stage(LIFECYCLE.newDays, null, null), 'new', 'enrolled exactly newDays ago, nothing bought yet')
  t.equal(stage(LIFECYCLE.newDays + 1, null, null), 'lapsed')
  t.equal(stage(400, 400, LIFECYCLE.lapsedAfterDays), 'declining', 'lapsed only after more than lapsedAfterDays')
  t.equal(stage(400, 400, LIFECYCLE.lapsedAfterDays + 1), 'lapsed')
  t.equal(stage(400, LIFECYCLE.newDays, 1), 'new')
  t.equal(stage(400, 400, LIFECYCLE.decliningAfterDays), 'growing')
  t.equal(stage(400, 400, LIFECYCLE.decliningAfterDays + 1), 'declining')
  t.equal(stage(400, 400, 1, LIFECYCLE.maturePurchasesPerYear), 'mature')
  t.equal(stage(400, 400, 1, LIFECYCLE.maturePurchasesPerYear - 1), 'growing')
})
