// Paying with gift cards: a member's sale paid part gift card, part stored value, part cash (the
// card's debit in the ledger, the points earned on it), returned in part and then in full (the card
// refunded in proportion, as stored value is), the PIN asked at the till, a card that holds too
// little refused, a held sale refused, and on PostgreSQL two sales racing for a card's last balance:
// one posts, the other is refused. The ledger verified clean after each.
import t from 'tap'
import { onRealPostgres, startTestApp } from '../../helpers/app.js'
import { idemKey, Till, VND_RULES } from '../../helpers/pos.js'
import { GiftCardDesk } from './helpers.js'

const ctx = await startTestApp(t)
const shop = await ctx.createProgram({ rules: VND_RULES })
const desk = new GiftCardDesk(ctx, shop.token)
const till = new Till(ctx, shop.token)
const lines = [{ sku: 'CF-01', quantity: 2, unitPrice: '50000' }]

t.test('a member pays part gift card, part stored value, part cash; returns give the card its share back', async (t) => {
  const m = await ctx.enrol(shop.token)
  await till.topUp(m.id, '30000')
  const card = await desk.issue({ initialValue: '100000', tender: 'cash', storeId: 'S1' })
  const res = await till.purchase(m.id, lines, [
    { type: 'giftCard', code: card.code, amount: '60000' },
    { type: 'storedValue', amount: '20000' },
    { type: 'cash', amount: '20000' },
  ])
  t.equal(res.statusCode, 201, res.body)
  const sale = res.json()
  t.match(sale, { memberId: m.id, total: '100000', storedValueUsed: '20000', pointsEarned: 10 })
  t.same(sale.tenders[0], { type: 'giftCard', amount: '60000', giftCardId: card.id, codeLast4: card.code.slice(-4) })
  t.equal(await desk.balance(card.id), '40000')
  const entry = (await ctx.call(shop.token, 'GET', `/v1/ledger/entries/${sale.entryId}`)).json()
  const byType = Object.fromEntries(entry.postings.map((p: { accountType: string; amount: string }) => [p.accountType, p.amount]))
  t.match(byType, { gift_card: '-60000', gift_card_settlement: '60000', member_stored_value: '-20000', stored_value_settlement: '20000' })
  // Half returned: each tender gets half of what it paid.
  const half = await till.returnPurchase(sale.id, { amount: '50000' })
  t.equal(half.statusCode, 201, half.body)
  t.same(
    half.json().refunds.map((r: { type: string; amount: string; giftCardId?: string }) => [r.type, r.amount, r.giftCardId ?? null]),
    [
      ['giftCard', '30000', card.id],
      ['storedValue', '10000', null],
      ['cash', '10000', null],
    ],
  )
  t.equal(half.json().moneyToPayOut, '10000', 'the card’s share is not paid out in cash')
  t.equal(await desk.balance(card.id), '70000')
  const rest = await till.returnPurchase(sale.id, { amount: '50000' })
  t.equal(rest.statusCode, 201, rest.body)
  t.equal(await desk.balance(card.id), '100000', 'fully returned: the card holds what it held before')
  t.equal((await till.balances(m.id)).storedValue.balance, '30000')
  await desk.verify(t)
})

t.test('the till asks for the PIN; a wrong one is counted and refused; a card that holds too little is refused', async (t) => {
  const m = await ctx.enrol(shop.token)
  const card = await desk.issue({ pin: '1357', initialValue: '50000', tender: 'cash', storeId: 'S1' })
  const pay = (tender: Record<string, unknown>) => till.purchase(m.id, lines, [{ type: 'giftCard', code: card.code, amount: '50000', ...tender }, { type: 'cash', amount: '50000' }])
  t.equal((await pay({})).json().code, 'GIFT_CARD_PIN_REQUIRED')
  const wrong = await pay({ pin: '0000' })
  t.equal(wrong.statusCode, 422)
  t.match(wrong.json(), { code: 'GIFT_CARD_PIN_INCORRECT', attemptsLeft: 4 })
  const tooMuch = await till.purchase(m.id, lines, [{ type: 'giftCard', code: card.code, pin: '1357', amount: '60000' }, { type: 'cash', amount: '40000' }])
  t.equal(tooMuch.statusCode, 422)
  t.match(tooMuch.json(), { code: 'GIFT_CARD_INSUFFICIENT_BALANCE', available: '50000', asked: '60000', codeLast4: card.code.slice(-4) })
  const right = await pay({ pin: '1357' })
  t.equal(right.statusCode, 201, right.body)
  t.equal(await desk.balance(card.id), '0')
  t.match((await desk.check(card.code, '9999')).json(), { attemptsLeft: 4 }, 'the right PIN at the till cleared the count')
  const unknown = await till.purchase(m.id, lines, [{ type: 'giftCard', code: 'ZZZZZZZZZZZZZZZZ', amount: '1' }, { type: 'cash', amount: '99999' }])
  t.equal(unknown.json().code, 'GIFT_CARD_NOT_FOUND')
  const held = await till.purchase(m.id, lines, [{ type: 'giftCard', code: card.code, amount: '1' }, { type: 'cash', amount: '99999' }], { capture: false })
  t.equal(held.json().code, 'GIFT_CARD_NOT_HOLDABLE')
  const twice = await till.purchase(m.id, lines, [{ type: 'giftCard', code: card.code, pin: '1357', amount: '0' }, { type: 'giftCard', code: card.code.toLowerCase(), pin: '1357', amount: '0' }, { type: 'cash', amount: '100000' }])
  t.equal(twice.statusCode, 400, 'the same card twice')
  await desk.verify(t)
})

t.test('a sale retried with its key is answered once: the card debited once', async (t) => {
  const m = await ctx.enrol(shop.token)
  const card = await desk.issue({ initialValue: '100000', tender: 'cash', storeId: 'S1' })
  const key = idemKey('gs')
  const body = [{ type: 'giftCard', code: card.code, amount: '100000' }]
  const a = await till.purchase(m.id, lines, body, { externalId: 'GC-REPLAY-1' }, key)
  const b = await till.purchase(m.id, lines, body, { externalId: 'GC-REPLAY-1' }, key)
  t.equal(a.statusCode, 201, a.body)
  t.equal(b.body, a.body)
  t.equal(await desk.balance(card.id), '0')
  await desk.verify(t)
})

t.test('two sales racing for a card’s last balance: one posts, the other is refused', { skip: !onRealPostgres && 'concurrency only means something on PostgreSQL' }, async (t) => {
  const card = await desk.issue({ initialValue: '100000', tender: 'cash', storeId: 'S1' })
  const [m1, m2] = [await ctx.enrol(shop.token), await ctx.enrol(shop.token)]
  for (let round = 0; round < 3; round++) {
    await desk.load(card.id, round === 0 ? '1' : '100000')
    const answers = await Promise.all([m1, m2].map((m) => till.purchase(m.id, lines, [{ type: 'giftCard', code: card.code, amount: '100000' }])))
    const statuses = answers.map((a) => a.statusCode).sort()
    t.same(statuses, [201, 422], `round ${round}: ${answers.map((a) => a.body.slice(0, 120)).join(' | ')}`)
    const refused = answers.find((a) => a.statusCode === 422)!.json()
    t.ok(refused.code === 'GIFT_CARD_INSUFFICIENT_BALANCE' || refused.code === 'INSUFFICIENT_FUNDS', refused.code)
  }
  t.equal(await desk.balance(card.id), '1')
  await desk.verify(t)
})
