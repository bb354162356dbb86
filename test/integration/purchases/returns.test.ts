import t from 'tap'
import { startTestApp } from '../../helpers/app.js'
import { idemKey, Till, USD_RULES, VND_RULES } from '../../helpers/pos.js'

const ctx = await startTestApp(t)
const clamp = await ctx.createProgram({ rules: { ...VND_RULES, earning: { ...VND_RULES.earning, excludedCategories: ['tobacco'] } } })
const negative = await ctx.createProgram({ rules: { ...VND_RULES, clawbackPolicy: 'negative_balance' } })
const usd = await ctx.createProgram({ currency: 'USD', country: 'US', timezone: 'America/New_York', rules: USD_RULES })
const till = new Till(ctx, clamp.token)

t.afterEach(async () => {
  for (const token of [clamp.token, negative.token, usd.token]) {
    const report = (await ctx.call(token, 'GET', '/v1/ledger/verify')).json()
    if (!report.ok) throw new Error(`ledger verify failed: ${JSON.stringify(report.discrepancies)}`)
  }
})

/** 300,000 VND: 100,000 stored value + 500 points (50,000) + 150,000 card; earns 25 points. */
async function mixedPurchase(tl = till, token = clamp.token) {
  const m = await ctx.enrol(token)
  await tl.topUp(m.id, '100000')
  await tl.grantPoints(m.id, 500)
  const p = await tl.purchase(
    m.id,
    [
      { sku: 'SHIRT', quantity: 2, unitPrice: '100000' },
      { sku: 'HAT', quantity: 1, unitPrice: '100000' },
    ],
    [
      { type: 'storedValue', amount: '100000' },
      { type: 'points', points: 500 },
      { type: 'card', amount: '150000' },
    ],
  )
  if (p.statusCode !== 201) throw new Error(p.body)
  return { m, p: p.json() }
}

t.test('a partial line return refunds tenders in proportion and claws back earned points in proportion', async (t) => {
  const { m, p } = await mixedPurchase()
  t.equal(p.pointsEarned, 25)
  t.same(p.balances.points.balance, 25)

  const res = await till.returnPurchase(p.id, { lines: [{ sku: 'HAT', quantity: 1 }], reason: 'wrong size' })
  t.equal(res.statusCode, 201)
  const r = res.json()
  // 100,000 of 300,000 back: a third of each tender by largest remainder (33,333 / 16,667 / 50,000),
  // then whole points only: 166 points (16,600) and the 67 dong of a point's fraction paid out by card.
  t.equal(r.amount, '100000')
  t.same(r.refunds, [
    { type: 'storedValue', amount: '33333' },
    { type: 'points', amount: '16600', points: 166 },
    { type: 'card', amount: '50067' },
  ])
  t.equal(r.moneyToPayOut, '50067')
  t.equal(r.storedValueReturned, '33333')
  t.equal(r.pointsReturned, 166)
  // kept lines 200,000, paid with money 250,000 - 83,400 refunded = 166,600: 16 points should remain of 25
  t.equal(r.pointsClawedBack, 9)
  t.equal(r.pointsDebt, 0)
  t.same(r.balances.points, { balance: 25 + 166 - 9, available: 182, pending: 0 })
  t.equal(r.balances.storedValue.balance, '33333')

  const after = (await ctx.call(clamp.token, 'GET', `/v1/purchases/${p.id}`)).json()
  t.equal(after.lines[1].returnedQuantity, 1)
  t.match(after.returned, { amount: '100000', pointsClawedBack: 9, pointsDebt: 0 })
  void m
})

t.test('returning everything, in steps, gives back exactly every tender and every earned point', async (t) => {
  const { m, p } = await mixedPurchase()
  await till.returnPurchase(p.id, { lines: [{ sku: 'SHIRT', quantity: 1 }] })
  await till.returnPurchase(p.id, { lines: [{ sku: 'HAT', quantity: 1 }] })
  const last = (await till.returnPurchase(p.id, { lines: [{ sku: 'SHIRT', quantity: 1 }] })).json()
  const purchase = (await ctx.call(clamp.token, 'GET', `/v1/purchases/${p.id}`)).json()
  t.match(purchase.returned, { amount: '300000', pointsClawedBack: 25, pointsDebt: 0 })
  t.same(last.balances.points, { balance: 500, available: 500, pending: 0 }, 'the 500 points paid are back, the 25 earned are gone')
  t.equal(last.balances.storedValue.balance, '100000', 'all stored value is back')
  const more = await till.returnPurchase(p.id, { lines: [{ sku: 'HAT', quantity: 1 }] })
  t.equal(more.statusCode, 422)
  t.equal(more.json().code, 'RETURN_EXCEEDS_PURCHASE')
  void m
})

t.test('returning an excluded category claws back nothing', async (t) => {
  const m = await ctx.enrol(clamp.token)
  const p = (
    await till.purchase(
      m.id,
      [
        { sku: 'CIG', quantity: 1, unitPrice: '50000', category: 'tobacco' },
        { sku: 'MILK', quantity: 1, unitPrice: '50000' },
      ],
      [{ type: 'cash', amount: '100000' }],
    )
  ).json()
  t.equal(p.pointsEarned, 5)
  const r = (await till.returnPurchase(p.id, { lines: [{ sku: 'CIG', quantity: 1 }] })).json()
  t.equal(r.pointsClawedBack, 0)
  t.equal(r.moneyToPayOut, '50000')
})

t.test('amount returns: proportional clawback, never more than bought, one mode per purchase', async (t) => {
  const m = await ctx.enrol(clamp.token)
  const p = (await till.purchase(m.id, [{ sku: 'TV', quantity: 1, unitPrice: '1000000' }], [{ type: 'cash', amount: '1000000' }])).json()
  t.equal(p.pointsEarned, 100)
  const r = (await till.returnPurchase(p.id, { amount: '250000' })).json()
  t.equal(r.pointsClawedBack, 25)
  t.equal(r.moneyToPayOut, '250000')
  const over = await till.returnPurchase(p.id, { amount: '750001' })
  t.equal(over.json().code, 'RETURN_EXCEEDS_PURCHASE')
  const byLine = await till.returnPurchase(p.id, { lines: [{ sku: 'TV', quantity: 1 }] })
  t.equal(byLine.json().code, 'RETURN_MODE_MISMATCH')
  const frac = await till.returnPurchase(p.id, { amount: '10.5' })
  t.equal(frac.statusCode, 400)
})

t.test('clamp policy: points already spent are taken as far as possible and the rest recorded as debt', async (t) => {
  const m = await ctx.enrol(clamp.token)
  const p = (await till.purchase(m.id, [{ sku: 'TV', quantity: 1, unitPrice: '1000000' }], [{ type: 'cash', amount: '1000000' }])).json()
  t.equal(p.pointsEarned, 100)
  // spend 70 of the 100 earned
  await till.purchase(m.id, [{ sku: 'GUM', quantity: 1, unitPrice: '7000' }], [{ type: 'points', points: 70 }])
  const r = (await till.returnPurchase(p.id, { lines: [{ sku: 'TV', quantity: 1 }] })).json()
  t.equal(r.pointsClawedBack, 30)
  t.equal(r.pointsDebt, 70)
  t.same(r.balances.points, { balance: 0, available: 0, pending: 0 }, 'never negative under clamp')
})

t.test('negative_balance policy: the whole clawback is taken and the balance may go below zero', async (t) => {
  const nt = new Till(ctx, negative.token)
  const m = await ctx.enrol(negative.token)
  const p = (await nt.purchase(m.id, [{ sku: 'TV', quantity: 1, unitPrice: '1000000' }], [{ type: 'cash', amount: '1000000' }])).json()
  await nt.purchase(m.id, [{ sku: 'GUM', quantity: 1, unitPrice: '7000' }], [{ type: 'points', points: 70 }])
  const r = (await nt.returnPurchase(p.id, { lines: [{ sku: 'TV', quantity: 1 }] })).json()
  t.equal(r.pointsClawedBack, 100)
  t.equal(r.pointsDebt, 0)
  t.equal(r.balances.points.balance, -70)
  const spend = await nt.purchase(m.id, [{ sku: 'GUM', quantity: 1, unitPrice: '100' }], [{ type: 'points', points: 1 }])
  t.equal(spend.json().code, 'INSUFFICIENT_FUNDS', 'a member in debt cannot redeem')
})

t.test('USD: cents split exactly by largest remainder', async (t) => {
  const ut = new Till(ctx, usd.token, 'USD')
  const m = await ctx.enrol(usd.token, { phone: '+12124567891' })
  await ut.topUp(m.id, '10.00')
  const p = (await ut.purchase(m.id, [{ sku: 'A', quantity: 3, unitPrice: '3.33' }], [{ type: 'storedValue', amount: '5.00' }, { type: 'card', amount: '4.99' }])).json()
  const r = (await ut.returnPurchase(p.id, { lines: [{ sku: 'A', quantity: 1 }] })).json()
  t.equal(r.amount, '3.33')
  t.same(r.refunds.map((x: { amount: string }) => x.amount), ['1.67', '1.66'], 'parts sum to 3.33')
  const rest = (await ut.returnPurchase(p.id, { lines: [{ sku: 'A', quantity: 2 }] })).json()
  t.same(rest.refunds.map((x: { amount: string }) => x.amount), ['3.33', '3.33'])
  t.equal(rest.balances.storedValue.balance, '10.00', 'every cent of stored value is back')
})

t.test('a return replayed with its key is not applied twice', async (t) => {
  const { p } = await mixedPurchase()
  const key = idemKey()
  const first = await till.returnPurchase(p.id, { lines: [{ sku: 'HAT', quantity: 1 }] }, key)
  const again = await till.returnPurchase(p.id, { lines: [{ sku: 'HAT', quantity: 1 }] }, key)
  t.same(again.json(), first.json())
  t.equal((await ctx.call(clamp.token, 'GET', `/v1/purchases/${p.id}`)).json().returned.amount, '100000')
})

t.test('two concurrent returns of the last item: one wins', async (t) => {
  const m = await ctx.enrol(clamp.token)
  const p = (await till.purchase(m.id, [{ sku: 'LAST', quantity: 1, unitPrice: '90000' }], [{ type: 'cash', amount: '90000' }])).json()
  const results = await Promise.all([1, 2, 3, 4].map(() => till.returnPurchase(p.id, { lines: [{ sku: 'LAST', quantity: 1 }] })))
  const codes = results.map((r) => r.statusCode).sort()
  t.same(codes, [201, 422, 422, 422])
  t.equal((await ctx.call(clamp.token, 'GET', `/v1/purchases/${p.id}`)).json().returned.amount, '90000')
})

t.test('returns of unknown lines, pending or other programs’ purchases are refused', async (t) => {
  const m = await ctx.enrol(clamp.token)
  const p = (await till.purchase(m.id, [{ sku: 'A', quantity: 1, unitPrice: '90000' }], [{ type: 'cash', amount: '90000' }])).json()
  t.equal((await till.returnPurchase(p.id, { lines: [{ sku: 'NOPE', quantity: 1 }] })).json().code, 'RETURN_LINE_NOT_IN_PURCHASE')
  t.equal((await till.returnPurchase(p.id, { lines: [{ sku: 'A', quantity: 2 }] })).json().code, 'RETURN_EXCEEDS_PURCHASE')
  t.equal((await till.returnPurchase(p.id, {})).statusCode, 400)
  const other = new Till(ctx, usd.token, 'USD')
  t.equal((await other.returnPurchase(p.id, { amount: '1' })).statusCode, 404)
  const pending = (await till.purchase(m.id, [{ sku: 'A', quantity: 1, unitPrice: '1000' }], [{ type: 'cash', amount: '1000' }], { capture: false })).json()
  t.equal((await till.returnPurchase(pending.id, { amount: '1000' })).json().code, 'PURCHASE_NOT_COMPLETED')
})
