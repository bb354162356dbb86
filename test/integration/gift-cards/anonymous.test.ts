// A sale that names no member, paid part gift card and part cash, then returned: it earns nothing,
// its receipt names nobody, the return gives the card its share back, and the trial balance and the
// liability roll-forward show the gift cards' liability apart from the members' stored value. The
// ledger verified clean after each.
import t from 'tap'
import { startTestApp } from '../../helpers/app.js'
import { idemKey, receiptNo, Till, VND_RULES } from '../../helpers/pos.js'
import { GiftCardDesk } from './helpers.js'

const ctx = await startTestApp(t)
const shop = await ctx.createProgram({ rules: VND_RULES })
const desk = new GiftCardDesk(ctx, shop.token)
const till = new Till(ctx, shop.token)

const anonymousSale = (tenders: unknown[], key = idemKey('anon'), extra: Record<string, unknown> = {}) =>
  ctx.call(
    shop.token,
    'POST',
    '/v1/purchases',
    { storeId: 'S1', terminalId: 'T1', externalId: receiptNo(), currency: 'VND', lines: [{ sku: 'CF-01', name: 'Cà phê', quantity: 4, unitPrice: '25000' }], tenders, ...extra },
    { 'idempotency-key': key },
  )

t.test('a gift card paying part of a non-member purchase, refunded by a return', async (t) => {
  const from = new Date().toISOString()
  const card = await desk.issue({ initialValue: '70000', tender: 'cash', storeId: 'S1' })
  const key = idemKey('anon')
  const res = await anonymousSale([{ type: 'giftCard', code: card.code, amount: '60000' }, { type: 'cash', amount: '40000' }], key, { externalId: 'ANON-1' })
  t.equal(res.statusCode, 201, res.body)
  const sale = res.json()
  t.match(sale, { memberId: null, total: '100000', pointsEarned: 0, storedValueUsed: '0', balances: null })
  t.same(sale.tenders[0], { type: 'giftCard', amount: '60000', giftCardId: card.id, codeLast4: card.code.slice(-4) })
  const replay = await anonymousSale([{ type: 'giftCard', code: card.code, amount: '60000' }, { type: 'cash', amount: '40000' }], key, { externalId: 'ANON-1' })
  t.equal(replay.body, res.body, 'a retry with its key gets the same bytes')
  t.equal(await desk.balance(card.id), '10000', 'debited once')
  const receipt = (await ctx.call(shop.token, 'GET', `/v1/receipts/${sale.receipt.id}`)).json()
  t.match(receipt, { member: null, totals: { total: '100000' } })
  t.equal(receipt.tenders[0].type, 'giftCard')
  const html = await ctx.call(shop.token, 'GET', `/v1/receipts/${sale.receipt.id}`, undefined, { accept: 'text/html' })
  t.equal(html.statusCode, 200)
  t.match(html.body, /Thẻ quà tặng/)

  // Lines returned: a quarter of the sale, the card gets its 60 % share of it.
  const ret = await till.returnPurchase(sale.id, { lines: [{ sku: 'CF-01', quantity: 1 }] })
  t.equal(ret.statusCode, 201, ret.body)
  t.match(ret.json(), { amount: '25000', moneyToPayOut: '10000', balances: null, pointsClawedBack: 0 })
  t.same(ret.json().refunds.map((r: { type: string; amount: string }) => [r.type, r.amount]), [
    ['giftCard', '15000'],
    ['cash', '10000'],
  ])
  t.equal(await desk.balance(card.id), '25000')
  const rest = await till.returnPurchase(sale.id, { lines: [{ sku: 'CF-01', quantity: 3 }] })
  t.equal(rest.statusCode, 201, rest.body)
  t.equal(await desk.balance(card.id), '70000', 'all returned: the card holds what it held before')
  t.equal((await ctx.call(shop.token, 'GET', `/v1/receipts/${rest.json().receipt.id}`)).json().member, null)
  await desk.verify(t)

  // Finance: the cards' liability is its own line.
  const tb = (await ctx.call(shop.token, 'GET', '/v1/exports/trial-balance')).json()
  const line = (type: string) => tb.byType.find((b: { type: string }) => b.type === type)
  t.match(line('gift_card'), { asset: 'VND', balance: '70000' })
  t.match(line('gift_card_clearing'), { balance: '-70000' })
  t.match(line('gift_card_settlement'), { balance: '0' })
  t.same(tb.totals.map((x: { balance: string }) => x.balance), tb.totals.map(() => '0'), 'the trial balance sums to zero per asset')
  const to = new Date(Date.now() + 60_000).toISOString()
  const liability = (await ctx.call(shop.token, 'GET', `/v1/exports/liability?from=${encodeURIComponent(from)}&to=${encodeURIComponent(to)}`)).json()
  t.match(liability.giftCards, [{ asset: 'VND', opening: '0', issued: '70000', redeemed: '60000', refunded: '60000', closing: '70000' }])
  t.match(liability.assets.find((a: { asset: string }) => a.asset === 'VND'), { issued: '0', redeemed: '0', closing: '0' }, 'members’ stored value untouched')
})

t.test('a sale with no member needs a gift card and nothing that belongs to a member', async (t) => {
  const card = await desk.issue({ initialValue: '100000', tender: 'cash', storeId: 'S1' })
  const cashOnly = await anonymousSale([{ type: 'cash', amount: '100000' }])
  t.equal(cashOnly.statusCode, 400)
  t.match(cashOnly.json(), { code: 'VALIDATION_FAILED' })
  const withStoredValue = await anonymousSale([{ type: 'giftCard', code: card.code, amount: '50000' }, { type: 'storedValue', amount: '50000' }])
  t.equal(withStoredValue.statusCode, 400)
  const withCoupon = await anonymousSale([{ type: 'giftCard', code: card.code, amount: '100000' }], idemKey(), { couponCodes: ['SUMMER'] })
  t.equal(withCoupon.statusCode, 400)
  const held = await anonymousSale([{ type: 'giftCard', code: card.code, amount: '100000' }], idemKey(), { capture: false })
  t.equal(held.json().code, 'GIFT_CARD_NOT_HOLDABLE')
  const tooMuch = await anonymousSale([{ type: 'giftCard', code: card.code, amount: '100000' }, { type: 'giftCard', code: card.code, amount: '0' }])
  t.equal(tooMuch.statusCode, 400, 'the same card twice')
  t.equal(await desk.balance(card.id), '100000', 'nothing taken by the refusals')
  const summary = (await ctx.call(shop.token, 'GET', `/v1/analytics/summary?from=2000-01-01&to=${encodeURIComponent(new Date(Date.now() + 60_000).toISOString())}`)).json()
  t.equal(summary.purchases, 0, 'sales that named nobody are no customer’s purchases')
  const rfm = await ctx.call(shop.token, 'GET', '/v1/analytics/rfm')
  t.equal(rfm.statusCode, 200, rfm.body)
  t.notMatch(rfm.body, /"memberId":null/)
  const capture = await ctx.call(shop.token, 'POST', `/v1/purchases/${(await anonymousSale([{ type: 'giftCard', code: card.code, amount: '100000' }])).json().id}/capture`, {}, { 'idempotency-key': idemKey() })
  t.equal(capture.json().code, 'PURCHASE_NOT_PENDING')
  await desk.verify(t)
})
