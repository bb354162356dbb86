// Ten customers with distinct recency, frequency and monetary values, so each quintile holds two
// (score = 1 + floor(5 x (rank - 1) / 10)). Sales inserted with SQL to place them months apart.
import t from 'tap'
import { startTestApp } from '../../helpers/app.js'
import { seedPurchase } from '../../helpers/seed.js'
import { RF_GRID, SEGMENTS } from '../../../src/modules/segments/rfm.js'

const ctx = await startTestApp(t)
const program = await ctx.createProgram()

/** [name, days since the last purchase on 30 June 2024, purchases, amount of each] -> expected R, F, M, segment */
const customers = [
  ['X1', 1, 9, 10_000, 5, 5, 4, 'champions'],
  ['X2', 5, 1, 1_000_000, 5, 1, 5, 'new_customers'],
  ['X3', 40, 2, 10_000, 4, 1, 1, 'promising'],
  ['X4', 300, 10, 10_000, 1, 5, 5, 'cant_lose_them'],
  ['X5', 290, 3, 10_000, 1, 2, 1, 'lost'],
  ['X6', 200, 5, 10_000, 2, 3, 2, 'at_risk'],
  ['X7', 100, 6, 10_000, 3, 3, 3, 'need_attention'],
  ['X8', 90, 4, 10_000, 3, 2, 2, 'about_to_sleep'],
  ['X9', 30, 7, 10_000, 4, 4, 3, 'loyal_customers'],
  ['X10', 190, 8, 10_000, 2, 4, 4, 'at_risk'],
] as const

const ids = new Map<string, string>()
const asOfDay = Date.UTC(2024, 5, 30, 5) // 30 June 2024, 12:00 in Ho Chi Minh City
for (const [name, recency, frequency, amount] of customers) {
  const m = await ctx.enrol(program.token)
  ids.set(name, m.id)
  for (let i = 0; i < frequency; i++) {
    await seedPurchase(ctx.database, program.id, { memberId: m.id, occurredAt: new Date(asOfDay - (recency + i) * 86_400_000), total: BigInt(amount) })
  }
}
const never = await ctx.enrol(program.token) // no purchase: not scored

t.test('scores and segments as of 30 June 2024', async (t) => {
  const res = await ctx.call(program.token, 'GET', '/v1/analytics/rfm?asOf=2024-06-30')
  t.equal(res.statusCode, 200)
  const body = res.json()
  t.equal(body.asOf, '2024-06-30T17:00:00.000Z', 'the end of 30 June in the program zone')
  t.equal(body.members, 10, 'a member who never bought is not scored')
  const expected = new Map<string, number>()
  for (const c of customers) expected.set(c[7], (expected.get(c[7]) ?? 0) + 1)
  t.same(
    body.segments,
    SEGMENTS.map((segment) => ({ segment, members: expected.get(segment) ?? 0, share: (expected.get(segment) ?? 0) / 10 })),
  )
  t.same(body.scores.recency, [
    { score: 1, members: 2, min: '290', max: '300' },
    { score: 2, members: 2, min: '190', max: '200' },
    { score: 3, members: 2, min: '90', max: '100' },
    { score: 4, members: 2, min: '30', max: '40' },
    { score: 5, members: 2, min: '1', max: '5' },
  ])
  t.same(
    body.scores.frequency.map((b: { min: string; max: string }) => [b.min, b.max]),
    [
      ['1', '2'],
      ['3', '4'],
      ['5', '6'],
      ['7', '8'],
      ['9', '10'],
    ],
  )
  t.same(body.scores.monetary[4], { score: 5, members: 2, min: '100000', max: '1000000' }, 'X4 (10 x 10,000) and X2 (one sale of 1,000,000)')
  t.same(body.scores.monetary[0], { score: 1, members: 2, min: '20000', max: '30000' })
})

t.test('ties share a score', async (t) => {
  const other = await ctx.createProgram()
  const twins = await Promise.all([ctx.enrol(other.token), ctx.enrol(other.token), ctx.enrol(other.token)])
  for (const m of twins.slice(0, 2)) await seedPurchase(ctx.database, other.id, { memberId: m.id, occurredAt: '2024-06-01T12:00:00+07:00', total: 10_000n })
  await seedPurchase(ctx.database, other.id, { memberId: twins[2]!.id, occurredAt: '2024-06-20T12:00:00+07:00', total: 50_000n })
  const body = (await ctx.call(other.token, 'GET', '/v1/analytics/rfm?asOf=2024-06-30')).json()
  t.same(
    body.scores.recency.map((b: { score: number; members: number }) => [b.score, b.members]),
    [
      [1, 2],
      [4, 1],
    ],
    'two identical customers both score 1 (none is worse than them); the third is 1 + floor(5 x 2 / 3) = 4',
  )
})

t.test('members can be listed by segment', async (t) => {
  // Today instead of 30 June 2024: every recency grows by the same number of days, so the ranks and segments stay.
  const res = await ctx.call(program.token, 'GET', '/v1/members?segment=at_risk')
  t.equal(res.statusCode, 200)
  t.same(res.json().data.map((m: { id: string }) => m.id).sort(), [ids.get('X6'), ids.get('X10')].sort())
  const champions = (await ctx.call(program.token, 'GET', '/v1/members?segment=champions')).json()
  t.same(champions.data.map((m: { id: string }) => m.id), [ids.get('X1')])
  const paged = await ctx.call(program.token, 'GET', '/v1/members?segment=at_risk&limit=1')
  const first = paged.json()
  t.equal(first.data.length, 1)
  t.type(first.nextCursor, 'string')
  const second = (await ctx.call(program.token, 'GET', `/v1/members?segment=at_risk&limit=1&cursor=${first.nextCursor}`)).json()
  t.equal(second.data.length, 1)
  t.not(second.data[0].id, first.data[0].id)
  t.equal(second.nextCursor, null)
  t.same((await ctx.call(program.token, 'GET', '/v1/members?segment=potential_loyalist')).json().data, [])
  const combined = await ctx.call(program.token, 'GET', `/v1/members?segment=lost&phone=${encodeURIComponent('+84981234567')}`)
  t.equal(combined.statusCode, 400, 'a segment is not combined with a lookup')
  t.equal((await ctx.call(program.token, 'GET', '/v1/members?segment=vip')).statusCode, 400)
  void never
})

t.test('the grid gives every (R, F) pair one of the named segments, and uses them all', async (t) => {
  t.equal(RF_GRID.length, 5)
  for (const row of RF_GRID) t.equal(row.length, 5)
  t.same([...new Set(RF_GRID.flat())].sort(), [...SEGMENTS].sort())
})
