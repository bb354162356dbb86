// Gift cards through the API: issued alone (with a PIN, an initial value, a member) and in a batch,
// loaded and reloaded at a till, checked by code, attached to a member (who then sees it with their
// balances), another program's card not found, hostile codes refused, retries answered once, and
// the ledger verified clean after each.
import t from 'tap'
import { startTestApp } from '../../helpers/app.js'
import { idemKey } from '../../helpers/pos.js'
import { GiftCardDesk } from './helpers.js'

const ctx = await startTestApp(t)
const shop = await ctx.createProgram()
const other = await ctx.createProgram()
const desk = new GiftCardDesk(ctx, shop.token)
const pos = await ctx.createClient(shop.id, ['pos'])

t.test('issue, load, reload and check: the card’s own wallet, the loads in the ledger', async (t) => {
  const card = await desk.issue()
  t.match(card, { id: /^[0-9a-f-]{36}$/, code: /^[0-9A-HJKMNP-TV-Z]{16}$/, codeLast4: card.code.slice(-4), currency: 'VND', balance: '0', hasPin: false, memberId: null })
  const first = await desk.load(card.id, '200000')
  t.match(first, { giftCardId: card.id, amount: '200000', tender: 'cash', storeId: 'S1', balance: '200000' })
  const second = await desk.load(card.id, '50000', 'S2')
  t.equal(second.balance, '250000', 'a reload adds to the balance')
  // Typed with spaces, hyphens, lower case and Crockford's look-alikes.
  const typed = card.code.toLowerCase().replace(/(.{4})/g, '$1-').replace(/1/g, 'l').replace(/0/g, 'o')
  const checked = await desk.check(typed)
  t.equal(checked.statusCode, 200, checked.body)
  t.match(checked.json(), { id: card.id, balance: '250000', codeLast4: card.code.slice(-4) })
  t.notOk('code' in checked.json(), 'the code is never shown again')
  const entry = (await ctx.call(shop.token, 'GET', `/v1/ledger/entries/${first.id}`)).json()
  t.match(entry, { kind: 'gift_card_load', storeId: 'S1', reference: { type: 'gift_card', id: card.id } })
  t.same(
    entry.postings.map((p: { accountType: string; amount: string; balanceAfter: string | null }) => [p.accountType, p.amount, p.balanceAfter]),
    [
      ['gift_card_clearing', '-200000', null],
      ['gift_card', '200000', '200000'],
    ],
  )
  await desk.verify(t)
})

t.test('an initial value at issue, and a batch of cards with one entry for all', async (t) => {
  const card = await desk.issue({ initialValue: '100000', tender: 'card', storeId: 'S1' })
  t.equal(card.balance, '100000')
  const res = await ctx.call(shop.token, 'POST', '/v1/gift-cards/batches', { count: 25, initialValue: '50000', tender: 'bank_transfer', storeId: 'HQ' }, { 'idempotency-key': idemKey() })
  t.equal(res.statusCode, 201, res.body)
  const batch = res.json()
  t.equal(batch.cards.length, 25)
  t.equal(new Set(batch.cards.map((c: { code: string }) => c.code)).size, 25, 'every code its own')
  t.match(batch, { count: 25, initialValue: '50000', entryId: /^[0-9a-f-]{36}$/ })
  const one = await desk.check(batch.cards[7].code)
  t.match(one.json(), { id: batch.cards[7].id, balance: '50000', batchId: batch.batchId, hasPin: false })
  const entry = (await ctx.call(shop.token, 'GET', `/v1/ledger/entries/${batch.entryId}`)).json()
  t.equal(entry.postings.length, 26, 'the clearing and one posting a card')
  t.equal(entry.postings[0].amount, '-1250000')
  const empty = await ctx.call(shop.token, 'POST', '/v1/gift-cards/batches', { count: 3 }, { 'idempotency-key': idemKey() })
  t.match(empty.json(), { count: 3, initialValue: '0', entryId: null })
  t.equal(await desk.balance(empty.json().cards[0].id), '0')
  await desk.verify(t)
})

t.test('attached to a member: listed with the member’s balances, its wallet still its own', async (t) => {
  const m = await ctx.enrol(shop.token)
  const card = await desk.issue({ initialValue: '80000', tender: 'cash', storeId: 'S1' })
  const key = idemKey('at')
  const attach = (memberId: string, k = idemKey()) => ctx.call(pos.token, 'POST', `/v1/gift-cards/${card.id}/attachment`, { memberId }, { 'idempotency-key': k })
  const res = await attach(m.id, key)
  t.equal(res.statusCode, 200, res.body)
  t.match(res.json(), { id: card.id, memberId: m.id, attachedAt: /Z$/, balance: '80000' })
  const replay = await attach(m.id, key)
  t.equal(replay.body, res.body, 'a retry with its key gets the same bytes')
  t.equal(replay.headers['idempotent-replayed'], 'true')
  t.equal((await attach(m.id)).statusCode, 200, 'the same member again: answered as it is')
  const stranger = await ctx.enrol(shop.token)
  const taken = await attach(stranger.id)
  t.equal(taken.statusCode, 409)
  t.match(taken.json(), { code: 'GIFT_CARD_ALREADY_ATTACHED', memberId: m.id })
  const balances = (await ctx.call(pos.token, 'GET', `/v1/members/${m.id}/balances`)).json()
  t.same(balances.giftCards, [{ id: card.id, codeLast4: card.code.slice(-4), currency: 'VND', balance: '80000' }])
  t.equal(balances.storedValue.balance, '0', 'the card is not the member’s stored value')
  await desk.load(card.id, '20000')
  t.equal((await ctx.call(pos.token, 'GET', `/v1/members/${m.id}/balances`)).json().giftCards[0].balance, '100000')
  t.same((await ctx.call(pos.token, 'GET', `/v1/members/${stranger.id}/balances`)).json().giftCards, [])
  const nobody = await ctx.call(pos.token, 'POST', `/v1/gift-cards/${(await desk.issue()).id}/attachment`, { memberId: '00000000-0000-4000-8000-000000000000' }, { 'idempotency-key': idemKey() })
  t.match(nobody.json(), { code: 'MEMBER_NOT_FOUND' })
  const atIssue = await desk.issue({ memberId: m.id })
  t.equal(atIssue.memberId === m.id, true, 'attached at issue')
  t.equal((await ctx.call(pos.token, 'GET', `/v1/members/${m.id}/balances`)).json().giftCards.length, 2)
  await desk.verify(t)
})

t.test('another program’s card is not found: by id, by code, for a load or an attachment', async (t) => {
  const card = await desk.issue({ initialValue: '10000', tender: 'cash', storeId: 'S1' })
  const theirs = new GiftCardDesk(ctx, other.token)
  t.match((await theirs.check(card.code)).json(), { code: 'GIFT_CARD_NOT_FOUND' })
  t.equal((await ctx.call(other.token, 'GET', `/v1/gift-cards/${card.id}`)).statusCode, 404)
  const load = await ctx.call(other.token, 'POST', `/v1/gift-cards/${card.id}/loads`, { amount: '1000', tender: 'cash', storeId: 'S1' }, { 'idempotency-key': idemKey() })
  t.equal(load.statusCode, 404)
  t.equal(load.json().code, 'GIFT_CARD_NOT_FOUND')
  const m = await ctx.enrol(other.token)
  const attach = await ctx.call(other.token, 'POST', `/v1/gift-cards/${card.id}/attachment`, { memberId: m.id }, { 'idempotency-key': idemKey() })
  t.equal(attach.json().code, 'GIFT_CARD_NOT_FOUND')
  t.equal(await desk.balance(card.id), '10000', 'nothing loaded by the other program')
  await desk.verify(t)
  await theirs.verify(t)
})

t.test('hostile codes and amounts are 4xx problems', async (t) => {
  for (const code of ['', 'x', 'A'.repeat(15), 'A'.repeat(17), 'UUUUUUUUUUUUUUUU', "'; drop table gift_cards; --", '\u0000'.repeat(16), 'Ａ'.repeat(16), '0'.repeat(64)]) {
    const res = await desk.check(code)
    t.ok(res.statusCode === 404 || res.statusCode === 400, `${JSON.stringify(code)}: ${res.statusCode}`)
    t.match(res.headers['content-type'], /problem\+json/)
  }
  t.equal((await desk.check('A'.repeat(65))).statusCode, 400)
  const card = await desk.issue()
  for (const amount of ['0', '-1', '1.5', 'abc', '1000000000001', '1e9']) {
    const res = await ctx.call(shop.token, 'POST', `/v1/gift-cards/${card.id}/loads`, { amount, tender: 'cash', storeId: 'S1' }, { 'idempotency-key': idemKey() })
    t.equal(res.statusCode, 400, `amount ${amount}`)
  }
  t.equal((await ctx.call(shop.token, 'POST', '/v1/gift-cards', { initialValue: '1000' }, { 'idempotency-key': idemKey() })).statusCode, 400, 'an initial value needs a tender and a store')
  t.equal((await ctx.call(shop.token, 'POST', '/v1/gift-cards', { pin: '12' }, { 'idempotency-key': idemKey() })).statusCode, 400, 'a PIN is 4 to 8 digits')
  t.equal((await ctx.call(shop.token, 'POST', '/v1/gift-cards/batches', { count: 501 }, { 'idempotency-key': idemKey() })).statusCode, 400)
  t.equal((await ctx.call(shop.token, 'GET', '/v1/gift-cards/not-a-uuid')).statusCode, 400)
  t.equal((await ctx.call(pos.token, 'POST', '/v1/gift-cards/batches', { count: 1 }, { 'idempotency-key': idemKey() })).statusCode, 403, 'batches need program:manage')
  t.equal(await desk.balance(card.id), '0')
})

t.test('retries with their keys are answered once: issue, batch, load', async (t) => {
  const key = idemKey('issue')
  const a = await ctx.call(shop.token, 'POST', '/v1/gift-cards', { initialValue: '30000', tender: 'cash', storeId: 'S1' }, { 'idempotency-key': key })
  const b = await ctx.call(shop.token, 'POST', '/v1/gift-cards', { initialValue: '30000', tender: 'cash', storeId: 'S1' }, { 'idempotency-key': key })
  t.equal(b.body, a.body, 'the same card, the same code')
  t.equal(b.headers['idempotent-replayed'], 'true')
  const other = await ctx.call(shop.token, 'POST', '/v1/gift-cards', { initialValue: '30001', tender: 'cash', storeId: 'S1' }, { 'idempotency-key': key })
  t.equal(other.json().code, 'IDEMPOTENCY_KEY_REUSED')
  const batchKey = idemKey('batch')
  const b1 = await ctx.call(shop.token, 'POST', '/v1/gift-cards/batches', { count: 2 }, { 'idempotency-key': batchKey })
  const b2 = await ctx.call(shop.token, 'POST', '/v1/gift-cards/batches', { count: 2 }, { 'idempotency-key': batchKey })
  t.equal(b2.body, b1.body)
  const card = a.json()
  const loadKey = idemKey('load')
  const l1 = await desk.load(card.id, '5000', 'S1', loadKey)
  const l2 = await desk.load(card.id, '5000', 'S1', loadKey)
  t.same(l2, l1)
  t.equal(await desk.balance(card.id), '35000', 'loaded once')
  await desk.verify(t)
})
