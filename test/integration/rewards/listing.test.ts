// What a member can redeem now (a till's or an app's list) and the member's redemptions, through
// the API: affordable, in stock, within the limit and valid; why not, when asked; another
// program's member not found.
import t from 'tap'
import { startTestApp } from '../../helpers/app.js'
import { idemKey, Till } from '../../helpers/pos.js'

const ctx = await startTestApp(t)
const shop = await ctx.createProgram()
const other = await ctx.createProgram()
const app = await ctx.createClient(shop.id, ['balances:read'])
const pos = await ctx.createClient(shop.id, ['pos'])
const till = new Till(ctx, shop.token)

async function reward(body: Record<string, unknown>) {
  const res = await ctx.call(shop.token, 'POST', '/v1/rewards', { pointsPrice: 100, gives: { kind: 'item', sku: 'SKU' }, ...body }, { 'idempotency-key': idemKey('rw') })
  if (res.statusCode !== 201) throw new Error(res.body)
  return res.json() as { id: string; name: string }
}
const redeem = async (memberId: string, rewardId: string) => {
  const res = await ctx.call(pos.token, 'POST', `/v1/members/${memberId}/rewards/${rewardId}/redemptions`, undefined, { 'idempotency-key': idemKey('rd') })
  if (res.statusCode !== 201) throw new Error(res.body)
  return res.json().redemption as { id: string }
}
const available = async (memberId: string, query = '', token = app.token) => ctx.call(token, 'GET', `/v1/members/${memberId}/rewards${query}`)

const coffee = await reward({ name: 'Cà phê', pointsPrice: 80, maxPerMember: 1 })
const tea = await reward({ name: 'Trà', pointsPrice: 60 })
const cake = await reward({ name: 'Bánh', pointsPrice: 300 })
const gone = await reward({ name: 'Hết hàng', pointsPrice: 10, stock: 0 })
const retired = await reward({ name: 'Ngừng', pointsPrice: 10 })
await ctx.call(shop.token, 'PATCH', `/v1/rewards/${retired.id}`, { active: false })
const past = await reward({ name: 'Hết hạn', pointsPrice: 10, validFrom: '2025-01-01T00:00:00Z', validTo: '2025-06-01T00:00:00Z' })
const m = (await ctx.enrol(shop.token)).id
await till.grantPoints(m, 200)

t.test('the rewards the member can redeem now, cheapest first', async (t) => {
  const res = await available(m)
  t.equal(res.statusCode, 200, res.body)
  const body = res.json()
  t.match(body, { memberId: m, pointsAvailable: 200 })
  t.same(
    body.data.map((r: { reward: { id: string }; availability: string; memberRedemptionsLeft: number | null }) => [r.reward.id, r.availability, r.memberRedemptionsLeft]),
    [
      [tea.id, 'available', null],
      [coffee.id, 'available', 1],
    ],
  )
  t.match(body.data[0].reward, { name: 'Trà', pointsPrice: 60, gives: { kind: 'item', sku: 'SKU' } })
})

t.test('once redeemed within its limit, a reward leaves the list; all=true says why', async (t) => {
  await redeem(m, coffee.id)
  const now = (await available(m)).json()
  t.equal(now.pointsAvailable, 120)
  t.same(
    now.data.map((r: { reward: { id: string } }) => r.reward.id),
    [tea.id],
  )
  const all = (await available(m, '?all=true', pos.token)).json()
  const byId = new Map(all.data.map((r: { reward: { id: string }; availability: string; pointsShort: number }) => [r.reward.id, [r.availability, r.pointsShort]]))
  t.same(byId.get(coffee.id), ['limit_reached', 0])
  t.same(byId.get(cake.id), ['not_enough_points', 180])
  t.same(byId.get(gone.id), ['out_of_stock', 0])
  t.same(byId.get(past.id), ['ended', 0])
  t.notOk(byId.has(retired.id), 'an inactive reward is not offered')
})

t.test('the member’s redemptions, newest first, by page and by status', async (t) => {
  const first = await redeem(m, tea.id)
  const list = (await ctx.call(app.token, 'GET', `/v1/members/${m}/rewards/redemptions?limit=1`)).json()
  t.equal(list.data.length, 1)
  t.match(list.data[0], { id: first.id, reward: { id: tea.id, name: 'Trà' }, points: 60, status: 'active' })
  const rest = (await ctx.call(app.token, 'GET', `/v1/members/${m}/rewards/redemptions?cursor=${list.nextCursor}`)).json()
  t.same(
    rest.data.map((r: { reward: { id: string } }) => r.reward.id),
    [coffee.id],
  )
  t.equal(rest.nextCursor, null)
  await ctx.call(pos.token, 'POST', `/v1/members/${m}/rewards/redemptions/${first.id}/cancellation`, undefined, { 'idempotency-key': idemKey() })
  const cancelled = (await ctx.call(app.token, 'GET', `/v1/members/${m}/rewards/redemptions?status=cancelled`)).json()
  t.same(
    cancelled.data.map((r: { id: string; status: string }) => [r.id, r.status]),
    [[first.id, 'cancelled']],
  )
})

t.test('another program’s member is not found; an erased member has nothing to redeem', async (t) => {
  const theirs = (await ctx.enrol(other.token)).id
  for (const url of [`/v1/members/${theirs}/rewards`, `/v1/members/${theirs}/rewards/redemptions`]) {
    const res = await ctx.call(app.token, 'GET', url)
    t.equal(res.statusCode, 404, url)
    t.equal(res.json().code, 'MEMBER_NOT_FOUND')
  }
  const erased = (await ctx.enrol(shop.token)).id
  await till.grantPoints(erased, 500)
  await ctx.call(shop.token, 'DELETE', `/v1/members/${erased}`)
  t.same((await available(erased)).json().data, [])
})
