// Receipts of weighed goods: the quantity with its unit in the JSON document, the HTML page and
// the SMS (which names no lines), for a sale and for a part of a line returned.
import t from 'tap'
import { buildReturnReceipt, buildSaleReceipt, returnedLines } from '../../../src/modules/receipts/builders.js'
import { formatQuantity } from '../../../src/modules/receipts/format.js'
import { renderHtml } from '../../../src/modules/receipts/html.js'
import { receiptDocumentSchema } from '../../../src/modules/receipts/schemas.js'
import { renderSms, SMS_LIMIT } from '../../../src/modules/receipts/sms.js'
import { ident, MEMBER, US_MEMBER, USD_PROGRAM, usdSale, VND_PROGRAM, vndSale, wallets } from './fixtures.js'

/** 0.375 kg of beef at 99,900 VND/kg (37,463) and 2 coffees at 35,000: 107,463 VND in cash. */
const weighed = (returnedQuantity = '0') =>
  vndSale({
    lines: [
      { sku: 'BEEF', name: 'Thịt bò', quantity: '0.375', unit: 'kg', unitPrice: '99900', discount: '0', amount: '37463', taxRate: '5', returnedQuantity, returnedAmount: '0' },
      { sku: 'CF', name: 'Cà phê', quantity: 2, unitPrice: '35000', discount: '0', amount: '70000', taxRate: null, returnedQuantity: 0, returnedAmount: '0' },
    ],
    tenders: [{ type: 'cash', amount: '107463', refundedAmount: '0' }],
    subtotal: 107463n,
    discountTotal: 0n,
    total: 107463n,
    pointsEarned: 10n,
    pointsRedeemed: 0n,
    storedValueUsed: 0n,
    invoice: null,
  })

t.test('formatQuantity: pieces as they are, a measure with its unit and the language’s decimal mark', async (t) => {
  t.equal(formatQuantity(2, undefined, 'vi'), '2')
  t.equal(formatQuantity('0.375', 'kg', 'vi'), '0,375 kg')
  t.equal(formatQuantity('0.375', 'kg', 'en'), '0.375 kg')
  t.equal(formatQuantity('2', 'l', 'en'), '2 l')
})

t.test('a sale receipt shows the weighed line in its unit; a piece line is printed as always', async (t) => {
  const doc = buildSaleReceipt('purchase', ident(), VND_PROGRAM, MEMBER, weighed(), wallets(10n, 0n))
  t.ok(receiptDocumentSchema.safeParse(doc).success, 'fits the published schema')
  t.same(doc.lines, [
    { line: 1, sku: 'BEEF', name: 'Thịt bò', quantity: '0.375', unit: 'kg', unitPrice: '99900', discount: '0', amount: '37463', taxRate: '5' },
    { line: 2, sku: 'CF', name: 'Cà phê', quantity: 2, unitPrice: '35000', discount: '0', amount: '70000', taxRate: null },
  ])
  const html = renderHtml(doc)
  t.ok(html.includes('Thịt bò<span class="sub">0,375 kg × <span class="amt">99.900 ₫</span>/kg · Thuế GTGT 5%</span>'), 'HTML: "0,375 kg × 99.900 ₫/kg"')
  t.ok(html.includes('Cà phê<span class="sub">2 × <span class="amt">35.000 ₫</span></span>'), 'HTML: pieces unchanged')
  const sms = renderSms(doc, 'https://r.example/r/abc')
  t.ok(sms.length <= SMS_LIMIT, 'the SMS still fits one message')
  t.match(sms, /Thanh toan 107\.463 VND/, 'the SMS carries the total (it names no lines)')
})

t.test('an English receipt prints the decimal point; a USD weighed line', async (t) => {
  const sale = usdSale({
    lines: [{ sku: 'CHEESE', name: 'Cheddar', quantity: '1.234', unit: 'kg', unitPrice: '1299', discount: '0', amount: '1603', taxRate: null, returnedQuantity: '0', returnedAmount: '0' }],
    tenders: [{ type: 'card', amount: '1603', refundedAmount: '0' }],
    subtotal: 1603n,
    discountTotal: 0n,
    total: 1603n,
  })
  const doc = buildSaleReceipt('purchase', ident(), USD_PROGRAM, US_MEMBER, sale, wallets(16n, 0n))
  t.match(doc.lines[0], { quantity: '1.234', unit: 'kg', unitPrice: '12.99', amount: '16.03' })
  t.ok(renderHtml(doc).includes('1.234 kg × <span class="amt">$12.99</span>/kg'))
})

t.test('a return of part of a weighed line: its quantity in the unit, valued like the service, no rounding shown as a discount', async (t) => {
  // 0.125 of 0.375 kg already returned; the next 0.125 is worth floor(37,463 x 2/3) - floor(37,463 / 3) = 12,488.
  const sale = weighed('0.125')
  t.same(returnedLines(sale, [{ line: 1, quantity: '0.125' }], 12488n).map((l) => [l.returnQuantity, l.value, l.gross]), [['0.125', 12488n, 12488n]])
  const ret = {
    id: '01900000-0000-7000-8000-000000000401',
    purchaseId: sale.id,
    amount: 12488n,
    refunds: [{ type: 'cash', amount: 12488n }],
    pointsClawedBack: 1n,
    pointsDebt: 0n,
    entryId: '01900000-0000-7000-8000-000000000501',
    createdAt: new Date('2026-05-02T03:15:00Z'),
  }
  const doc = buildReturnReceipt(ident(2), VND_PROGRAM, MEMBER, sale, ret, [{ line: 1, quantity: '0.125' }], wallets(9n, 0n))
  t.ok(receiptDocumentSchema.safeParse(doc).success, 'fits the published schema')
  t.same(doc.lines, [{ line: 1, sku: 'BEEF', name: 'Thịt bò', quantity: '0.125', unit: 'kg', unitPrice: '99900', discount: '0', amount: '12488', taxRate: '5' }])
  t.ok(renderHtml(doc).includes('0,125 kg × <span class="amt">99.900 ₫</span>/kg'))
  // The last 0.125 takes what is left: 37,463 - 24,975 = 12,488.
  t.same(returnedLines(weighed('0.25'), [{ sku: 'BEEF', quantity: '0.125' }], 12488n).map((l) => l.value), [12488n])
})
