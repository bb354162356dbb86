// The functions the purchases service calls in its transaction, on real rows of the purchases
// table (inserted here directly, so this file does not depend on how purchases are wired):
// receipts of purchases, captures, voids and returns, with their events.
import t from 'tap'
import { and, eq, sql } from 'drizzle-orm'
import { queryRows } from '../../../src/db/client.js'
import type { ProgramRow } from '../../../src/modules/programs/tables.js'
import { purchases } from '../../../src/modules/purchases/tables.js'
import { assessUnusualPurchase } from '../../../src/modules/events/care.js'
import { preparePurchaseReceipt, recordCaptureReceipt, recordPurchaseReceipt, recordVoidReceipt, sendReceipt, statementOf } from '../../../src/modules/receipts/record.js'
import { returnReceiptSteps } from '../../../src/modules/receipts/plan-steps.js'
import { maskPhone } from '../../../src/modules/receipts/format.js'
import { memberWallets } from '../../../src/modules/ledger/accounts.js'
import { newId } from '../../../src/shared/ids.js'
import { startTestApp } from '../../helpers/app.js'
import { VND_RULES } from '../../helpers/pos.js'
import { subscribeWebhook } from '../../helpers/webhooks.js'

const ctx = await startTestApp(t)
const fixture = await ctx.createProgram({
  name: 'Siêu thị Xanh',
  rules: { ...VND_RULES, notifications: { lowStoredValue: '50000', unusualPurchase: { above: '5000000', timesAverage: '3', minPurchases: 2 } } },
})
const [program] = await queryRows<ProgramRow>(ctx.database.db, sql`select id, name, currency, timezone, rules from programs where id = ${fixture.id}::uuid`)
// The outbox keeps the events an endpoint may receive (test/integration/events/outbox-wanted.test.ts).
await subscribeWebhook(ctx, fixture.token)
const db = ctx.database.db

const wallets = (points: bigint, storedValue: bigint) => ({ points: { available: points }, storedValue: { available: storedValue } })

let seq = 0
/** A purchases row as the service writes it: cash plus, optionally, stored value. */
async function insertPurchase(memberId: string, total: bigint, o: { storedValue?: bigint; status?: string } = {}) {
  const sv = o.storedValue ?? 0n
  const tenders = [...(sv > 0n ? [{ type: 'storedValue' as const, amount: sv.toString(), refundedAmount: '0' }] : []), ...(total - sv > 0n ? [{ type: 'cash' as const, amount: (total - sv).toString(), refundedAmount: '0' }] : [])]
  const [row] = await db
    .insert(purchases)
    .values({
      programId: program!.id,
      id: newId(),
      memberId,
      storeId: 'S1',
      terminalId: 'T1',
      externalId: `X-${process.pid}-${++seq}`,
      occurredAt: new Date(),
      currency: 'VND',
      status: o.status ?? 'completed',
      lines: [{ sku: 'A', name: 'Gạo ST25', quantity: 2, unitPrice: (total / 2n).toString(), discount: '0', amount: total.toString(), category: null, taxRate: '5', returnedQuantity: 0, returnedAmount: '0' }],
      tenders,
      subtotal: total,
      discountTotal: 0n,
      total,
      moneyPaid: total,
      pointsEarned: total / 10000n,
      pointsRedeemed: 0n,
      storedValueUsed: sv,
      returnedTotal: 0n,
      pointsClawedBack: 0n,
      pointsDebt: 0n,
      entryId: null,
      holds: o.status === 'pending' ? { authorizedTotal: total.toString() } : {},
      invoice: null,
      rulesEffectiveFrom: new Date(0),
      warnings: [],
      createdBy: 'test',
    })
    .returning()
  return row!
}

async function eventsOf(memberId: string) {
  return queryRows<{ type: string; payload: Record<string, unknown> }>(db, sql`select type, payload from events where program_id = ${program!.id}::uuid and member_id = ${memberId}::uuid order by id`)
}

t.test('a completed purchase: receipt and purchase.completed; storedValue.low once per crossing of the threshold', async (t) => {
  const m = await ctx.enrol(fixture.token, { phone: '0987654321' })
  const member = { id: m.id, phone: '+84987654321' }
  // 100,000 -> 40,000: crosses 50,000.
  const p1 = await insertPurchase(m.id, 60000n, { storedValue: 60000n })
  const r1 = await ctx.database.transaction((tx) => recordPurchaseReceipt(tx, program!, p1, { member, balances: wallets(6n, 40000n) }))
  t.same(r1.events.map((e) => e.type), ['purchase.completed', 'storedValue.low'])
  // 40,000 -> 30,000: already below, no second warning.
  const p2 = await insertPurchase(m.id, 10000n, { storedValue: 10000n })
  const r2 = await ctx.database.transaction((tx) => recordPurchaseReceipt(tx, program!, p2, { member, balances: wallets(7n, 30000n) }))
  t.same(r2.events.map((e) => e.type), ['purchase.completed'])
  // A top-up lifts it to 130,000; 130,000 -> 40,000 crosses again.
  const p3 = await insertPurchase(m.id, 90000n, { storedValue: 90000n })
  const r3 = await ctx.database.transaction((tx) => recordPurchaseReceipt(tx, program!, p3, { member, balances: wallets(16n, 40000n) }))
  t.same(r3.events.map((e) => e.type), ['purchase.completed', 'storedValue.low'])

  const low = (await eventsOf(m.id)).filter((e) => e.type === 'storedValue.low')
  t.equal(low.length, 2)
  t.same(low[0]!.payload, { memberId: m.id, currency: 'VND', balance: '40000', threshold: '50000', receiptId: r1.id })

  const receipt = (await ctx.call(fixture.token, 'GET', `/v1/receipts/${r1.id}`)).json()
  t.match(receipt, { kind: 'purchase', purchaseId: p1.id, member: { phone: '+84******321' }, totals: { total: '60000' }, tenders: [{ type: 'storedValue', amount: '60000', balanceAfter: '40000' }] })
  t.same(receipt.tax, { pricesIncludeTax: true, rates: [{ rate: '5', base: '60000', amount: '2857' }], total: '2857' })
  t.equal(receipt.sms, `Sieu thi Xanh: Thanh toan 60.000 VND. So du the 40.000 VND. Diem +6, con 6. Chi tiet: ${receipt.links.public}`)
})

t.test('purchase.unusual: above k times the member’s average, or above the absolute limit; the purchase still gets its receipt', async (t) => {
  const m = await ctx.enrol(fixture.token)
  const member = { id: m.id, phone: null }
  const record = async (total: bigint) => {
    const p = await insertPurchase(m.id, total)
    return ctx.database.transaction((tx) => recordPurchaseReceipt(tx, program!, p, { member, balances: wallets(0n, 0n) }))
  }
  t.same((await record(200000n)).events.map((e) => e.type), ['purchase.completed'], 'no history yet: no average to compare with')
  await record(100000n)
  // Average of the last two: 150,000; 3 x 150,000 = 450,000.
  t.same((await record(450000n)).events.map((e) => e.type), ['purchase.completed'], 'exactly k times the average is not above it')
  const unusual = await record(1000000n)
  t.same(unusual.events.map((e) => e.type), ['purchase.completed', 'purchase.unusual'])
  const [event] = (await eventsOf(m.id)).filter((e) => e.type === 'purchase.unusual')
  // Average of 200,000, 100,000 and 450,000 = 250,000; 1,000,000 is 4 times that.
  t.same(event!.payload, { memberId: m.id, purchaseId: event!.payload.purchaseId, currency: 'VND', total: '1000000', receiptId: unusual.id, held: false, reasons: ['above_average'], memberAverage: '250000' })

  const huge = await record(6000000n)
  const all = (await eventsOf(m.id)).filter((e) => e.type === 'purchase.unusual')
  t.same(huge.events.map((e) => e.type), ['purchase.completed', 'purchase.unusual'])
  t.same(all[1]!.payload.reasons, ['above_limit', 'above_average'])

  // The same decision read before posting, for a program that holds unusual purchases.
  const before = await assessUnusualPurchase(db, program!, { memberId: m.id, total: 6000000n })
  t.match(before, { unusual: true, reasons: ['above_limit'], action: 'flag' })
  const assessed = await insertPurchase(m.id, 7000000n, { status: 'pending' })
  const given = await ctx.database.transaction((tx) =>
    recordPurchaseReceipt(tx, program!, assessed, { member, balances: wallets(0n, 0n), unusual: { ...before, action: 'hold' }, heldAsUnusual: true }),
  )
  t.same(given.events.map((e) => e.type), ['purchase.unusual'], 'held: no purchase.completed yet, the assessment given is used as is')
  const last = (await eventsOf(m.id)).filter((e) => e.type === 'purchase.unusual').at(-1)!
  t.equal(last.payload.held, true)
})

t.test('pending purchase, capture and void: each has its receipt, the later ones point at the first', async (t) => {
  const m = await ctx.enrol(fixture.token)
  const member = { id: m.id, phone: '+84901112223' }
  const pending = await insertPurchase(m.id, 80000n, { status: 'pending', storedValue: 30000n })
  const held = await ctx.database.transaction((tx) => recordPurchaseReceipt(tx, program!, pending, { member, balances: wallets(0n, 70000n) }))
  t.same(held.events.map((e) => e.type), [], 'a pending purchase is not completed: no event (70,000 stays above the threshold)')
  t.equal(held.document.status, 'pending')

  const [captured] = await db
    .update(purchases)
    .set({ status: 'completed', total: 60000n, storedValueUsed: 22500n, tenders: [{ type: 'storedValue', amount: '22500', refundedAmount: '0' }, { type: 'cash', amount: '37500', refundedAmount: '0' }], entryId: newId() })
    .where(and(eq(purchases.programId, program!.id), eq(purchases.id, pending.id)))
    .returning()
  const capture = await ctx.database.transaction((tx) => recordCaptureReceipt(tx, program!, captured!, { member, balances: wallets(6n, 77500n) }))
  t.same(capture.events.map((e) => e.type), ['purchase.completed'])
  const view = (await ctx.call(fixture.token, 'GET', `/v1/receipts/${capture.id}`)).json()
  t.same(view.originalReceipt, { id: held.id, number: held.number })
  t.same(view.totals, { subtotal: '80000', discount: '0', total: '60000', authorized: '80000' })

  const other = await insertPurchase(m.id, 50000n, { status: 'pending' })
  const heldOther = await ctx.database.transaction((tx) => recordPurchaseReceipt(tx, program!, other, { member, balances: wallets(6n, 77500n) }))
  const voided = await ctx.database.transaction((tx) => recordVoidReceipt(tx, program!, { ...other, status: 'voided' }, { member, balances: wallets(6n, 77500n), note: 'hết hàng' }))
  t.same(voided.events, [])
  const voidView = (await ctx.call(fixture.token, 'GET', `/v1/receipts/${voided.id}`)).json()
  t.match(voidView, { kind: 'void', status: 'voided', note: 'hết hàng', originalReceipt: { id: heldOther.id } })

  const byPurchase = (await ctx.call(fixture.token, 'GET', `/v1/receipts?purchaseId=${pending.id}`)).json()
  t.same(byPurchase.data.map((r: { kind: string }) => r.kind), ['capture', 'purchase'])
})

t.test('a return receipt links to the sale’s receipt, and the link is signed', async (t) => {
  const member = { phone: '+84901112224' }
  const m = await ctx.enrol(fixture.token, member)
  const sale = await insertPurchase(m.id, 120000n, { storedValue: 20000n })
  const saleReceipt = await ctx.database.transaction((tx) => recordPurchaseReceipt(tx, program!, sale, { member: { id: m.id, ...member }, balances: wallets(12n, 80000n) }))
  const ret = {
    id: newId(),
    purchaseId: sale.id,
    amount: 60000n,
    refunds: [
      { type: 'storedValue', amount: 10000n },
      { type: 'cash', amount: 50000n },
    ],
    pointsClawedBack: 6n,
    pointsDebt: 0n,
    entryId: newId(),
    createdAt: new Date(),
  }
  // As a return's plan writes it (returns.ts): the balances after and the phone are the database's.
  const steps = returnReceiptSteps(program!, sale, ret, [{ sku: 'A', quantity: 1 }], saleReceipt.id, new Date())
  const applied = await ctx.database.apply({
    program: program!.id,
    member: { id: m.id, refuseErased: false },
    wallets: memberWallets(program!, m.id, 0),
    receipts: steps.receipts,
    events: steps.events,
  })
  const recorded = { id: steps.receipt.id, events: applied.events }
  const view = (await ctx.call(fixture.token, 'GET', `/v1/receipts/${recorded.id}`)).json()
  t.match(view, {
    kind: 'return',
    returnId: ret.id,
    originalReceipt: { id: saleReceipt.id, number: saleReceipt.number },
    lines: [{ sku: 'A', quantity: 1, amount: '60000' }],
    totals: { total: '60000' },
    tenders: [{ type: 'storedValue', amount: '10000', balanceAfter: '0' }, { type: 'cash', amount: '50000' }],
    points: { clawedBack: 6, balanceAfter: 0 },
    member: { phone: maskPhone(member.phone) },
  })
  const { jws } = (await ctx.call(fixture.token, 'GET', `/v1/receipts/${recorded.id}/jws`)).json()
  const payload = JSON.parse(Buffer.from(jws.split('.')[1], 'base64url').toString('utf8'))
  t.same(payload.receipt.originalReceipt, { id: saleReceipt.id, number: saleReceipt.number })
  const [event] = (await eventsOf(m.id)).filter((e) => e.type === 'return.completed')
  t.same(event!.payload, { memberId: m.id, purchaseId: sale.id, returnId: ret.id, receiptId: recorded.id, currency: 'VND', amount: '60000' })
})

t.test('the same statement through a pipelining runner, or as text and parameters', async (t) => {
  const m = await ctx.enrol(fixture.token)
  const sale = await insertPurchase(m.id, 30000n)
  const recorded = await ctx.database.pipelined((runner) => recordPurchaseReceipt(runner, program!, sale, { member: { id: m.id, phone: null }, balances: wallets(3n, 0n) }))
  t.equal((await ctx.call(fixture.token, 'GET', `/v1/receipts/${recorded.id}`)).statusCode, 200)

  const other = await insertPurchase(m.id, 40000n)
  const prepared = preparePurchaseReceipt(program!, other, { member: { id: m.id, phone: null }, balances: wallets(7n, 0n) })
  const { text, params } = statementOf(prepared)
  t.match(text, /^with r as \(\s+insert into receipts/)
  await ctx.database.pipelined((runner) => runner.run(text, params))
  t.equal((await ctx.call(fixture.token, 'GET', `/v1/receipts/${prepared.id}`)).json().totals.total, '40000')

  // Sent without waiting: it leaves with the COMMIT.
  const third = await insertPurchase(m.id, 50000n)
  const unawaited = preparePurchaseReceipt(program!, third, { member: { id: m.id, phone: null }, balances: wallets(12n, 0n) })
  await ctx.database.pipelined(async (runner) => sendReceipt(runner, unawaited))
  t.equal((await ctx.call(fixture.token, 'GET', `/v1/receipts/${unawaited.id}`)).json().totals.total, '50000')

  // A statement that fails rolls the transaction back at COMMIT, even unawaited: a second
  // receipt of the same purchase is refused by receipts_program_purchase_source_key.
  const again = preparePurchaseReceipt(program!, third, { member: { id: m.id, phone: null }, balances: wallets(12n, 0n) })
  await t.rejects(ctx.database.pipelined(async (runner) => sendReceipt(runner, again)))
  t.equal((await ctx.call(fixture.token, 'GET', `/v1/receipts/${again.id}`)).statusCode, 404)
})

t.test('a rolled-back transaction leaves neither receipt nor event', async (t) => {
  const m = await ctx.enrol(fixture.token)
  const sale = await insertPurchase(m.id, 30000n)
  let id = ''
  await t.rejects(
    ctx.database.transaction(async (tx) => {
      id = (await recordPurchaseReceipt(tx, program!, sale, { member: { id: m.id, phone: null }, balances: wallets(3n, 0n) })).id
      throw new Error('the purchase failed after the receipt was written')
    }),
  )
  t.equal((await ctx.call(fixture.token, 'GET', `/v1/receipts/${id}`)).statusCode, 404)
  t.same((await eventsOf(m.id)).map((e) => e.type), ['member.enrolled'])
})

t.test('storedValue.low for other debits: emitted on a crossing only', async (t) => {
  const { emitStoredValueLowIfCrossed } = await import('../../../src/modules/events/care.js')
  const m = await ctx.enrol(fixture.token)
  const crossing = await ctx.database.transaction((tx) => emitStoredValueLowIfCrossed(tx, program!, { memberId: m.id, before: 60000n, after: 45000n }))
  t.match(crossing, { type: 'storedValue.low', status: 'pending' })
  const below = await ctx.database.transaction((tx) => emitStoredValueLowIfCrossed(tx, program!, { memberId: m.id, before: 45000n, after: 20000n }))
  t.equal(below, null)
  t.same((await eventsOf(m.id)).map((e) => e.type), ['member.enrolled', 'storedValue.low'])
})
