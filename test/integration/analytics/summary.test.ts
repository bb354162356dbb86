// Hand-computed customer numbers. Sales of 2019-2025 are inserted with SQL (test/helpers/seed.ts):
// the API only takes sales up to 90 days old. The last test goes through the API (purchase, return).
import t from 'tap'
import { startTestApp } from '../../helpers/app.js'
import { Till, VND_RULES } from '../../helpers/pos.js'
import { enrolledAt, seedPurchase } from '../../helpers/seed.js'

const ctx = await startTestApp(t)
const program = await ctx.createProgram({ rules: VND_RULES })

const member = async (createdAt: string) => {
  const m = await ctx.enrol(program.token)
  await enrolledAt(ctx.database, program.id, m.id, createdAt)
  return m.id
}
const buy = (memberId: string, day: string, total: number, extra: { returned?: number; status?: 'completed' | 'pending' | 'voided' } = {}) =>
  seedPurchase(ctx.database, program.id, {
    memberId,
    occurredAt: `${day}T10:00:00+07:00`,
    total: BigInt(total),
    returned: extra.returned === undefined ? undefined : BigInt(extra.returned),
    status: extra.status,
  })

// A: a customer since 2022, buys in 2024. B: bought in 2023 only (lost). C: bought in 2023 and 2024.
// D, E, G: first purchases in 2024 (new). F: enrolled, never bought. H: only a voided and a held sale.
const A = await member('2022-01-10T09:00:00+07:00')
const B = await member('2023-01-05T09:00:00+07:00')
const C = await member('2023-05-01T09:00:00+07:00')
const D = await member('2024-02-01T09:00:00+07:00')
const E = await member('2024-06-01T09:00:00+07:00')
const F = await member('2024-10-01T09:00:00+07:00')
const G = await member('2019-01-01T09:00:00+07:00')
const H = await member('2024-03-01T09:00:00+07:00')
await buy(A, '2022-02-01', 100_000)
await buy(A, '2023-06-01', 200_000)
await buy(A, '2024-03-01', 300_000)
await buy(A, '2024-09-01', 100_000)
await buy(A, '2025-01-05', 999_000) // after the period
await buy(B, '2023-03-01', 50_000)
await buy(B, '2023-11-15', 150_000)
await buy(C, '2023-05-02', 80_000)
await buy(C, '2024-05-05', 120_000)
await buy(D, '2024-02-02', 60_000)
await buy(D, '2024-07-01', 40_000, { returned: 10_000 }) // counts 30,000
await buy(D, '2024-08-01', 50_000, { returned: 50_000 }) // wholly returned: not a sale
await buy(E, '2024-06-10', 500_000)
await buy(G, '2024-12-20', 20_000)
await buy(H, '2024-03-02', 70_000, { status: 'voided' })
await buy(H, '2024-03-03', 70_000, { status: 'pending' })
void F

const summary = async (query: string) => {
  const res = await ctx.call(program.token, 'GET', `/v1/analytics/summary?${query}`)
  if (res.statusCode !== 200) throw new Error(res.body)
  return res.json()
}

t.test('the year 2024, computed by hand', async (t) => {
  const s = await summary('from=2024-01-01&to=2024-12-31')
  t.equal(s.from, '2023-12-31T17:00:00.000Z', 'days of Asia/Ho_Chi_Minh')
  t.equal(s.to, '2024-12-31T17:00:00.000Z')
  t.equal(s.activeWindowDays, 366, 'the 365-day window stretched to the leap year')
  t.same(s.members, { total: 8, enrolled: 4 }, 'D, E, F, H enrolled in 2024')
  t.same(s.customers, { active: 5, new: 3, atStart: 3, atEnd: 5 }, 'active A C D E G; new D E G; at start A B C')
  t.equal(s.retentionRate, 0.6667, '(5 - 3) / 3: A and C stayed, B left')
  t.equal(s.churnRate, 0.3333)
  t.equal(s.purchases, 7, 'A 2, C 1, D 2, E 1, G 1; not the wholly returned, voided or held ones')
  t.equal(s.revenue, '1130000', '400,000 + 120,000 + 90,000 (net of a 10,000 return) + 500,000 + 20,000')
  t.equal(s.averageTransactionValue, '161429', '1,130,000 / 7 = 161,428.57, half up')
  t.equal(s.purchaseFrequency, 1.4, '7 purchases / 5 customers')
  t.same(s.lifetimeValue, { historic: '285000', averageOrderValue: '142500', purchasesPerCustomer: 2, customers: 6 }, '1,710,000 over 12 purchases of 6 customers')
  t.same(s.topCustomers, { customers: 1, revenue: '500000', share: 0.4425 }, 'the top 20% of 5 is 1 customer (E): 500,000 / 1,130,000')
  t.same(s.tenure, {
    customers: 5,
    oneYearOrMore: { customers: 2, share: 0.4 },
    twoYearsOrMore: { customers: 1, share: 0.2 },
    fiveYearsOrMore: { customers: 0, share: 0 },
  }, 'A since 2022 and C since May 2023, of A C D E G')
  t.same(s.outstanding, { points: 0, pointsValue: '0', storedValue: '0' })
})

t.test('2023: every customer is new or was there at the start', async (t) => {
  const s = await summary('from=2023-01-01&to=2023-12-31')
  t.same(s.customers, { active: 3, new: 2, atStart: 1, atEnd: 3 }, 'active A B C; new B C; at start A (Feb 2022)')
  t.equal(s.retentionRate, 1)
  t.equal(s.churnRate, 0)
  t.equal(s.revenue, '480000')
})

t.test('a shorter active window counts fewer customers at the start and end', async (t) => {
  const s = await summary('from=2024-07-01&to=2024-12-31&activeDays=184')
  t.equal(s.activeWindowDays, 184)
  // at start: purchases in [2024-01-01, 2024-07-01): A, C, D, E; at end: [2024-07-01, 2025-01-01): A, D, G
  t.same(s.customers, { active: 3, new: 1, atStart: 4, atEnd: 3 })
  t.equal(s.retentionRate, 0.5, '(3 - 1) / 4')
})

t.test('a period with nobody at the start has no retention rate', async (t) => {
  const s = await summary('from=2010-01-01&to=2010-12-31')
  t.same(s.customers, { active: 0, new: 0, atStart: 0, atEnd: 0 })
  t.equal(s.retentionRate, null)
  t.equal(s.churnRate, null)
  t.equal(s.averageTransactionValue, null)
  t.equal(s.purchaseFrequency, null)
  t.equal(s.topCustomers.share, null)
  t.equal(s.lifetimeValue.historic, null)
})

t.test('sales through the API: revenue nets out returns, outstanding balances come from the ledger', async (t) => {
  const api = await ctx.createProgram({ rules: VND_RULES })
  const till = new Till(ctx, api.token)
  const m = await ctx.enrol(api.token)
  await till.topUp(m.id, '500000')
  const sale = await till.purchase(m.id, [{ sku: 'A', quantity: 3, unitPrice: '100000' }], [
    { type: 'storedValue', amount: '100000' },
    { type: 'cash', amount: '200000' },
  ])
  t.equal(sale.statusCode, 201)
  t.equal((await till.returnPurchase(sale.json().id, { lines: [{ sku: 'A', quantity: 1 }] })).statusCode, 201)
  const whole = await till.purchase(m.id, [{ sku: 'B', quantity: 1, unitPrice: '50000' }], [{ type: 'cash', amount: '50000' }])
  await till.returnPurchase(whole.json().id, { lines: [{ sku: 'B', quantity: 1 }] })

  const today = new Date()
  const res = await ctx.call(api.token, 'GET', `/v1/analytics/summary?from=2000-01-01&to=${encodeURIComponent(new Date(today.getTime() + 60_000).toISOString())}`)
  const s = res.json()
  t.equal(s.purchases, 1, 'the wholly returned sale does not count')
  t.equal(s.revenue, '200000', '300,000 sold, 100,000 returned')
  const balances = await till.balances(m.id)
  t.same(s.outstanding, { points: balances.points.balance, pointsValue: String(balances.points.balance * 100), storedValue: balances.storedValue.balance })
  t.equal(s.outstanding.storedValue, '433333', '500,000 loaded, 100,000 spent, a third of it given back')
})

t.test('finance:read only; to after from', async (t) => {
  const pos = await ctx.createClient(program.id, ['pos', 'members:read'])
  t.equal((await ctx.call(pos.token, 'GET', '/v1/analytics/summary?from=2024-01-01&to=2024-12-31')).statusCode, 403)
  t.equal((await ctx.call(program.token, 'GET', '/v1/analytics/summary?from=2024-12-31&to=2024-01-01')).statusCode, 400)
  t.equal((await ctx.call(program.token, 'GET', '/v1/analytics/summary?from=2024-01-01&to=2024-12-31&activeDays=0')).statusCode, 400)
})
