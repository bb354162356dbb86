import t from 'tap'
import { startTestApp } from '../../helpers/app.js'
import { idemKey, Till, USD_RULES, VND_RULES } from '../../helpers/pos.js'

const ctx = await startTestApp(t)
const vnd = await ctx.createProgram({ rules: { ...VND_RULES, earning: { ...VND_RULES.earning, excludedCategories: ['tobacco'], categoryMultipliers: { coffee: '2' } } } })
const usd = await ctx.createProgram({ currency: 'USD', country: 'US', timezone: 'America/New_York', rules: USD_RULES })
const till = new Till(ctx, vnd.token)
const usdTill = new Till(ctx, usd.token, 'USD')

t.afterEach(async () => {
  for (const tl of [till, usdTill]) {
    const report = await tl.verify()
    if (!report.ok) throw new Error(`ledger verify failed: ${JSON.stringify(report.discrepancies)}`)
  }
})

t.test('a cash purchase earns points rounded down per purchase: 105,000 VND earns 10', async (t) => {
  const m = await ctx.enrol(vnd.token)
  const res = await till.purchase(m.id, [{ sku: 'RICE', quantity: 3, unitPrice: '35000' }], [{ type: 'cash', amount: '105000' }])
  t.equal(res.statusCode, 201)
  const p = res.json()
  t.match(p, { status: 'completed', total: '105000', subtotal: '105000', pointsEarned: 10, pointsRedeemed: 0, storedValueUsed: '0' })
  t.equal(p.balances.points.balance, 10)
  t.same(p.lines[0], { line: 1, sku: 'RICE', name: 'RICE', quantity: 3, unitPrice: '35000', discount: '0', orderDiscount: '0', amount: '105000', category: null, taxRate: null, returnedQuantity: 0 })
  t.same((await ctx.call(vnd.token, 'GET', `/v1/purchases/${p.id}`)).json().id, p.id)
})

t.test('category multipliers and exclusions apply per line; line discounts reduce the earning base', async (t) => {
  const m = await ctx.enrol(vnd.token)
  const res = await till.purchase(
    m.id,
    [
      { sku: 'CIG', quantity: 1, unitPrice: '50000', category: 'tobacco' },
      { sku: 'CF', quantity: 2, unitPrice: '30000', category: 'coffee', discount: '10000' },
      { sku: 'BREAD', quantity: 1, unitPrice: '15000' },
    ],
    [{ type: 'card', amount: '115000' }],
  )
  t.equal(res.statusCode, 201)
  // tobacco earns nothing; coffee 50,000 x2 = 100,000; bread 15,000 -> 115,000 / 10,000 = 11.5 -> 11
  t.equal(res.json().pointsEarned, 11)
  t.equal(res.json().discountTotal, '10000')
})

t.test('mixed tenders: stored value earns, points do not; balances after are returned', async (t) => {
  const m = await ctx.enrol(vnd.token)
  await till.topUp(m.id, '100000')
  await till.grantPoints(m.id, 500)
  const res = await till.purchase(
    m.id,
    [{ sku: 'MEAL', quantity: 1, unitPrice: '200000' }],
    [
      { type: 'storedValue', amount: '60000' },
      { type: 'points', points: 400 },
      { type: 'cash', amount: '100000' },
    ],
  )
  t.equal(res.statusCode, 201)
  const p = res.json()
  // money paid = 200,000 - 400 x 100 = 160,000 -> 16 points
  t.match(p, { pointsEarned: 16, pointsRedeemed: 400, storedValueUsed: '60000' })
  t.same(p.balances.points, { balance: 116, available: 116, pending: 0 })
  t.equal(p.balances.storedValue.balance, '40000')
  t.same(p.tenders, [
    { type: 'storedValue', amount: '60000' },
    { type: 'points', amount: '40000', points: 400 },
    { type: 'cash', amount: '100000' },
  ])
})

t.test('USD amounts have cents; earning rounds down per purchase', async (t) => {
  const m = await ctx.enrol(usd.token, { phone: '+12124567890' })
  const res = await usdTill.purchase(m.id, [{ sku: 'TEE', quantity: 2, unitPrice: '12.99' }], [{ type: 'card', amount: '25.98' }])
  t.equal(res.statusCode, 201)
  t.match(res.json(), { total: '25.98', pointsEarned: 25 })
  const bad = await usdTill.purchase(m.id, [{ sku: 'TEE', quantity: 1, unitPrice: '12.999' }], [{ type: 'card', amount: '12.999' }])
  t.equal(bad.statusCode, 400)
  t.match(bad.json().errors[0].path, /unitPrice/)
})

t.test('amounts invalid for VND, mismatched tenders and wrong currency are refused precisely', async (t) => {
  const m = await ctx.enrol(vnd.token)
  const cases: [unknown[], unknown[], Record<string, unknown>, number, string][] = [
    [[{ sku: 'A', quantity: 1, unitPrice: '125000.5' }], [{ type: 'cash', amount: '125000.5' }], {}, 400, 'VALIDATION_FAILED'],
    [[{ sku: 'A', quantity: 1, unitPrice: '-5' }], [{ type: 'cash', amount: '0' }], {}, 400, 'VALIDATION_FAILED'],
    [[{ sku: 'A', quantity: 1, unitPrice: '1e5' }], [{ type: 'cash', amount: '100000' }], {}, 400, 'VALIDATION_FAILED'],
    [[{ sku: 'A', quantity: 0, unitPrice: '10' }], [{ type: 'cash', amount: '0' }], {}, 400, 'VALIDATION_FAILED'],
    [[{ sku: 'A', quantity: 1, unitPrice: '100000' }], [{ type: 'cash', amount: '99999' }], {}, 422, 'TENDERS_DO_NOT_MATCH_TOTAL'],
    [[{ sku: 'A', quantity: 1, unitPrice: '100000' }], [{ type: 'cash', amount: '100000' }], { currency: 'USD' }, 422, 'CURRENCY_MISMATCH'],
    [[{ sku: 'A', quantity: 1, unitPrice: '100000', discount: '100001' }], [{ type: 'cash', amount: '0' }], {}, 422, 'LINE_DISCOUNT_TOO_LARGE'],
    [[{ sku: 'A', quantity: 1, unitPrice: '100000' }], [{ type: 'storedValue', amount: '100000' }], {}, 422, 'INSUFFICIENT_FUNDS'],
    [[{ sku: 'A', quantity: 1, unitPrice: '100000' }], [{ type: 'points', points: 1000 }], {}, 422, 'INSUFFICIENT_FUNDS'],
    [[{ sku: 'A', quantity: 1, unitPrice: '100000' }], [{ type: 'cash', amount: '100000' }], { occurredAt: '2099-01-01T00:00:00Z' }, 422, 'OCCURRED_AT_IN_FUTURE'],
    [[{ sku: 'A', quantity: 1, unitPrice: '100000' }], [{ type: 'cash', amount: '100000' }], { occurredAt: '2020-01-01T00:00:00Z' }, 422, 'OCCURRED_AT_TOO_OLD'],
  ]
  for (const [lines, tenders, extra, status, code] of cases) {
    const res = await till.purchase(m.id, lines as never, tenders, extra)
    t.equal(res.statusCode, status, code)
    t.equal(res.json().code, code, JSON.stringify({ lines, tenders, extra }))
  }
  t.same((await till.balances(m.id)).points.balance, 0, 'nothing was written by any refusal')
  const list = (await ctx.call(vnd.token, 'GET', `/v1/purchases?memberId=${m.id}`)).json()
  t.same(list.data, [])
})

t.test('redemption limits and a program without a point value', async (t) => {
  const limited = await ctx.createProgram({ rules: { ...VND_RULES, redemption: { minPoints: 100, maxPoints: 500 } } })
  const lt = new Till(ctx, limited.token)
  const m = await ctx.enrol(limited.token)
  await lt.grantPoints(m.id, 2000)
  const low = await lt.purchase(m.id, [{ sku: 'A', quantity: 1, unitPrice: '10000' }], [{ type: 'points', points: 50 }, { type: 'cash', amount: '5000' }])
  t.equal(low.json().code, 'REDEMPTION_BELOW_MINIMUM')
  const high = await lt.purchase(m.id, [{ sku: 'A', quantity: 1, unitPrice: '100000' }], [{ type: 'points', points: 600 }, { type: 'cash', amount: '40000' }])
  t.equal(high.json().code, 'REDEMPTION_ABOVE_MAXIMUM')
  const ok = await lt.purchase(m.id, [{ sku: 'A', quantity: 1, unitPrice: '100000' }], [{ type: 'points', points: 500 }, { type: 'cash', amount: '50000' }])
  t.equal(ok.statusCode, 201)

  const noValue = await ctx.createProgram({ rules: { earning: VND_RULES.earning } })
  const nt = new Till(ctx, noValue.token)
  const n = await ctx.enrol(noValue.token)
  const refused = await nt.purchase(n.id, [{ sku: 'A', quantity: 1, unitPrice: '10000' }], [{ type: 'points', points: 1 }, { type: 'cash', amount: '9900' }])
  t.equal(refused.json().code, 'POINTS_NOT_REDEEMABLE')
  const noEarning = await ctx.createProgram()
  const earned = await new Till(ctx, noEarning.token).purchase((await ctx.enrol(noEarning.token)).id, [{ sku: 'A', quantity: 1, unitPrice: '990000' }], [{ type: 'cash', amount: '990000' }])
  t.equal(earned.json().pointsEarned, 0, 'a program without earning rules earns nothing')
})

t.test('members are found by phone or card number; unknown members are 404', async (t) => {
  const m = await ctx.enrol(vnd.token, { cardNumber: 'CARD-P-1' })
  const byPhone = await ctx.call(vnd.token, 'POST', '/v1/purchases', {
    phone: m.phone, storeId: 'S1', terminalId: 'T1', externalId: `X-${Date.now()}`, currency: 'VND',
    lines: [{ sku: 'A', name: 'A', quantity: 1, unitPrice: '20000' }], tenders: [{ type: 'cash', amount: '20000' }],
  }, { 'idempotency-key': idemKey() })
  t.equal(byPhone.json().memberId, m.id)
  const byCard = await ctx.call(vnd.token, 'POST', '/v1/purchases', {
    cardNumber: 'CARD-P-1', storeId: 'S1', terminalId: 'T1', externalId: `Y-${Date.now()}`, currency: 'VND',
    lines: [{ sku: 'A', name: 'A', quantity: 1, unitPrice: '20000' }], tenders: [{ type: 'cash', amount: '20000' }],
  }, { 'idempotency-key': idemKey() })
  t.equal(byCard.json().memberId, m.id)
  const unknown = await till.purchase('00000000-0000-7000-8000-000000000000', [{ sku: 'A', quantity: 1, unitPrice: '1' }], [{ type: 'cash', amount: '1' }])
  t.equal(unknown.statusCode, 404)
  t.equal(unknown.json().code, 'MEMBER_NOT_FOUND')
})

t.test('a replay returns the original purchase; the same receipt number under a new key is a conflict', async (t) => {
  const m = await ctx.enrol(vnd.token)
  const key = idemKey()
  const body = { memberId: m.id, storeId: 'S9', terminalId: 'T1', externalId: 'DUP-1', currency: 'VND', lines: [{ sku: 'A', name: 'A', quantity: 1, unitPrice: '50000' }], tenders: [{ type: 'cash', amount: '50000' }] }
  const first = await ctx.call(vnd.token, 'POST', '/v1/purchases', body, { 'idempotency-key': key })
  const replay = await ctx.call(vnd.token, 'POST', '/v1/purchases', body, { 'idempotency-key': key })
  t.equal(replay.statusCode, 201)
  t.same(replay.json(), first.json(), 'same body, same balances as then')
  t.equal(replay.headers['idempotent-replayed'], 'true')
  const dup = await ctx.call(vnd.token, 'POST', '/v1/purchases', body, { 'idempotency-key': idemKey() })
  t.equal(dup.statusCode, 409)
  t.equal(dup.json().code, 'DUPLICATE_PURCHASE')
  t.equal((await till.balances(m.id)).points.balance, 5, 'earned once')
})

t.test('an offline purchase earns by the rules in force when it happened', async (t) => {
  const p = await ctx.createProgram({ rules: VND_RULES })
  const tl = new Till(ctx, p.token)
  const m = await ctx.enrol(p.token)
  const before = new Date(Date.now() - 60_000).toISOString()
  const patched = await ctx.call(p.token, 'PATCH', `/v1/programs/${p.id}`, { rules: { earning: { points: 1, per: '1000' } } })
  t.equal(patched.statusCode, 200)
  t.equal(patched.json().rules.earning.per, '1000')
  const late = await tl.purchase(m.id, [{ sku: 'A', quantity: 1, unitPrice: '50000' }], [{ type: 'cash', amount: '50000' }], { occurredAt: before })
  t.equal(late.json().pointsEarned, 5, 'old rule: 1 point per 10,000')
  const now = await tl.purchase(m.id, [{ sku: 'A', quantity: 1, unitPrice: '50000' }], [{ type: 'cash', amount: '50000' }])
  t.equal(now.json().pointsEarned, 50, 'new rule: 1 point per 1,000')
})

t.test('top-ups load stored value through tender clearing, idempotently', async (t) => {
  const m = await ctx.enrol(vnd.token)
  const key = idemKey()
  const body = { amount: '500000', tender: 'card', storeId: 'S1', reference: 'TXN-1' }
  const res = await ctx.call(vnd.token, 'POST', `/v1/members/${m.id}/stored-value/top-ups`, body, { 'idempotency-key': key })
  t.equal(res.statusCode, 201)
  t.equal(res.json().balances.storedValue.balance, '500000')
  const again = await ctx.call(vnd.token, 'POST', `/v1/members/${m.id}/stored-value/top-ups`, body, { 'idempotency-key': key })
  t.same(again.json(), res.json())
  t.equal((await till.balances(m.id)).storedValue.balance, '500000', 'loaded once')
  const entry = (await ctx.call(vnd.token, 'GET', `/v1/ledger/entries/${res.json().id}`)).json()
  t.same(entry.postings.map((p: { accountCode: string; amount: string }) => [p.accountCode, p.amount]), [
    ['store:S1:tender_clearing:VND', '-500000'],
    [`member:${m.id}:stored_value:VND`, '500000'],
  ])
  for (const amount of ['0', '12.5', '-1', 'abc']) {
    const bad = await ctx.call(vnd.token, 'POST', `/v1/members/${m.id}/stored-value/top-ups`, { ...body, amount }, { 'idempotency-key': idemKey() })
    t.equal(bad.statusCode, 400, amount)
  }
})

t.test('listing purchases filters by member, store and time, newest first', async (t) => {
  const m = await ctx.enrol(vnd.token)
  const ids = []
  for (let i = 0; i < 3; i++) ids.push((await till.purchase(m.id, [{ sku: 'A', quantity: 1, unitPrice: '10000' }], [{ type: 'cash', amount: '10000' }])).json().id)
  const page1 = (await ctx.call(vnd.token, 'GET', `/v1/purchases?memberId=${m.id}&limit=2`)).json()
  t.same(page1.data.map((p: { id: string }) => p.id), [ids[2], ids[1]])
  const page2 = (await ctx.call(vnd.token, 'GET', `/v1/purchases?memberId=${m.id}&limit=2&cursor=${page1.nextCursor}`)).json()
  t.same(page2.data.map((p: { id: string }) => p.id), [ids[0]])
  t.same((await ctx.call(vnd.token, 'GET', `/v1/purchases?memberId=${m.id}&storeId=OTHER`)).json().data, [])
  t.same((await ctx.call(vnd.token, 'GET', `/v1/purchases?memberId=${m.id}&to=2000-01-01T00:00:00Z`)).json().data, [])
  t.equal((await ctx.call(usd.token, 'GET', `/v1/purchases/${ids[0]}`)).statusCode, 404, 'another program cannot see it')
})
