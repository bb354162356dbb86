// The catalog of rewards through the API: created (a coupon of a unique-code campaign, or a free
// item), read, listed, changed; what a reward may give; another program's reward not found; a
// creation retried with its key answered once.
import t from 'tap'
import { startTestApp } from '../../helpers/app.js'
import { idemKey } from '../../helpers/pos.js'

const ctx = await startTestApp(t)
const shop = await ctx.createProgram()
const other = await ctx.createProgram()
const till = await ctx.createClient(shop.id, ['pos'])

const createReward = (token: string, body: Record<string, unknown>, key = idemKey('rw')) => ctx.call(token, 'POST', '/v1/rewards', body, { 'idempotency-key': key })
async function campaign(token: string, body: Record<string, unknown> = {}) {
  const res = await ctx.call(token, 'POST', '/v1/coupons/campaigns', { name: 'Free drink', kind: 'fixed', value: '35000', codeMode: 'unique', ...body }, { 'idempotency-key': idemKey() })
  if (res.statusCode !== 201) throw new Error(res.body)
  return res.json() as { id: string }
}
const coffee = { name: 'Cà phê sữa đá', pointsPrice: 100, stock: 50, maxPerMember: 2, gives: { kind: 'item', sku: 'CF-01', description: 'One iced milk coffee' } }

t.test('an item reward, as created and read back', async (t) => {
  const res = await createReward(shop.token, { ...coffee, validFrom: '2026-01-01T00:00:00+07:00', validTo: '2027-01-01T00:00:00+07:00' })
  t.equal(res.statusCode, 201, res.body)
  const r = res.json()
  t.match(r, {
    name: 'Cà phê sữa đá',
    pointsPrice: 100,
    stock: 50,
    redemptions: 0,
    validFrom: '2025-12-31T17:00:00.000Z',
    validTo: '2026-12-31T17:00:00.000Z',
    maxPerMember: 2,
    gives: { kind: 'item', sku: 'CF-01', description: 'One iced milk coffee' },
    active: true,
  })
  const read = await ctx.call(till.token, 'GET', `/v1/rewards/${r.id}`)
  t.equal(read.statusCode, 200, 'a till reads the catalog')
  t.same(read.json(), r)
})

t.test('a coupon reward of a unique-code campaign; unlimited stock and no limit per member by default', async (t) => {
  const c = await campaign(shop.token)
  const res = await createReward(shop.token, { name: '35k off', pointsPrice: 250, gives: { kind: 'coupon', campaignId: c.id } })
  t.equal(res.statusCode, 201, res.body)
  t.match(res.json(), { stock: null, maxPerMember: null, validTo: null, gives: { kind: 'coupon', campaignId: c.id } })
})

t.test('a reward gives coupons only of an active unique-code campaign of the program', async (t) => {
  const shared = await campaign(shop.token, { codeMode: 'shared', sharedCode: `SHARED${Date.now()}` })
  const ended = await campaign(shop.token, { validFrom: '2025-01-01T00:00:00Z', validTo: '2025-02-01T00:00:00Z' })
  const archived = await campaign(shop.token)
  await ctx.call(shop.token, 'POST', `/v1/coupons/campaigns/${archived.id}/archive`)
  const theirs = await campaign(other.token)
  for (const [name, campaignId, status, code, reason] of [
    ['shared', shared.id, 422, 'REWARD_CAMPAIGN_UNUSABLE', 'shared'],
    ['ended', ended.id, 422, 'REWARD_CAMPAIGN_UNUSABLE', 'ended'],
    ['archived', archived.id, 422, 'REWARD_CAMPAIGN_UNUSABLE', 'archived'],
    ['another program’s', theirs.id, 404, 'CAMPAIGN_NOT_FOUND', undefined],
  ] as const) {
    const res = await createReward(shop.token, { name: 'x', pointsPrice: 10, gives: { kind: 'coupon', campaignId } })
    t.equal(res.statusCode, status, name)
    t.match(res.json(), { code, ...(reason ? { reason } : {}) }, name)
  }
})

t.test('bad values are refused with the path of each field', async (t) => {
  const cases: [string, Record<string, unknown>, string][] = [
    ['no points', { ...coffee, pointsPrice: 0 }, 'body/pointsPrice'],
    ['fractional points', { ...coffee, pointsPrice: 1.5 }, 'body/pointsPrice'],
    ['negative stock', { ...coffee, stock: -1 }, 'body/stock'],
    ['end before start', { ...coffee, validFrom: '2026-02-01T00:00:00Z', validTo: '2026-01-01T00:00:00Z' }, 'body/validTo'],
    ['an item without sku', { ...coffee, gives: { kind: 'item' } }, 'body/gives/sku'],
    ['an unknown kind', { ...coffee, gives: { kind: 'cash' } }, 'body/gives/kind'],
  ]
  for (const [name, body, path] of cases) {
    const res = await createReward(shop.token, body)
    t.equal(res.statusCode, 400, name)
    t.ok(
      res.json().errors.some((e: { path: string }) => e.path.startsWith(path)),
      `${name}: ${JSON.stringify(res.json().errors)}`,
    )
  }
})

t.test('a creation retried with its key answers the same reward once', async (t) => {
  const key = idemKey('same')
  const first = await createReward(shop.token, { ...coffee, name: 'Bánh mì' }, key)
  const again = await createReward(shop.token, { ...coffee, name: 'Bánh mì' }, key)
  t.equal(first.statusCode, 201)
  t.equal(again.statusCode, 201)
  t.equal(again.headers['idempotent-replayed'], 'true')
  t.same(again.json(), first.json())
  const list = await ctx.call(shop.token, 'GET', '/v1/rewards?limit=200')
  t.equal(list.json().data.filter((r: { name: string }) => r.name === 'Bánh mì').length, 1)
})

t.test('the catalog lists by page and by active; PATCH changes only what it is sent', async (t) => {
  const created = await createReward(shop.token, { ...coffee, name: 'Trà đào' })
  const id = created.json().id
  const patched = await ctx.call(shop.token, 'PATCH', `/v1/rewards/${id}`, { stock: 3, validTo: '2030-01-01T00:00:00Z', active: false })
  t.equal(patched.statusCode, 200, patched.body)
  t.match(patched.json(), { name: 'Trà đào', stock: 3, validTo: '2030-01-01T00:00:00.000Z', active: false, pointsPrice: 100 })
  const inactive = await ctx.call(shop.token, 'GET', '/v1/rewards?active=false')
  t.same(
    inactive.json().data.map((r: { id: string }) => r.id),
    [id],
  )
  const unlimited = await ctx.call(shop.token, 'PATCH', `/v1/rewards/${id}`, { stock: null, active: true, name: 'Trà đào cam sả' })
  t.match(unlimited.json(), { name: 'Trà đào cam sả', stock: null, active: true })

  const first = await ctx.call(shop.token, 'GET', '/v1/rewards?limit=2')
  t.equal(first.json().data.length, 2)
  const next = await ctx.call(shop.token, 'GET', `/v1/rewards?limit=200&cursor=${first.json().nextCursor}`)
  const ids = [...first.json().data, ...next.json().data].map((r: { id: string }) => r.id)
  t.equal(new Set(ids).size, ids.length, 'pages do not repeat')
  t.ok(ids.includes(id))

  const empty = await ctx.call(shop.token, 'PATCH', `/v1/rewards/${id}`, {})
  t.equal(empty.statusCode, 400, 'an empty PATCH changes nothing')
  const crossed = await ctx.call(shop.token, 'PATCH', `/v1/rewards/${id}`, { validFrom: '2031-01-01T00:00:00Z' })
  t.equal(crossed.statusCode, 400, 'a start after the end it keeps')
  t.match(crossed.json(), { code: 'VALIDATION_FAILED', errors: [{ path: 'body/validTo' }] })
  t.same((await ctx.call(shop.token, 'PATCH', `/v1/rewards/${id}`, { price: 5 })).statusCode, 400, 'the price is fixed')
})

t.test('another program’s reward is not found; a till cannot change the catalog', async (t) => {
  const theirs = (await createReward(other.token, coffee)).json().id
  for (const res of [await ctx.call(shop.token, 'GET', `/v1/rewards/${theirs}`), await ctx.call(shop.token, 'PATCH', `/v1/rewards/${theirs}`, { name: 'mine' })]) {
    t.equal(res.statusCode, 404)
    t.equal(res.json().code, 'REWARD_NOT_FOUND')
  }
  t.notOk((await ctx.call(shop.token, 'GET', '/v1/rewards?limit=200')).json().data.some((r: { id: string }) => r.id === theirs), 'nor listed')
  t.equal((await createReward(till.token, coffee)).statusCode, 403)
  t.equal((await ctx.call(till.token, 'PATCH', `/v1/rewards/${theirs}`, { name: 'x' })).statusCode, 403)
})
