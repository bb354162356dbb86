// The write executor (src/db/apply.ts, migration 0018): a plain sale is one ll_apply call; plans
// waiting together go in one group where each plan's refusal is its own; what the database fills in
// (balances after, the masked phone) equals what the TypeScript would have written.
//
// Expected behaviour: the answer and its replay are the same; the receipt shows the balances after
// the sale; in a group of concurrent sales one member's insufficient funds refuses that sale alone.
import t from 'tap'
import { sql } from 'drizzle-orm'
import { queryRows } from '../../../src/db/client.js'
import { formatMinorUnits } from '../../../src/shared/money.js'
import { maskPhone } from '../../../src/modules/receipts/format.js'
import { startTestApp } from '../../helpers/app.js'
import { idemKey, Till, VND_RULES } from '../../helpers/pos.js'
import { subscribeWebhook } from '../../helpers/webhooks.js'

const ctx = await startTestApp(t)
const cash = (amount: string) => [{ type: 'cash', amount }]
const stats = () => ({ ...ctx.database.applier.stats })

t.test('the SQL formatting the executor fills in agrees with the TypeScript', async (t) => {
  const phones = ['+84901234567', '+8490123', '+841234', '84901234567', '+1', '', null, '+4420794600000']
  for (const phone of phones) {
    const [row] = await queryRows<{ m: string | null }>(ctx.database.db, sql`select ll_mask_phone(${phone}::text) as m`)
    t.equal(row!.m, maskPhone(phone), `mask ${phone}`)
  }
  for (const [value, exp] of [[0n, 0], [-50n, 2], [5n, 3], [123456789n, 2], [-1n, 0], [10n ** 15n, 2], [7n, 2]] as const) {
    const [row] = await queryRows<{ f: string }>(ctx.database.db, sql`select ll_format_minor(${value.toString()}::bigint, ${exp}::int) as f`)
    t.equal(row!.f, formatMinorUnits(value, exp), `format ${value} at exponent ${exp}`)
  }
})

t.test('a plain sale goes through the executor; its replay and its receipt show the balances after', async (t) => {
  const p = await ctx.createProgram({ rules: { ...VND_RULES, notifications: { lowStoredValue: '50000' } } })
  await subscribeWebhook(ctx, p.token)
  const till = new Till(ctx, p.token)
  const member = await ctx.enrol(p.token)
  await till.topUp(member.id, '100000')
  const before = stats()
  const key = idemKey('plain')
  const lines = [{ sku: 'A', quantity: 1, unitPrice: '200000' }]
  const tenders = [{ type: 'storedValue', amount: '60000' }, { type: 'cash', amount: '140000' }]
  const send = () => till.purchase(member.id, lines, tenders, { externalId: 'PLAIN-1' }, key)
  const sale = await send()
  t.equal(sale.statusCode, 201, sale.body)
  t.equal(stats().plans - before.plans, 1, 'one plan applied')
  const body = sale.json()
  t.same(body.balances, { memberId: member.id, points: { balance: 20, available: 20, pending: 0 }, storedValue: { currency: 'VND', balance: '40000', available: '40000', pending: '0' } })
  const replay = await send()
  t.equal(replay.statusCode, 201)
  t.equal(replay.headers['idempotent-replayed'], 'true')
  t.same(replay.json(), body, 'the stored answer is the answer')
  const receipt = await ctx.call(p.token, 'GET', `/v1/receipts/${body.receipt.id}`)
  t.equal(receipt.statusCode, 200, receipt.body)
  const doc = receipt.json()
  t.equal(doc.points.balanceAfter, 20)
  t.equal(doc.storedValue.balanceAfter, '40000')
  t.equal(doc.member.phone, maskPhone(member.phone))
  const events = await queryRows<{ type: string; payload: { balance?: string } }>(
    ctx.database.db,
    sql`select type, payload from events where program_id = ${p.id} and type in ('purchase.completed', 'storedValue.low') order by type`,
  )
  t.same(events.map((e) => e.type), ['purchase.completed', 'storedValue.low'], 'the balance crossed 50,000: storedValue.low')
  t.equal(events[1]!.payload.balance, '40000')
  // Below the threshold already: no second storedValue.low.
  const again = await till.purchase(member.id, lines, [{ type: 'storedValue', amount: '10000' }, { type: 'cash', amount: '190000' }])
  t.equal(again.statusCode, 201, again.body)
  const lows = await queryRows<{ n: string }>(ctx.database.db, sql`select count(*) as n from events where program_id = ${p.id} and type = 'storedValue.low'`)
  t.equal(Number(lows[0]!.n), 1)
  t.equal((await till.verify()).ok, true)
})

t.test('concurrent sales: refusals stay with their own sale, the others post', async (t) => {
  const p = await ctx.createProgram({ rules: VND_RULES })
  const till = new Till(ctx, p.token)
  const members = await Promise.all(Array.from({ length: 6 }, () => ctx.enrol(p.token)))
  for (const m of members) await till.topUp(m.id, '50000')
  const before = stats()
  // Members 1 and 4 spend more stored value than they have; members 0 and 5 send the same receipt number, so
  // whichever reaches the database first posts and the other is refused (the order is theirs, not ours).
  const sales = members.map((m, i) =>
    till.purchase(m.id, [{ sku: 'X', quantity: 1, unitPrice: '100000' }], [{ type: 'storedValue', amount: i === 1 || i === 4 ? '60000' : '50000' }, { type: 'cash', amount: i === 1 || i === 4 ? '40000' : '50000' }], i === 5 || i === 0 ? { externalId: 'SAME-1' } : {}),
  )
  const answers = await Promise.all(sales)
  const statuses = answers.map((a) => a.statusCode)
  const bodies = answers.map((a) => a.body).join('\n')
  t.same(statuses.slice(1, 5), [422, 201, 201, 422], bodies)
  t.same([statuses[0], statuses[5]].sort(), [201, 409], 'one of the two same receipt numbers posts, the other is a duplicate')
  const winner = statuses[0] === 201 ? 0 : 5
  t.equal(answers[1]!.json().code, 'INSUFFICIENT_FUNDS')
  t.equal(answers[winner === 0 ? 5 : 0]!.json().code, 'DUPLICATE_PURCHASE')
  const after = stats()
  t.equal(after.plans - before.plans, 6, 'six plans')
  for (const [i, m] of members.entries()) {
    const b = await till.balances(m.id)
    const refused = i === 1 || i === 4 || ((i === 0 || i === 5) && i !== winner)
    t.equal(b.storedValue.balance, refused ? '50000' : '0', `member ${i}`)
  }
  t.equal((await till.verify()).ok, true)
})

t.test('an unknown or erased member is refused by the executor as by the pipelined path', async (t) => {
  const p = await ctx.createProgram({ rules: VND_RULES })
  const till = new Till(ctx, p.token)
  const missing = await till.purchase('00000000-0000-4000-8000-000000000000', [{ sku: 'A', quantity: 1, unitPrice: '10000' }], cash('10000'))
  t.equal(missing.statusCode, 404)
  t.equal(missing.json().code, 'MEMBER_NOT_FOUND')
  const other = await ctx.createProgram({ rules: VND_RULES })
  const stranger = await ctx.enrol(other.token)
  const foreign = await till.purchase(stranger.id, [{ sku: 'A', quantity: 1, unitPrice: '10000' }], cash('10000'))
  t.equal(foreign.statusCode, 404, 'another program’s member is not found')
  const counts = await queryRows<{ n: string }>(ctx.database.db, sql`select count(*) as n from purchases where program_id in (${p.id}, ${other.id})`)
  t.equal(Number(counts[0]!.n), 0, 'nothing written')
})

t.test('purchase.unusual is decided by the executor against the member’s recent purchases', async (t) => {
  const p = await ctx.createProgram({ rules: { ...VND_RULES, notifications: { unusualPurchase: { timesAverage: '3', minPurchases: 2, above: '5000000' } } } })
  await subscribeWebhook(ctx, p.token)
  const till = new Till(ctx, p.token)
  const member = await ctx.enrol(p.token)
  for (const price of ['100000', '200000']) t.equal((await till.purchase(member.id, [{ sku: 'A', quantity: 1, unitPrice: price }], cash(price))).statusCode, 201)
  const big = await till.purchase(member.id, [{ sku: 'TV', quantity: 1, unitPrice: '6000000' }], cash('6000000'))
  t.equal(big.statusCode, 201, big.body)
  const unusual = await queryRows<{ payload: Record<string, unknown> }>(ctx.database.db, sql`select payload from events where program_id = ${p.id} and type = 'purchase.unusual'`)
  t.equal(unusual.length, 1)
  t.same(unusual[0]!.payload, {
    memberId: member.id,
    purchaseId: big.json().id,
    currency: 'VND',
    total: '6000000',
    receiptId: big.json().receipt.id,
    held: false,
    reasons: ['above_limit', 'above_average'],
    memberAverage: '150000',
  })
  const usual = await till.purchase(member.id, [{ sku: 'B', quantity: 1, unitPrice: '150000' }], cash('150000'))
  t.equal(usual.statusCode, 201)
  const count = await queryRows<{ n: string }>(ctx.database.db, sql`select count(*) as n from events where program_id = ${p.id} and type = 'purchase.unusual'`)
  t.equal(Number(count[0]!.n), 1, 'a usual purchase raises nothing')
})

t.test('with no endpoint to receive them, the executor writes no outbox rows for a sale', async (t) => {
  const p = await ctx.createProgram({ rules: { ...VND_RULES, notifications: { lowStoredValue: '50000', unusualPurchase: { above: '1' } } } })
  const till = new Till(ctx, p.token)
  const member = await ctx.enrol(p.token)
  await till.topUp(member.id, '60000')
  const sale = await till.purchase(member.id, [{ sku: 'A', quantity: 1, unitPrice: '100000' }], [{ type: 'storedValue', amount: '20000' }, { type: 'cash', amount: '80000' }])
  t.equal(sale.statusCode, 201, sale.body)
  const events = await queryRows<{ n: string }>(ctx.database.db, sql`select count(*) as n from events where program_id = ${p.id}`)
  t.equal(Number(events[0]!.n), 0, 'purchase.completed, storedValue.low and purchase.unusual all unwanted')
  const receipt = await ctx.call(p.token, 'GET', `/v1/receipts/${sale.json().receipt.id}`)
  t.equal(receipt.json().storedValue.balanceAfter, '40000', 'the receipt is written all the same')
})
