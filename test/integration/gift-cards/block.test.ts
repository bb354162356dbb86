// Blocking a gift card (lost, stolen) and unblocking it: while blocked it cannot pay, be loaded or
// have its balance checked (409 GIFT_CARD_BLOCKED, nothing written, no PIN guess counted), a
// return still refunds it, blocking twice answers it as it is, the block is replayed by its key,
// and only program:manage of the card's own program may do it. A sale that read the card before
// the block is stale when it applies. The ledger verified clean.
import t from 'tap'
import { startTestApp } from '../../helpers/app.js'
import { idemKey, Till, VND_RULES } from '../../helpers/pos.js'
import { STALE } from '../../../src/db/apply.js'
import { cardByCode } from '../../../src/modules/gift-cards/reads.js'
import { readGiftCardCode } from '../../../src/modules/gift-cards/codes.js'
import { bindGiftCards } from '../../../src/modules/purchases/gift-card-tenders.js'
import { GiftCardDesk } from './helpers.js'

const ctx = await startTestApp(t)
const shop = await ctx.createProgram({ rules: VND_RULES })
const desk = new GiftCardDesk(ctx, shop.token)
const till = new Till(ctx, shop.token)
const lines = [{ sku: 'CF-01', quantity: 2, unitPrice: '50000' }]
const block = (id: string, reason = 'reported stolen', key = idemKey('gb'), token = shop.token) =>
  ctx.call(token, 'POST', `/v1/gift-cards/${id}/block`, { reason }, { 'idempotency-key': key })
const unblock = (id: string, key = idemKey('gu'), token = shop.token) => ctx.call(token, 'POST', `/v1/gift-cards/${id}/unblock`, undefined, { 'idempotency-key': key })

t.test('a blocked card cannot pay, be loaded or be checked; unblocked it does all three again', async (t) => {
  const m = await ctx.enrol(shop.token)
  const card = await desk.issue({ pin: '2468', initialValue: '100000', tender: 'cash', storeId: 'S1' })
  const key = idemKey('gb')
  const blocked = await block(card.id, 'reported stolen', key)
  t.equal(blocked.statusCode, 200, blocked.body)
  t.match(blocked.json(), { id: card.id, status: 'blocked', blockReason: 'reported stolen', balance: '100000' })
  t.ok(Date.parse(blocked.json().blockedAt) > 0, 'blockedAt is an instant')
  const replay = await block(card.id, 'reported stolen', key)
  t.equal(replay.body, blocked.body, 'the block replayed by its key: the same bytes')
  t.equal(replay.headers['idempotent-replayed'], 'true')

  const pay = () => till.purchase(m.id, lines, [{ type: 'giftCard', code: card.code, pin: '2468', amount: '60000' }, { type: 'cash', amount: '40000' }])
  const refused = await pay()
  t.equal(refused.statusCode, 409, refused.body)
  t.equal(refused.headers['content-type'], 'application/problem+json')
  t.equal(refused.json().code, 'GIFT_CARD_BLOCKED')
  t.equal((await ctx.call(shop.token, 'GET', `/v1/purchases?memberId=${m.id}`)).json().data.length, 0, 'no purchase written')
  t.equal((await desk.check(card.code, '0000')).json().code, 'GIFT_CARD_BLOCKED', 'a balance check is refused, even with a wrong PIN')
  const load = await ctx.call(shop.token, 'POST', `/v1/gift-cards/${card.id}/loads`, { amount: '10000', tender: 'cash', storeId: 'S1' }, { 'idempotency-key': idemKey('gl') })
  t.equal(load.statusCode, 409)
  t.equal(load.json().code, 'GIFT_CARD_BLOCKED')
  t.match((await ctx.call(shop.token, 'GET', `/v1/gift-cards/${card.id}`)).json(), { status: 'blocked', balance: '100000' }, 'its value stays on it')

  const again = await block(card.id, 'another reason')
  t.equal(again.statusCode, 200)
  t.match(again.json(), { status: 'blocked', blockReason: 'reported stolen', blockedAt: blocked.json().blockedAt }, 'blocking a blocked card: answered as it is')

  const active = await unblock(card.id)
  t.equal(active.statusCode, 200, active.body)
  t.match(active.json(), { status: 'active', blockedAt: null, blockReason: null })
  const wrong = await desk.check(card.code, '0000')
  t.match(wrong.json(), { code: 'GIFT_CARD_PIN_INCORRECT', attemptsLeft: 4 }, 'no PIN failure was counted while it was blocked')
  const paid = await pay()
  t.equal(paid.statusCode, 201, paid.body)
  t.equal(await desk.balance(card.id), '40000')
  t.match((await unblock(card.id)).json(), { status: 'active' }, 'unblocking an active card: answered as it is')
  await desk.verify(t)
})

t.test('a return refunds a blocked card its share', async (t) => {
  const m = await ctx.enrol(shop.token)
  const card = await desk.issue({ initialValue: '100000', tender: 'cash', storeId: 'S1' })
  const sale = await till.purchase(m.id, lines, [{ type: 'giftCard', code: card.code, amount: '100000' }])
  t.equal(sale.statusCode, 201, sale.body)
  t.equal((await block(card.id, 'lost')).statusCode, 200)
  const back = await till.returnPurchase(sale.json().id, { amount: '50000' })
  t.equal(back.statusCode, 201, back.body)
  t.match((await ctx.call(shop.token, 'GET', `/v1/gift-cards/${card.id}`)).json(), { status: 'blocked', balance: '50000' })
  await desk.verify(t)
})

t.test('a sale that read the card before the block is stale when it applies', async (t) => {
  const card = await desk.issue({ initialValue: '100000', tender: 'cash', storeId: 'S1' })
  const read = (await cardByCode(ctx.database.db, shop.id, readGiftCardCode(card.code)!))!
  const program = { id: shop.id, currency: 'VND' }
  const sale = { occurredAt: new Date(), lines: [], tenders: [{ type: 'giftCard' as const, amount: 1000n }], giftCards: [{ tender: 0, code: card.code }] }
  const { locks } = bindGiftCards(program, sale, [read])
  t.equal((await block(card.id, 'stolen')).statusCode, 200)
  await t.rejects(ctx.database.apply({ program: shop.id, locks }), { code: STALE }, 'the card row changed since it was read: the plan is refused, and its retry sees the block')
  t.match((await unblock(card.id)).json(), { status: 'active' })
  const fresh = (await cardByCode(ctx.database.db, shop.id, readGiftCardCode(card.code)!))!
  await t.resolves(ctx.database.apply({ program: shop.id, locks: bindGiftCards(program, sale, [fresh]).locks }), 'read again, it locks')
})

t.test('only program:manage of the card’s own program blocks and unblocks', async (t) => {
  const card = await desk.issue()
  const pos = await ctx.createClient(shop.id, ['pos'])
  t.equal((await block(card.id, 'x', idemKey('gb'), pos.token)).statusCode, 403, 'a till cannot block')
  t.equal((await unblock(card.id, idemKey('gu'), pos.token)).statusCode, 403)
  const other = await ctx.createProgram({ rules: VND_RULES })
  const foreign = await block(card.id, 'x', idemKey('gb'), other.token)
  t.equal(foreign.statusCode, 404)
  t.equal(foreign.json().code, 'GIFT_CARD_NOT_FOUND')
  t.match((await ctx.call(shop.token, 'GET', `/v1/gift-cards/${card.id}`)).json(), { status: 'active' }, 'untouched')
  for (const reason of ['', ' ', 'x'.repeat(201)]) t.equal((await block(card.id, reason)).statusCode, 400, `reason ${JSON.stringify(reason.slice(0, 5))}… refused`)
  t.equal((await ctx.call(shop.token, 'POST', `/v1/gift-cards/${card.id}/block`, { reason: 'x' })).statusCode, 400, 'no Idempotency-Key')
})
