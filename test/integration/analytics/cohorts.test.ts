// Cohort tables computed by hand; sales inserted with SQL (test/helpers/seed.ts) to spread them over months.
import t from 'tap'
import { startTestApp } from '../../helpers/app.js'
import { seedPurchase } from '../../helpers/seed.js'

const ctx = await startTestApp(t)
const program = await ctx.createProgram()
const ids = await Promise.all(Array.from({ length: 9 }, () => ctx.enrol(program.token).then((m) => m.id)))
const [M1, M2, M3, M4, M5, M6, M7, M8, M9] = ids as [string, string, string, string, string, string, string, string, string]
const buy = (memberId: string, at: string) => seedPurchase(ctx.database, program.id, { memberId, occurredAt: at, total: 100_000n })
const local = (day: string) => `${day}T12:00:00+07:00`

// January cohort: M1-M4. February: M5, M6. March: M7. M8 first buys at 03:00 on 1 April in Ho Chi
// Minh City (still 31 March in UTC). M9 first bought in December 2023: no cohort of the period.
for (const m of [M1, M2, M3, M4]) await buy(m, local('2024-01-10'))
await buy(M1, local('2024-02-05'))
await buy(M1, local('2024-02-20')) // twice in a month is one active member
await buy(M2, local('2024-02-06'))
await buy(M1, local('2024-03-07'))
await buy(M1, local('2024-04-08'))
await buy(M3, local('2024-04-09'))
await buy(M5, local('2024-02-11'))
await buy(M6, local('2024-02-12'))
await buy(M5, local('2024-03-13'))
await buy(M7, local('2024-03-14'))
await buy(M7, local('2024-04-15'))
await buy(M8, '2024-03-31T20:00:00Z')
await buy(M9, local('2023-12-15'))
await buy(M9, local('2024-01-16'))
await buy(M2, local('2024-05-01')) // after the period
await seedPurchase(ctx.database, program.id, { memberId: M4, occurredAt: local('2024-03-01'), total: 100_000n, returned: 100_000n }) // wholly returned

const cohorts = async (query: string) => {
  const res = await ctx.call(program.token, 'GET', `/v1/analytics/cohorts?${query}`)
  if (res.statusCode !== 200) throw new Error(res.body)
  return res.json()
}
const table = (body: { cohorts: { cohort: string; members: number; retention: { period: string; active: number; rate: number }[] }[] }) =>
  body.cohorts.map((c) => [c.cohort, c.members, c.retention.map((r) => `${r.period}:${r.active}:${r.rate}`)])

t.test('monthly cohorts: % of each first-purchase month active in every later month', async (t) => {
  const body = await cohorts('by=month&from=2024-01-01&to=2024-04-30')
  t.equal(body.by, 'month')
  t.same(table(body), [
    ['2024-01', 4, ['2024-01:4:1', '2024-02:2:0.5', '2024-03:1:0.25', '2024-04:2:0.5']],
    ['2024-02', 2, ['2024-02:2:1', '2024-03:1:0.5', '2024-04:0:0']],
    ['2024-03', 1, ['2024-03:1:1', '2024-04:1:1']],
    ['2024-04', 1, ['2024-04:1:1']],
  ])
  t.equal(body.cohorts[0].startsOn, '2024-01-01')
  t.same(body.cohorts[0].retention.map((r: { offset: number }) => r.offset), [0, 1, 2, 3])
})

t.test('quarterly and yearly cohorts', async (t) => {
  t.same(table(await cohorts('by=quarter&from=2024-01-01&to=2024-06-30')), [
    ['2024-Q1', 7, ['2024-Q1:7:1', '2024-Q2:4:0.5714']], // M1 M3 M7 in April, M2 in May
    ['2024-Q2', 1, ['2024-Q2:1:1']],
  ])
  t.same(table(await cohorts('by=year&from=2023-01-01&to=2024-12-31')), [
    ['2023', 1, ['2023:1:1', '2024:1:1']],
    ['2024', 8, ['2024:8:1']],
  ])
})

t.test('month is the default; a period without first purchases has no cohorts', async (t) => {
  t.equal((await cohorts('from=2024-01-01&to=2024-01-31')).by, 'month')
  t.same((await cohorts('from=2020-01-01&to=2020-12-31')).cohorts, [])
  t.equal((await ctx.call(program.token, 'GET', '/v1/analytics/cohorts?by=week&from=2024-01-01&to=2024-01-31')).statusCode, 400)
})
