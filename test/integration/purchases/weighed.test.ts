// Weighed and fractional goods (issue 19 part 5), as a supermarket till sees them: a line of beef
// sold by the kilogram beside a line of pieces, quoted, sold, returned in part twice and then in
// full. Every refund and clawback is exact, the receipts show the weight in its unit, and the
// ledger verifies.
import t from 'tap'
import { startTestApp } from '../../helpers/app.js'
import { receiptNo, Till, VND_RULES, type Line } from '../../helpers/pos.js'

const ctx = await startTestApp(t)
const program = await ctx.createProgram({ rules: VND_RULES })
const other = await ctx.createProgram({ rules: VND_RULES })
const till = new Till(ctx, program.token)

t.afterEach(async () => {
  const report = await till.verify()
  if (!report.ok) throw new Error(`ledger verify failed: ${JSON.stringify(report.discrepancies)}`)
})

/** 0.375 kg of beef at 99,900 VND/kg (37,462.5, rounded once to 37,463) and 2 coffees at 35,000: 107,463 VND. */
const LINES: Line[] = [
  { sku: 'BEEF', name: 'Thịt bò Úc', quantity: '0.375', unit: 'kg', unitPrice: '99900', taxRate: '5' },
  { sku: 'CF', name: 'Cà phê', quantity: 2, unitPrice: '35000' },
]
const TENDERS = [
  { type: 'storedValue', amount: '50000' },
  { type: 'cash', amount: '57463' },
]

t.test('a weighed line sold, returned in two parts and then the rest: every dong and every point exact', async (t) => {
  const m = await ctx.enrol(program.token)
  await till.topUp(m.id, '50000')

  const quoted = await ctx.call(program.token, 'POST', '/v1/purchases/quote', {
    memberId: m.id,
    storeId: 'S1',
    terminalId: 'T1',
    externalId: receiptNo(),
    currency: 'VND',
    lines: LINES,
    tenders: TENDERS,
  })
  t.equal(quoted.statusCode, 200, quoted.body)
  t.match(quoted.json(), { subtotal: '107463', discountTotal: '0', total: '107463', pointsEarned: 10, storedValueUsed: '50000', refusals: [] })

  const sold = await till.purchase(m.id, LINES, TENDERS)
  t.equal(sold.statusCode, 201, sold.body)
  const p = sold.json()
  t.match(p, { subtotal: quoted.json().subtotal, total: quoted.json().total, pointsEarned: quoted.json().pointsEarned, storedValueUsed: '50000' }, 'the quote gave the sale’s totals')
  t.same(p.lines[0], { line: 1, sku: 'BEEF', name: 'Thịt bò Úc', quantity: '0.375', unit: 'kg', unitPrice: '99900', discount: '0', orderDiscount: '0', amount: '37463', category: null, taxRate: '5', returnedQuantity: '0' })
  t.same(p.lines[1], { line: 2, sku: 'CF', name: 'Cà phê', quantity: 2, unitPrice: '35000', discount: '0', orderDiscount: '0', amount: '70000', category: null, taxRate: null, returnedQuantity: 0 }, 'a piece line as always: no unit')

  const receipt = (await ctx.call(program.token, 'GET', `/v1/receipts/${p.receipt.id}`)).json()
  t.match(receipt.lines, [{ sku: 'BEEF', quantity: '0.375', unit: 'kg', unitPrice: '99900', amount: '37463' }, { sku: 'CF', quantity: 2, amount: '70000' }])
  t.notOk('unit' in receipt.lines[1])
  const html = await ctx.call(program.token, 'GET', `/v1/receipts/${p.receipt.id}`, undefined, { accept: 'text/html' })
  t.ok(html.body.includes('0,375 kg × <span class="amt">99.900 ₫</span>/kg'), 'the page prints 0,375 kg × 99.900 ₫/kg')
  t.ok(html.body.includes('2 × <span class="amt">35.000 ₫</span>'))
  const sms = await ctx.call(program.token, 'GET', `/v1/receipts/${p.receipt.id}`, undefined, { accept: 'text/plain' })
  t.ok(sms.body.includes('Thanh toan 107.463 VND'), `the SMS carries the total, it names no lines: ${sms.body}`)
  t.ok(sms.body.length <= 160)

  // 1: 0.125 of 0.375 kg: floor(37,463 / 3) = 12,487, split 50,000 : 57,463 by largest remainder.
  const first = await till.returnPurchase(p.id, { lines: [{ sku: 'BEEF', quantity: '0.125' }] })
  t.equal(first.statusCode, 201, first.body)
  t.match(first.json(), { amount: '12487', refunds: [{ type: 'storedValue', amount: '5810' }, { type: 'cash', amount: '6677' }], moneyToPayOut: '6677', pointsClawedBack: 1 })
  const firstReceipt = (await ctx.call(program.token, 'GET', `/v1/receipts/${first.json().receipt.id}`)).json()
  t.same(firstReceipt.lines, [{ line: 1, sku: 'BEEF', name: 'Thịt bò Úc', quantity: '0.125', unit: 'kg', unitPrice: '99900', discount: '0', amount: '12487', taxRate: '5' }])
  const firstHtml = await ctx.call(program.token, 'GET', `/v1/receipts/${first.json().receipt.id}`, undefined, { accept: 'text/html' })
  t.ok(firstHtml.body.includes('0,125 kg × <span class="amt">99.900 ₫</span>/kg'))

  // 2: 0.2 kg more, sent as a JSON number: floor(37,463 x 0.325 / 0.375) - 12,487 = 19,980; kept 74,996 earns 7.
  const second = await till.returnPurchase(p.id, { lines: [{ line: 1, quantity: 0.2 }] })
  t.equal(second.statusCode, 201, second.body)
  t.match(second.json(), { amount: '19980', refunds: [{ type: 'storedValue', amount: '9296' }, { type: 'cash', amount: '10684' }], pointsClawedBack: 2 })

  // More than is left: 0.05 kg remain.
  const over = await till.returnPurchase(p.id, { lines: [{ sku: 'BEEF', quantity: '0.051' }] })
  t.equal(over.statusCode, 422)
  t.match(over.json(), { code: 'RETURN_EXCEEDS_PURCHASE', sku: 'BEEF', returnable: '0.05', detail: 'BEEF: 0.375 kg bought, 0.325 kg already returned' })
  const half = await till.returnPurchase(p.id, { lines: [{ sku: 'CF', quantity: '0.5' }] })
  t.equal(half.statusCode, 400, 'half a coffee is not a quantity')
  t.match(half.json(), { code: 'VALIDATION_FAILED', errors: [{ path: 'body/lines/0/quantity' }] })

  // 3: the rest: 37,463 - 32,467 = 4,996 of beef and the coffees; every tender and point back.
  const last = await till.returnPurchase(p.id, { lines: [{ sku: 'BEEF', quantity: '0.05' }, { sku: 'CF', quantity: 2 }] })
  t.equal(last.statusCode, 201, last.body)
  t.match(last.json(), { amount: '74996', refunds: [{ type: 'storedValue', amount: '34894' }, { type: 'cash', amount: '40102' }], pointsClawedBack: 7 })
  t.equal(12487 + 19980 + 4996, 37463, 'the beef’s three refunds are its amount')
  t.equal(5810 + 9296 + 34894, 50000, 'the stored value all back')
  t.equal(6677 + 10684 + 40102, 57463, 'the cash all back')
  t.same(last.json().balances.points, { balance: 0, available: 0, pending: 0 }, 'the 10 points earned are gone, no debt')
  t.equal(last.json().balances.storedValue.balance, '50000')

  const after = (await ctx.call(program.token, 'GET', `/v1/purchases/${p.id}`)).json()
  t.match(after.returned, { amount: '107463', pointsClawedBack: 10, pointsDebt: 0 })
  t.same(after.lines.map((l: { returnedQuantity: unknown }) => l.returnedQuantity), ['0.375', 2])
  const more = await till.returnPurchase(p.id, { lines: [{ sku: 'BEEF', quantity: '0.001' }] })
  t.match(more.json(), { code: 'RETURN_EXCEEDS_PURCHASE', returnable: '0' })

  const foreign = await new Till(ctx, other.token).returnPurchase(p.id, { lines: [{ sku: 'BEEF', quantity: '0.001' }] })
  t.equal(foreign.statusCode, 404, 'another program does not see the purchase')
})

t.test('the sale refuses a fractional piece, a fourth decimal and an unknown unit (400, nothing written)', async (t) => {
  const m = await ctx.enrol(program.token)
  const cases: [Line, string][] = [
    [{ sku: 'CF', quantity: 1.5, unitPrice: '10000' }, 'body/lines/0/quantity'],
    [{ sku: 'BEEF', quantity: '0.3755', unit: 'kg', unitPrice: '10000' }, 'body/lines/0/quantity'],
    [{ sku: 'BEEF', quantity: '1', unit: 'lb', unitPrice: '10000' }, 'body/lines/0/unit'],
    [{ sku: 'BEEF', quantity: '0', unit: 'kg', unitPrice: '10000' }, 'body/lines/0/quantity'],
  ]
  for (const [line, path] of cases) {
    const res = await till.purchase(m.id, [line], [{ type: 'cash', amount: '15000' }])
    t.equal(res.statusCode, 400, res.body)
    t.match(res.json(), { code: 'VALIDATION_FAILED', errors: [{ path }] })
  }
  // 1.5 l of milk at 32,900 VND/l: 49,350 VND, exactly.
  const milk = await till.purchase(m.id, [{ sku: 'MILK', quantity: 1.5, unit: 'l', unitPrice: '32900' }], [{ type: 'cash', amount: '49350' }])
  t.equal(milk.statusCode, 201, milk.body)
  t.match(milk.json().lines[0], { quantity: '1.5', unit: 'l', amount: '49350' })
})
