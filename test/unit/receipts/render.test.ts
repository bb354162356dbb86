import t from 'tap'
import { buildReturnReceipt, buildSaleReceipt, buildTopUpReceipt } from '../../../src/modules/receipts/builders.js'
import { formatMoney, formatMoneySms, formatPoints, gsm7Length, localDateTime, maskPhone, toGsm7 } from '../../../src/modules/receipts/format.js'
import { escapeHtml, RECEIPT_CSP, renderHtml } from '../../../src/modules/receipts/html.js'
import { negotiate } from '../../../src/modules/receipts/negotiate.js'
import type { ReceiptDocument } from '../../../src/modules/receipts/schemas.js'
import { renderSms, SMS_LIMIT } from '../../../src/modules/receipts/sms.js'
import { coffeeReturn, ident, MEMBER, US_MEMBER, USD_PROGRAM, usdSale, VND_PROGRAM, vndSale, wallets } from './fixtures.js'

const URL_ = 'https://ll.example.vn/r/Abc_DEF-123456789'

const kinds = (): [string, ReceiptDocument][] => [
  ['purchase', buildSaleReceipt('purchase', ident(1), VND_PROGRAM, MEMBER, vndSale(), wallets(116n, 40000n))],
  ['pending purchase', buildSaleReceipt('purchase', ident(2), VND_PROGRAM, MEMBER, vndSale({ status: 'pending', pointsEarned: 0n }), wallets(100n, 40000n))],
  ['capture', buildSaleReceipt('capture', ident(3), VND_PROGRAM, MEMBER, vndSale({ holds: { authorizedTotal: '155000' } }), wallets(116n, 40000n))],
  ['void', buildSaleReceipt('void', ident(4), VND_PROGRAM, MEMBER, vndSale({ status: 'voided', pointsEarned: 0n }), wallets(500n, 100000n), { note: 'Khách hủy' })],
  ['return', buildReturnReceipt(ident(5), VND_PROGRAM, MEMBER, vndSale(), coffeeReturn, [{ sku: 'CF-SUA', quantity: 1 }], wallets(216n, 55484n))],
  ['top-up', buildTopUpReceipt(ident(6), VND_PROGRAM, MEMBER, { entryId: ident(9).id, amount: 500000n, tender: 'cash', storeId: 'HN-01', occurredAt: new Date('2026-05-01T12:00:00Z') }, wallets(0n, 540000n))],
  ['usd purchase', buildSaleReceipt('purchase', ident(7, '2026-05-01T16:31:00Z'), USD_PROGRAM, US_MEMBER, usdSale(), wallets(25n, 0n))],
]

t.test('money for people: VND as 125.000 ₫, USD as $12.34, exact for any size', async (t) => {
  t.equal(formatMoney('125000', 'VND', 'vi'), '125.000 ₫')
  t.equal(formatMoney('0', 'VND', 'vi'), '0 ₫')
  t.equal(formatMoney('1234567890123', 'VND', 'vi'), '1.234.567.890.123 ₫')
  t.equal(formatMoney('-40000', 'VND', 'vi'), '-40.000 ₫')
  t.equal(formatMoney('12.34', 'USD', 'en'), '$12.34')
  t.equal(formatMoney('1234567.89', 'USD', 'en'), '$1,234,567.89')
  t.equal(formatMoney('9007199254740993.01', 'USD', 'en'), '$9,007,199,254,740,993.01', 'beyond 2^53: no float')
  t.equal(formatMoney('12.50', 'EUR', 'en'), '€12.50')
  t.equal(formatMoney('1500.250', 'KWD', 'en'), '1,500.250 KWD')
  t.equal(formatMoneySms('125000', 'VND', 'vi'), '125.000 VND')
  t.equal(formatMoneySms('12.34', 'USD', 'en'), '$12.34')
  t.equal(formatMoneySms('12.50', 'EUR', 'en'), '12.50 EUR', 'no € in an SMS: the euro sign costs two septets')
  t.equal(formatPoints(12345, 'vi'), '12.345')
  t.equal(formatPoints(-1200, 'en'), '-1,200')
})

t.test('phones are masked to the first two and last three digits', async (t) => {
  t.equal(maskPhone('+84912345678'), '+84******678')
  t.equal(maskPhone('+12124567890'), '+12******890')
  t.equal(maskPhone(null), null)
  t.equal(maskPhone('+1234'), '+****')
})

t.test('date-time on the program clock', async (t) => {
  const at = new Date('2026-12-31T17:30:00Z')
  t.equal(localDateTime(at, 'Asia/Ho_Chi_Minh', 'vi'), '00:30 01/01/2027', 'already New Year in Hanoi')
  t.equal(localDateTime(at, 'America/New_York', 'en'), '2026-12-31 12:30')
})

t.test('GSM-7: Vietnamese loses its diacritics, đ becomes d, unknown characters go', async (t) => {
  t.equal(toGsm7('Cà phê Sáng Đà Nẵng'), 'Ca phe Sang Da Nang')
  t.equal(toGsm7('Tiệm bánh Ơn Trời ☕ 🎂'), 'Tiem banh On Troi')
  t.equal(gsm7Length('abc'), 3)
  t.equal(gsm7Length('a{b}'), 6, 'extension characters cost two septets')
  t.equal(gsm7Length('125.000 ₫'), undefined, '₫ is not GSM-7')
  t.equal(gsm7Length('Cà'), 2, 'à is in the GSM-7 basic set')
  t.equal(gsm7Length('Cả'), undefined, 'ả is not: texts are transliterated first')
})

for (const [name, doc] of kinds()) {
  t.test(`${name}: the SMS is one GSM-7 message with the amount, the balance left, the points and the link`, async (t) => {
    const sms = renderSms(doc, URL_)
    const length = gsm7Length(sms)
    t.ok(length !== undefined && length <= SMS_LIMIT, `${length} septets: ${sms}`)
    t.notMatch(sms, /[^\x20-\x7e]/, 'plain ASCII: no diacritics')
    t.ok(sms.endsWith(URL_), 'ends with the short link')
    t.matchSnapshot(sms, 'sms text')
  })
}

t.test('SMS texts say what happened', async (t) => {
  const [purchase, pending, , voided, ret, topUp, usd] = kinds().map(([, d]) => renderSms(d, URL_))
  t.equal(purchase, `Ca phe Sang Da Nang: Thanh toan 155.000 VND. So du the 40.000 VND. Diem -389, con 116. Chi tiet: ${URL_}`)
  t.match(pending!, /^Ca phe Sang Da Nang: Giu tien don hang 155\.000 VND\./)
  t.match(voided!, /Huy don, hoan 155\.000 VND\. So du the 100\.000 VND/)
  t.match(ret!, /Hoan tra 40\.000 VND\. So du the 55\.484 VND\. Diem \+100, con 216\./)
  t.match(topUp!, /Nap the 500\.000 VND\. So du the 540\.000 VND\. Chi tiet/)
  t.notMatch(topUp!, /Diem/, 'no points line when there are none')
  t.equal(usd, `Corner Deli: Paid $25.98. Points +25, total 25. Details: ${URL_}`)
})

t.test('a long program name and huge amounts still fit one message: parts are shortened, then dropped', async (t) => {
  const program = { ...VND_PROGRAM, name: 'Hệ thống siêu thị và cửa hàng tiện lợi Thành phố Hồ Chí Minh Chi nhánh Quận Bình Thạnh số 2' }
  const sale = vndSale({ total: 999999999999999n, subtotal: 999999999999999n, discountTotal: 0n, lines: [{ sku: 'A', name: 'A', quantity: 1, unitPrice: '999999999999999', discount: '0', amount: '999999999999999' }], tenders: [{ type: 'storedValue', amount: '999999999999999' }], storedValueUsed: 999999999999999n, pointsEarned: 99999999999n })
  const doc = buildSaleReceipt('purchase', ident(), program, MEMBER, sale, wallets(123456789012n, 888888888888888n))
  const long = `https://loyalty-ledger.example-retailer.com.vn/r/${'x'.repeat(22)}`
  const sms = renderSms(doc, long)
  t.ok(gsm7Length(sms)! <= SMS_LIMIT, sms)
  t.match(sms, /999\.999\.999\.999\.999 VND/)
  t.ok(sms.endsWith(long))
})

for (const [name, doc] of kinds()) {
  t.test(`${name}: HTML receipt`, async (t) => {
    const html = renderHtml(doc, { jws: '/r/token/jws' })
    t.matchSnapshot(html, 'html page')
    t.match(html, /<meta name="viewport" content="width=device-width, initial-scale=1">/)
    t.notMatch(html, /<script|https?:\/\/(?!hoadon\.example\.vn)/, 'no script and nothing external but the invoice lookup link')
    t.match(html, doc.language === 'vi' ? /<html lang="vi">/ : /<html lang="en">/)
  })
}

t.test('the VND purchase page: Vietnamese labels, amounts as 125.000 ₫, totals and balances', async (t) => {
  const html = renderHtml(kinds()[0]![1])
  for (const text of [
    'Biên nhận bán hàng',
    'Cà phê Sáng Đà Nẵng',
    'Cà phê sữa đá',
    '<span class="amt">155.000 ₫</span>',
    '<span class="amt">80.000 ₫</span>',
    'Thuế GTGT 8%',
    '<span class="amt">5.926 ₫</span>',
    'Thẻ trả trước',
    'Số dư còn lại: <span class="amt">40.000 ₫</span>',
    '<span class="amt">400 điểm</span>',
    'Điểm tích lũy',
    '<span class="amt">116 điểm</span>',
    'MST người bán',
    '0101234567',
    '+84******678',
    '14:02 01/05/2026',
    'Biên nhận này không thay thế hóa đơn GTGT.',
  ])
    t.ok(html.includes(text), text)
})

t.test('the USD page is in English with $ amounts', async (t) => {
  const html = renderHtml(kinds()[6]![1])
  for (const text of ['Sales receipt', 'T-shirt', '2 × <span class="amt">$12.99</span>', '<span class="amt">$25.98</span>', 'Points earned', 'This receipt is not a tax invoice.']) t.ok(html.includes(text), text)
})

t.test('everything a POS or a program wrote is escaped', async (t) => {
  const evil = '<script>alert("x")</script>'
  const program = { ...VND_PROGRAM, name: evil }
  const sale = vndSale({ storeId: evil, externalId: `"><img src=x onerror=alert(1)>`, lines: [{ sku: 'A', name: evil, quantity: 1, unitPrice: '1000', discount: '0', amount: '1000', taxRate: null }], tenders: [{ type: 'cash', amount: '1000' }], total: 1000n, subtotal: 1000n, discountTotal: 0n, invoice: { sellerTaxCode: evil, number: '1', lookupUrl: 'javascript:alert(1)' } })
  const html = renderHtml(buildSaleReceipt('purchase', ident(), program, MEMBER, sale, wallets(0n, 0n)))
  t.notMatch(html, /<script>|<img|javascript:/)
  t.match(html, /&lt;script&gt;alert\(&quot;x&quot;\)&lt;\/script&gt;/)
  t.equal(escapeHtml(`<a href='x'>&</a>`), '&lt;a href=&#39;x&#39;&gt;&amp;&lt;/a&gt;')
})

t.test('the content security policy allows the page’s own style only', async (t) => {
  t.match(RECEIPT_CSP, /^default-src 'none'; style-src 'sha256-[A-Za-z0-9+/]+=*'/)
  t.notMatch(RECEIPT_CSP, /unsafe/)
})

t.test('content negotiation follows the Accept header', async (t) => {
  const offered = ['application/json', 'text/html', 'text/plain']
  t.equal(negotiate(undefined, offered), 'application/json')
  t.equal(negotiate('*/*', offered), 'application/json')
  t.equal(negotiate('text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8', offered), 'text/html', 'a browser gets HTML')
  t.equal(negotiate('text/plain', offered), 'text/plain')
  t.equal(negotiate('text/*;q=0.5, application/json;q=0.4', offered), 'text/html')
  t.equal(negotiate('application/json;q=0, text/plain', offered), 'text/plain')
  t.equal(negotiate('image/png', offered), undefined)
})
