// Every purchase, capture, void and return answers with its receipt, written in the same
// transaction: JSON with balances and tier progress, SMS text, and a return or capture receipt
// that links to the sale's receipt. A replay returns the same receipt; events are in the outbox.
import t from 'tap'
import { sql } from 'drizzle-orm'
import { queryRows } from '../../../src/db/client.js'
import { startTestApp } from '../../helpers/app.js'
import { Till, VND_RULES } from '../../helpers/pos.js'
import { subscribeWebhook } from '../../helpers/webhooks.js'

const ctx = await startTestApp(t)
const tiers = { metric: 'spend', levels: [{ code: 'member', name: 'Member', threshold: '0' }, { code: 'silver', name: 'Silver', threshold: '1000000', discountPercent: '5' }] }
const p = await ctx.createProgram({ name: 'Cà phê Sáng', rules: { ...VND_RULES, tiers } })
const till = new Till(ctx, p.token)
// The outbox keeps the events an endpoint may receive.
await subscribeWebhook(ctx, p.token)
const receiptOf = async (id: string, accept = 'application/json') => ctx.call(p.token, 'GET', `/v1/receipts/${id}`, undefined, { accept })

t.test('a purchase and its return', async (t) => {
  const m = await ctx.enrol(p.token, { phone: '0912345678' })
  await till.topUp(m.id, '500000')
  const key = 'wiring-sale-1'
  const sale = await till.purchase(m.id, [{ sku: 'A', quantity: 2, unitPrice: '125000' }], [{ type: 'storedValue', amount: '50000' }, { type: 'cash', amount: '200000' }], { externalId: 'W-1' }, key)
  t.equal(sale.statusCode, 201)
  const body = sale.json()
  t.match(body.receipt, { id: /^[0-9a-f-]{36}$/, url: /\/r\/[A-Za-z0-9_-]+$/ })
  const r = (await receiptOf(body.receipt.id)).json()
  t.match(r, {
    kind: 'purchase',
    member: { id: m.id, phone: '+84******678' },
    entryId: body.entryId,
    totals: { total: '250000' },
    storedValue: { used: '50000', balanceAfter: '450000' },
    points: { earned: 25, balanceAfter: 25 },
    tier: { name: 'Member', next: { name: 'Silver', remaining: '750000', unit: 'money' } },
  })
  const sms = (await receiptOf(body.receipt.id, 'text/plain')).body
  t.ok(sms.length <= 160 && /250\.000/.test(sms) && /450\.000/.test(sms), sms)
  const replay = await till.purchase(m.id, [{ sku: 'A', quantity: 2, unitPrice: '125000' }], [{ type: 'storedValue', amount: '50000' }, { type: 'cash', amount: '200000' }], { externalId: 'W-1' }, key)
  t.equal(replay.json().receipt.id, body.receipt.id, 'a replay answers with the same receipt')

  const ret = await till.returnPurchase(body.id, { lines: [{ sku: 'A', quantity: 1 }] })
  t.equal(ret.statusCode, 201)
  const rr = (await receiptOf(ret.json().receipt.id)).json()
  t.match(rr, { kind: 'return', originalReceipt: { id: body.receipt.id } })
  const events = await queryRows<{ type: string }>(ctx.database.db, sql`select type from events where program_id = ${p.id} and member_id = ${m.id} order by id`)
  t.same(
    events.map((e) => e.type).filter((type) => type !== 'member.enrolled' && type !== 'storedValue.toppedUp'),
    ['tier.changed', 'purchase.completed', 'return.completed'],
    'the outbox holds the events of the sale and the return',
  )
  const receipts = await queryRows(ctx.database.db, sql`select id from receipts where program_id = ${p.id} and purchase_id = ${body.id}`)
  t.equal(receipts.length, 2, 'one receipt for the sale, one for the return')
})

t.test('capture and void receipts link to the sale receipt', async (t) => {
  const m = await ctx.enrol(p.token)
  await till.topUp(m.id, '100000')
  for (const action of ['capture', 'void'] as const) {
    const held = await till.purchase(m.id, [{ sku: 'B', quantity: 1, unitPrice: '40000' }], [{ type: 'storedValue', amount: '40000' }], { capture: false })
    t.equal(held.statusCode, 201)
    const done = await ctx.call(p.token, 'POST', `/v1/purchases/${held.json().id}/${action}`, {}, { 'idempotency-key': `wiring-${action}-${held.json().id}` })
    t.equal(done.statusCode, 200, done.body)
    const receipt = (await receiptOf(done.json().receipt.id)).json()
    t.match(receipt, { kind: action, originalReceipt: { id: held.json().receipt.id } })
  }
  t.same((await till.verify()).discrepancies, [])
})
