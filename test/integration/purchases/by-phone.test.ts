// A sale naming its member by phone (national form) or card number goes through the executor as
// the same sale by member id: the answer, balances, receipt and events are those of that sale.
// Unknown, invalid and erased members are refused as before.
import t from 'tap'
import { sql } from 'drizzle-orm'
import { queryRows } from '../../../src/db/client.js'
import { startTestApp, TestApp } from '../../helpers/app.js'
import { idemKey, receiptNo, Till, VND_RULES } from '../../helpers/pos.js'
import { subscribeWebhook } from '../../helpers/webhooks.js'

const ctx = await startTestApp(t)
const p = await ctx.createProgram({ country: 'VN', rules: VND_RULES })
await subscribeWebhook(ctx, p.token)
const till = new Till(ctx, p.token)

t.afterEach(async () => {
  const report = await till.verify()
  if (!report.ok) throw new Error(`ledger verify failed: ${JSON.stringify(report.discrepancies)}`)
})

let cards = 0
/** A member with 500 points and 100,000 VND of stored value. */
async function funded(phone?: string) {
  const cardNumber = `BY-CARD-${process.pid}-${++cards}`
  const m = await ctx.enrol(p.token, { cardNumber, ...(phone ? { phone } : {}) })
  await till.topUp(m.id, '100000')
  await till.grantPoints(m.id, 500)
  return { ...m, cardNumber }
}

const saleBody = (by: Record<string, string>, capture: boolean) => ({
  ...by,
  storeId: 'S1',
  terminalId: 'T1',
  externalId: receiptNo(),
  currency: 'VND',
  lines: [{ sku: 'MEAL', name: 'MEAL', quantity: 2, unitPrice: '100000' }],
  tenders: [{ type: 'storedValue', amount: '30000' }, { type: 'points', points: 100 }, { type: 'cash', amount: '160000' }],
  capture,
})

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/
const TIME = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$/
/** What differs between two equal sales of two members: ids, times, receipt numbers, links, the phone. */
function shape(v: unknown, key = ''): unknown {
  if (Array.isArray(v)) return v.map((x) => shape(x))
  if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, shape(x, k)]))
  if (typeof v !== 'string') return v
  if (UUID.test(v)) return '<id>'
  if (key === 'sms') return v.replace(/\/r\/[A-Za-z0-9_-]+/, '/r/<token>')
  if (TIME.test(v)) return '<time>'
  if (['externalId', 'posReceiptNumber', 'public', 'number', 'url', 'token', 'phone', 'verifyUrl', 'jws', 'signature', 'qr'].includes(key)) return `<${key}>`
  return v
}

const receiptOf = async (id: string) => (await ctx.call(p.token, 'GET', `/v1/receipts/${id}`)).json()
const eventsOf = async (memberId: string) =>
  (await queryRows<{ type: string }>(ctx.database.db, sql`select type from events where program_id = ${p.id} and member_id = ${memberId} order by id`)).map((e) => e.type)
const purchaseRow = async (id: string) =>
  (await queryRows<Record<string, unknown>>(ctx.database.db, sql`select member_id, status, total, points_earned, points_redeemed, stored_value_used, holds - 'points' - 'storedValue' as holds, lines, tenders, discounts from purchases where program_id = ${p.id} and id = ${id}`))[0]

for (const capture of [true, false]) {
  t.test(`a ${capture ? 'captured' : 'held'} sale by phone (national form) or card is the same sale by member id`, async (t) => {
    const national = `09${capture ? '1' : '2'}${String(process.pid % 10_000_000).padStart(7, '0')}`
    const [byPhone, byCard, byId] = await Promise.all([funded(national), funded(), funded()])
    const post = (app: TestApp, by: Record<string, string>) => app.call(p.token, 'POST', '/v1/purchases', saleBody(by, capture), { 'idempotency-key': idemKey('by') })
    const idRes = await post(ctx, { memberId: byId.id })
    t.equal(idRes.statusCode, 201, idRes.body)
    const expected = idRes.json()
    const cases: [string, { id: string }, Awaited<ReturnType<typeof post>>][] = [
      ['by phone', byPhone, await post(ctx, { phone: national })],
      ['by card', byCard, await post(ctx, { cardNumber: byCard.cardNumber })],
    ]
    for (const [what, member, res] of cases) {
      t.equal(res.statusCode, 201, `${what}: ${res.body}`)
      const body = res.json()
      t.equal(body.memberId, member.id, `${what}: the purchase is the resolved member's`)
      t.same(shape(body), shape(expected), `${what}: the answer of the sale by member id`)
      t.same(shape(body.balances), shape(expected.balances), `${what}: the balances after`)
      t.same(shape(await till.balances(member.id)), shape(await till.balances(byId.id)), `${what}: the wallets`)
      t.same(shape(await receiptOf(body.receipt.id)), shape(await receiptOf(expected.receipt.id)), `${what}: the receipt`)
      t.same(await eventsOf(member.id), await eventsOf(byId.id), `${what}: the events`)
      t.same({ ...(await purchaseRow(body.id)), member_id: '-' }, { ...(await purchaseRow(expected.id)), member_id: '-' }, `${what}: the purchase row`)
      t.equal((await purchaseRow(body.id))!.member_id, member.id)
    }
    t.match(await receiptOf(cases[0]![2].json().receipt.id), { member: { id: byPhone.id, phone: /^\+84\*+\d{3,4}$/ } }, 'the receipt names the member, phone masked')
    if (!capture) {
      // The capture's receipt shows the wallets' balances after under the tenders paid from them.
      const captured = await ctx.call(p.token, 'POST', `/v1/purchases/${cases[0]![2].json().id}/capture`, {}, { 'idempotency-key': idemKey('cap') })
      t.equal(captured.statusCode, 200, captured.body)
      const wallets = await till.balances(byPhone.id)
      t.match((await receiptOf(captured.json().receipt.id)).tenders, [{ type: 'storedValue', balanceAfter: wallets.storedValue.available }, { type: 'points', pointsBalanceAfter: wallets.points.available }, { type: 'cash' }])
    }
  })
}

t.test('a retry by phone with the same key replays the answer; the hash is the body as sent', async (t) => {
  const m = await funded()
  const body = saleBody({ phone: m.phone }, true)
  const key = idemKey('replay')
  const first = await ctx.call(p.token, 'POST', '/v1/purchases', body, { 'idempotency-key': key })
  t.equal(first.statusCode, 201)
  const replay = await ctx.call(p.token, 'POST', '/v1/purchases', body, { 'idempotency-key': key })
  t.equal(replay.headers['idempotent-replayed'], 'true')
  t.equal(replay.body, first.body, 'the same bytes')
  const byId = await ctx.call(p.token, 'POST', '/v1/purchases', { ...saleBody({ memberId: m.id }, true), externalId: body.externalId }, { 'idempotency-key': key })
  t.equal(byId.statusCode, 422, 'the same key with the sale by member id is another request')
  t.equal(byId.json().code, 'IDEMPOTENCY_KEY_REUSED')
})

t.test('unknown, invalid and erased members are refused as before, nothing written', async (t) => {
  const gone = await funded()
  t.equal((await ctx.call(p.token, 'DELETE', `/v1/members/${gone.id}`)).statusCode, 204, 'erased')
  const rows = async () => (await queryRows<{ n: string }>(ctx.database.db, sql`select (select count(*) from purchases where program_id = ${p.id}) + (select count(*) from receipts where program_id = ${p.id}) as n`))[0]!.n
  const before = await rows()
  const cases: [Record<string, string>, number, string][] = [
    [{ phone: '0987654321' }, 404, 'MEMBER_NOT_FOUND'],
    [{ cardNumber: 'NO-SUCH-CARD' }, 404, 'MEMBER_NOT_FOUND'],
    [{ phone: '0912' }, 400, 'VALIDATION_FAILED'],
    [{ phone: gone.phone }, 404, 'MEMBER_NOT_FOUND'],
    [{ cardNumber: gone.cardNumber }, 404, 'MEMBER_NOT_FOUND'],
  ]
  for (const capture of [true, false]) {
    for (const [by, status, code] of cases) {
      const res = await ctx.call(p.token, 'POST', '/v1/purchases', saleBody(by, capture), { 'idempotency-key': idemKey('no') })
      t.equal(res.statusCode, status, `${JSON.stringify(by)} ${capture}`)
      t.equal(res.json().code, code)
    }
    // A refusal that needs nothing loaded still comes first.
    const wrong = await ctx.call(p.token, 'POST', '/v1/purchases', { ...saleBody({ phone: '0987654321' }, capture), currency: 'USD' }, { 'idempotency-key': idemKey('no') })
    t.equal(wrong.json().code, 'CURRENCY_MISMATCH')
  }
  t.equal(await rows(), before, 'no purchase or receipt written')
})

t.test('a held sale by phone in a program with tiers is the same sale by member id', async (t) => {
  const tiers = { metric: 'spend', levels: [{ code: 'member', name: 'Member', threshold: '0' }, { code: 'silver', name: 'Silver', threshold: '1000000', discountPercent: '5' }] }
  const tiered = await ctx.createProgram({ country: 'VN', rules: { ...VND_RULES, tiers } })
  const tt = new Till(ctx, tiered.token)
  const [a, b] = [await ctx.enrol(tiered.token), await ctx.enrol(tiered.token)]
  for (const m of [a, b]) await tt.topUp(m.id, '100000')
  const body = (phone: string) => ({ ...saleBody({ phone }, false), tenders: [{ type: 'storedValue', amount: '30000' }, { type: 'cash', amount: '170000' }] })
  const now = await ctx.call(tiered.token, 'POST', '/v1/purchases', body(a.phone), { 'idempotency-key': idemKey('tier') })
  const before = await ctx.call(tiered.token, 'POST', '/v1/purchases', { ...body(b.phone), phone: undefined, memberId: b.id }, { 'idempotency-key': idemKey('tier') })
  t.equal(now.statusCode, 201, now.body)
  t.equal(now.json().memberId, a.id)
  t.same(shape(now.json()), shape(before.json()))
  t.same(shape(await tt.balances(a.id)), shape(await tt.balances(b.id)))
  const receipt = async (id: string) => (await ctx.call(tiered.token, 'GET', `/v1/receipts/${id}`)).json()
  t.same(shape(await receipt(now.json().receipt.id)), shape(await receipt(before.json().receipt.id)))
  t.ok((await tt.verify()).ok)
})
