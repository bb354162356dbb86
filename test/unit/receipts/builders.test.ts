import t from 'tap'
import { buildReturnReceipt, buildSaleReceipt, buildTopUpReceipt, returnedLines, taxBreakdown } from '../../../src/modules/receipts/builders.js'
import { receiptDocumentSchema } from '../../../src/modules/receipts/schemas.js'
import { coffeeReturn, ident, MEMBER, US_MEMBER, USD_PROGRAM, usdSale, VND_PROGRAM, vndSale, wallets } from './fixtures.js'

const sumOf = (values: string[]) => values.reduce((s, v) => s + BigInt(v), 0n)

t.test('a VND purchase receipt: lines, discounts, VAT per rate, tenders with balances after, points, invoice', async (t) => {
  const doc = buildSaleReceipt('purchase', ident(), VND_PROGRAM, MEMBER, vndSale(), wallets(116n, 40000n))
  t.ok(receiptDocumentSchema.safeParse(doc).success, 'fits the published schema')
  t.match(doc, {
    kind: 'purchase',
    status: 'completed',
    language: 'vi',
    program: { name: 'Cà phê Sáng Đà Nẵng' },
    store: { id: 'HN-01' },
    terminalId: 'T2',
    posReceiptNumber: 'POS-000123',
    localTime: '14:02 01/05/2026',
    member: { phone: '+84******678' },
    purchaseId: '01900000-0000-7000-8000-000000000201',
    entryId: '01900000-0000-7000-8000-000000000301',
  })
  t.same(doc.totals, { subtotal: '165000', discount: '10000', total: '155000', authorized: null })
  t.equal(sumOf(doc.lines.map((l) => l.amount)), 155000n, 'lines add up to the total')
  t.equal(sumOf(doc.tenders.map((x) => x.amount)), 155000n, 'tenders add up to the total')
  t.same(doc.discounts, [{ type: 'line', label: 'Giảm giá trên hàng', amount: '10000' }])
  // 80,000 at 8% includes 5,926 VAT (80,000 x 8 / 108 = 5,925.9); 65,000 at 10% includes 5,909.
  t.same(doc.tax, {
    pricesIncludeTax: true,
    rates: [
      { rate: '8', base: '80000', amount: '5926' },
      { rate: '10', base: '65000', amount: '5909' },
    ],
    total: '11835',
  })
  t.same(doc.tenders, [
    { type: 'storedValue', amount: '60000', balanceAfter: '40000' },
    { type: 'points', amount: '40000', points: 400, pointsBalanceAfter: 116 },
    { type: 'cash', amount: '55000' },
  ])
  t.same(doc.points, { earned: 11, redeemed: 400, returned: 0, clawedBack: 0, debt: 0, balanceAfter: 116 })
  t.same(doc.storedValue, { used: '60000', returned: '0', toppedUp: '0', balanceAfter: '40000' })
  t.same(doc.invoice, { sellerTaxCode: '0101234567', number: '00001234', symbol: '1C26TAA', lookupCode: 'ABC123XYZ', lookupUrl: 'https://hoadon.example.vn/tra-cuu' })
  t.equal(doc.tier, null, 'no tier until tiers exist')
})

t.test('the same input always gives the same document', async (t) => {
  const a = buildSaleReceipt('purchase', ident(), VND_PROGRAM, MEMBER, vndSale(), wallets(116n, 40000n))
  const b = buildSaleReceipt('purchase', ident(), VND_PROGRAM, MEMBER, vndSale(), wallets(116n, 40000n))
  t.equal(JSON.stringify(a), JSON.stringify(b))
})

t.test('a tier discount is shown beside the line discounts; the breakdown never exceeds the total discount', async (t) => {
  const doc = buildSaleReceipt('purchase', ident(), VND_PROGRAM, MEMBER, vndSale(), wallets(116n, 40000n), {
    discounts: [{ type: 'tier', label: 'Hạng Vàng −5%', amount: 4000n }],
    tier: { name: 'Vàng', next: { name: 'Kim cương', remaining: 845000n, unit: 'money' } },
  })
  t.same(doc.discounts, [
    { type: 'line', label: 'Giảm giá trên hàng', amount: '6000' },
    { type: 'tier', label: 'Hạng Vàng −5%', amount: '4000' },
  ])
  t.equal(sumOf(doc.discounts.map((d) => d.amount)), 10000n)
  t.same(doc.tier, { name: 'Vàng', next: { name: 'Kim cương', remaining: '845000', unit: 'money' } })
  t.throws(() => buildSaleReceipt('purchase', ident(), VND_PROGRAM, MEMBER, vndSale(), wallets(0n, 0n), { discounts: [{ type: 'tier', label: 'x', amount: 10001n }] }), RangeError)
})

t.test('USD: cents, English, no VAT lines when the POS gave no rate', async (t) => {
  const doc = buildSaleReceipt('purchase', ident(2, '2026-05-01T16:31:00Z'), USD_PROGRAM, US_MEMBER, usdSale(), wallets(25n, 0n))
  t.match(doc, { language: 'en', currency: 'USD', localTime: '2026-05-01 12:30', member: { phone: '+12******890' } })
  t.same(doc.lines[0], { line: 1, sku: 'TEE', name: 'T-shirt', quantity: 2, unitPrice: '12.99', discount: '0.00', amount: '25.98', taxRate: null })
  t.same(doc.totals, { subtotal: '25.98', discount: '0.00', total: '25.98', authorized: null })
  t.same(doc.tax, { pricesIncludeTax: true, rates: [], total: '0.00' })
  t.same(doc.storedValue.balanceAfter, '0.00')
})

t.test('a pending purchase (capture: false) says the amounts are held, and earns nothing yet', async (t) => {
  const doc = buildSaleReceipt('purchase', ident(), VND_PROGRAM, MEMBER, vndSale({ status: 'pending', pointsEarned: 0n, entryId: null }), wallets(100n, 40000n))
  t.match(doc, { status: 'pending', entryId: null, points: { earned: 0, redeemed: 400 } })
})

t.test('a partial capture shows what was authorised and what was charged; VAT follows the charged amount', async (t) => {
  const captured = vndSale({
    total: 124000n,
    tenders: [
      { type: 'storedValue', amount: '48000' },
      { type: 'points', amount: '32000', points: '320' },
      { type: 'cash', amount: '44000' },
    ],
    pointsRedeemed: 320n,
    storedValueUsed: 48000n,
    pointsEarned: 9n,
    holds: { authorizedTotal: '155000' },
  })
  const doc = buildSaleReceipt('capture', ident(3), VND_PROGRAM, MEMBER, captured, wallets(196n, 52000n))
  t.same(doc.totals, { subtotal: '165000', discount: '10000', total: '124000', authorized: '155000' })
  t.equal(sumOf(doc.tenders.map((x) => x.amount)), 124000n)
  t.equal(sumOf(doc.tax.rates.map((r) => r.base)), 124000n - 8000n, 'taxed part of the charged amount (the untaxed water keeps its share)')
  t.equal(doc.localTime, '14:03 01/05/2026', 'a capture is dated when it happened')
})

t.test('a void releases the holds: nothing charged, nothing earned', async (t) => {
  const doc = buildSaleReceipt('void', ident(4), VND_PROGRAM, MEMBER, vndSale({ status: 'voided', pointsEarned: 0n }), wallets(500n, 100000n), { note: 'Khách hủy đơn' })
  t.match(doc, { kind: 'void', status: 'voided', entryId: null, note: 'Khách hủy đơn', points: { earned: 0, redeemed: 0, balanceAfter: 500 }, storedValue: { used: '0', balanceAfter: '100000' } })
  t.same(doc.tax.rates, [])
})

t.test('a return by lines: the returned units valued like the purchases service, fitted to the refund exactly', async (t) => {
  const doc = buildReturnReceipt(ident(5), VND_PROGRAM, MEMBER, vndSale(), coffeeReturn, [{ sku: 'CF-SUA', quantity: 1 }], wallets(116n - 3n + 103n, 40000n + 15484n))
  t.match(doc, { kind: 'return', returnId: coffeeReturn.id, purchaseId: coffeeReturn.purchaseId, entryId: coffeeReturn.entryId, note: 'Khách đổi ý', localTime: '10:15 02/05/2026' })
  t.same(doc.lines, [{ line: 1, sku: 'CF-SUA', name: 'Cà phê sữa đá', quantity: 1, unitPrice: '45000', discount: '5000', amount: '40000', taxRate: '8' }])
  t.same(doc.totals, { subtotal: '40000', discount: '0', total: '40000', authorized: null })
  t.equal(sumOf(doc.tenders.map((x) => x.amount)), 40000n, 'refunds add up to the return')
  t.same(doc.tenders[0], { type: 'storedValue', amount: '15484', balanceAfter: '55484' })
  t.same(doc.tenders[1], { type: 'points', amount: '10300', points: 103, pointsBalanceAfter: 216 })
  t.same(doc.points, { earned: 0, redeemed: 0, returned: 103, clawedBack: 3, debt: 0, balanceAfter: 216 })
  t.same(doc.storedValue, { used: '0', returned: '15484', toppedUp: '0', balanceAfter: '55484' })
  t.same(doc.tax, { pricesIncludeTax: true, rates: [{ rate: '8', base: '40000', amount: '2963' }], total: '2963' })
})

t.test('returned lines: units after earlier returns, by sku or line number, rounding like the service', async (t) => {
  const sale = vndSale({
    lines: [{ sku: 'X', name: 'X', quantity: 3, unitPrice: '10000', discount: '1', amount: '29999', taxRate: null, returnedQuantity: 1 }],
  })
  // One of three already returned (9,999); the next unit is worth floor(29,999 x 2 / 3) - 9,999 = 10,000.
  t.same(returnedLines(sale, [{ line: 1, quantity: 1 }], 10000n).map((l) => l.value), [10000n])
  // The last two units take what is left: 29,999 - 9,999 = 20,000.
  t.same(returnedLines(sale, [{ sku: 'X', quantity: 2 }], 20000n).map((l) => l.value), [20000n])
  t.throws(() => returnedLines(sale, [{ sku: 'NOPE', quantity: 1 }], 1n), RangeError)
})

t.test('a return by amount: no lines, VAT spread over the sale’s lines', async (t) => {
  const ret = { ...coffeeReturn, amount: 31000n, refunds: [{ type: 'cash', amount: 31000n }], pointsClawedBack: 2n, reason: null }
  const doc = buildReturnReceipt(ident(6), VND_PROGRAM, MEMBER, vndSale(), ret, undefined, wallets(114n, 40000n))
  t.same(doc.lines, [])
  t.equal(doc.totals.total, '31000')
  // 31,000 over 80,000 / 65,000 / 10,000: 16,000 / 13,000 / 2,000.
  t.same(doc.tax.rates, [
    { rate: '8', base: '16000', amount: '1185' },
    { rate: '10', base: '13000', amount: '1182' },
  ])
  t.equal(doc.note, null)
})

t.test('a top-up: the amount loaded and the balance after', async (t) => {
  const doc = buildTopUpReceipt(ident(7), VND_PROGRAM, MEMBER, { entryId: '01900000-0000-7000-8000-000000000501', amount: 500000n, tender: 'bank_transfer', storeId: 'HN-01', terminalId: null, reference: 'VCB-991', occurredAt: new Date('2026-05-01T12:00:00Z') }, wallets(0n, 540000n))
  t.match(doc, { kind: 'top_up', entryId: '01900000-0000-7000-8000-000000000501', topUp: { tender: 'bank_transfer', reference: 'VCB-991' }, lines: [] })
  t.same(doc.totals, { subtotal: '500000', discount: '0', total: '500000', authorized: null })
  t.same(doc.tenders, [{ type: 'bank_transfer', amount: '500000' }])
  t.same(doc.storedValue, { used: '0', returned: '0', toppedUp: '500000', balanceAfter: '540000' })
})

t.test('tax breakdown: rounding half up per rate, exact spread, nothing taxed without a rate', async (t) => {
  t.same(taxBreakdown(108n, [{ amount: 108n, taxRate: '8' }], 'VND'), { pricesIncludeTax: true, rates: [{ rate: '8', base: '108', amount: '8' }], total: '8' })
  t.same(taxBreakdown(0n, [{ amount: 100n, taxRate: '10' }], 'VND').rates, [])
  t.same(taxBreakdown(100n, [{ amount: 100n }], 'VND').rates, [])
  t.same(taxBreakdown(1000n, [{ amount: 0n, taxRate: '10' }], 'USD').total, '0.00', 'free lines carry no tax')
  const spread = taxBreakdown(10n, [
    { amount: 1n, taxRate: '5' },
    { amount: 1n, taxRate: '5' },
    { amount: 1n, taxRate: '10' },
  ], 'VND')
  t.equal(sumOf(spread.rates.map((r) => r.base)), 10n, 'bases add up to the amount exactly')
})

t.test('order-level discounts recorded on the purchase (tier, coupon) are listed; lines print before them, VAT on what was paid', async (t) => {
  const sale = vndSale({
    lines: [
      { sku: 'CF-SUA', name: 'Cà phê sữa đá', quantity: 2, unitPrice: '45000', discount: '10000', amount: '76000', orderDiscount: '4000', taxRate: '8' },
      { sku: 'BANH-MI', name: 'Bánh mì thịt', quantity: 1, unitPrice: '65000', discount: '0', amount: '61750', orderDiscount: '3250', taxRate: '10' },
      { sku: 'NUOC', name: 'Nước suối', quantity: 1, unitPrice: '10000', discount: '0', amount: '9500', orderDiscount: '500', taxRate: null },
    ],
    tenders: [{ type: 'cash', amount: '147250' }],
    discountTotal: 17750n,
    total: 147250n,
    discounts: [{ type: 'tier', code: 'GOLD', name: 'Vàng', percent: '5', amount: '7750' }],
  })
  const doc = buildSaleReceipt('purchase', ident(), VND_PROGRAM, MEMBER, sale, wallets(0n, 0n))
  t.same(doc.lines.map((l) => l.amount), ['80000', '65000', '10000'])
  t.same(doc.discounts, [
    { type: 'line', label: 'Giảm giá trên hàng', amount: '10000' },
    { type: 'tier', label: 'Ưu đãi hạng Vàng −5%', amount: '7750' },
  ])
  t.equal(sumOf(doc.lines.map((l) => l.amount)) - 7750n, 147250n, 'lines less the order discounts are the total')
  t.same(doc.tax.rates, [
    { rate: '8', base: '76000', amount: '5630' },
    { rate: '10', base: '61750', amount: '5614' },
  ])
  const en = buildSaleReceipt('purchase', ident(), USD_PROGRAM, US_MEMBER, usdSale({ discountTotal: 260n, total: 2338n, discounts: [{ type: 'coupon', code: 'SPRING10', percent: '10', amount: '260' }] }), wallets(0n, 0n))
  t.same(en.discounts, [{ type: 'coupon', label: 'Coupon SPRING10 −10%', amount: '2.60' }])
})

t.test('receipt numbers: the local date, then 50 random bits in Crockford base 32; tokens are 16 characters', async (t) => {
  const { newReceiptNumber, newPublicToken, newReceiptIdentity } = await import('../../../src/modules/receipts/record.js')
  const at = new Date('2026-12-31T18:00:00Z') // already 1 January in Hanoi
  t.equal(newReceiptNumber(at, 'Asia/Ho_Chi_Minh', Buffer.alloc(7)), '270101-00000-00000')
  t.equal(newReceiptNumber(at, 'America/New_York', Buffer.alloc(7, 0xff)), '261231-ZZZZZ-ZZZZZ')
  t.equal(newReceiptNumber(at, 'UTC', Buffer.from([0x84, 0x21, 0x08, 0x42, 0x10, 0x84, 0x21])), '261231-GGGGG-GGGGG', 'every 5-bit group read')
  t.match(newPublicToken(), /^[A-Za-z0-9_-]{16}$/)
  const a = newReceiptIdentity({ timezone: 'Asia/Ho_Chi_Minh' }, at)
  const b = newReceiptIdentity({ timezone: 'Asia/Ho_Chi_Minh' }, at)
  t.not(a.number, b.number)
  t.not(a.token, b.token)
  t.match(a.number, /^270101-[0-9A-HJKMNP-TV-Z]{5}-[0-9A-HJKMNP-TV-Z]{5}$/)
})
