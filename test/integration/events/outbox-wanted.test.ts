// The outbox writes a transactional event only when an endpoint of the program may receive it
// (ll_event_wanted, migration 0019): what a program sees is the same, its webhooks get every event
// they subscribe to, from the moment they are registered; a program without one costs no outbox row.
import t from 'tap'
import { sql } from 'drizzle-orm'
import { queryRows } from '../../../src/db/client.js'
import { emitBirthdayToday, emitPointsExpiringSoon } from '../../../src/modules/events/care.js'
import { EVENT_CATEGORIES } from '../../../src/modules/events/catalog.js'
import { subscribed } from '../../../src/modules/events/fan-out.js'
import type { ProgramRow } from '../../../src/modules/programs/tables.js'
import { startTestApp } from '../../helpers/app.js'
import { Till, VND_RULES } from '../../helpers/pos.js'
import { WebhookReceiver } from '../../helpers/receiver.js'
import { subscribeWebhook } from '../../helpers/webhooks.js'

const ctx = await startTestApp(t)
const receiver = await WebhookReceiver.start()
t.teardown(() => receiver.close())

const TYPES = Object.keys(EVENT_CATEGORIES)
const db = ctx.database.db
const RULES = { ...VND_RULES, notifications: { lowStoredValue: '100000', unusualPurchase: { above: '1000000' } } }

const outbox = (programId: string) => queryRows<{ type: string; member_id: string | null }>(db, sql`select type, member_id from events where program_id = ${programId}::uuid order by id`)
const wanted = async (programId: string, type: string) =>
  (await queryRows<{ wanted: boolean }>(db, sql`select ll_event_wanted(${programId}::uuid, ${type}) as wanted`))[0]!.wanted
const dispatch = (programId: string) => ctx.app.dispatcher.dispatchOnce(new Date(), { programIds: [programId] })
const programRow = async (id: string) => (await queryRows<ProgramRow>(db, sql`select * from programs where id = ${id}::uuid`))[0]!
const cash = (amount: string) => [{ type: 'cash', amount }]

t.test('ll_event_wanted answers as the dispatcher subscribes, for every event type', async (t) => {
  const p = await ctx.createProgram()
  const other = await ctx.createProgram()
  await subscribeWebhook(ctx, other.token)
  /** Each type: the SQL function, the dispatcher's rule over the live endpoints, and what the test expects. */
  const check = async (what: string, expected: (type: string) => boolean) => {
    const live = (await ctx.call(p.token, 'GET', '/v1/webhooks')).json().data as { eventTypes: string[] }[]
    for (const type of TYPES) {
      const got = await wanted(p.id, type)
      t.equal(got, expected(type), `${what}: ${type}`)
      t.equal(got, live.some((w) => subscribed(w.eventTypes, type)), `${what}: ${type} as the dispatcher`)
    }
  }
  await check('no endpoint (another program’s does not count)', () => false)
  const some = await subscribeWebhook(ctx, p.token, { eventTypes: ['purchase.completed', 'tier.changed'] })
  await check('an endpoint of two types', (type) => type === 'purchase.completed' || type === 'tier.changed')
  const all = await subscribeWebhook(ctx, p.token)
  await check('and one of every type', (type) => type !== 'webhook.test')
  t.equal((await ctx.call(p.token, 'DELETE', `/v1/webhooks/${all.id}`)).statusCode, 204)
  await check('the second deleted', (type) => type === 'purchase.completed' || type === 'tier.changed')
  t.equal((await ctx.call(p.token, 'DELETE', `/v1/webhooks/${some.id}`)).statusCode, 204)
  await check('both deleted', () => false)
})

t.test('a program without endpoints: sales, top-ups and enrolments write no outbox row, and everything else as before', async (t) => {
  const p = await ctx.createProgram({ rules: RULES })
  const till = new Till(ctx, p.token)
  const m = await ctx.enrol(p.token)
  await till.topUp(m.id, '150000')
  // Crosses the low stored value threshold and is unusual: three events a subscriber would get.
  const sale = await till.purchase(m.id, [{ sku: 'A', quantity: 1, unitPrice: '1500000' }], [{ type: 'storedValue', amount: '100000' }, ...cash('1400000')])
  t.equal(sale.statusCode, 201, sale.body)
  t.same(await outbox(p.id), [], 'no event written')
  const receipt = await ctx.call(p.token, 'GET', `/v1/receipts/${sale.json().receipt.id}`)
  t.match(receipt.json(), { kind: 'purchase', totals: { total: '1500000' }, storedValue: { used: '100000', balanceAfter: '50000' } })
  t.match(await till.verify(), { ok: true, discrepancies: [] })
})

t.test('an endpoint gets the events of its types, from its registration on; none once deleted', async (t) => {
  const p = await ctx.createProgram({ rules: RULES })
  const till = new Till(ctx, p.token)
  const m = await ctx.enrol(p.token)
  await till.topUp(m.id, '500000')
  const before = await till.purchase(m.id, [{ sku: 'A', quantity: 1, unitPrice: '20000' }], cash('20000'))
  t.equal(before.statusCode, 201)

  const endpoint = await subscribeWebhook(ctx, p.token, { url: receiver.url, eventTypes: ['purchase.completed', 'storedValue.low'] })
  const after = await till.purchase(m.id, [{ sku: 'B', quantity: 1, unitPrice: '1500000' }], [{ type: 'storedValue', amount: '450000' }, ...cash('1050000')])
  t.equal(after.statusCode, 201)
  t.same((await outbox(p.id)).map((e) => e.type), ['purchase.completed', 'storedValue.low'], 'the two subscribed types of the sale after it; purchase.unusual is not subscribed')
  await dispatch(p.id)
  const got = receiver.of('purchase.completed', m.id)
  t.same(got.map((g) => (g.json.data as { purchaseId: string }).purchaseId), [after.json().id], 'the sale before the endpoint existed is not sent')
  t.equal(receiver.of('storedValue.low', m.id).length, 1)
  const deliveries = (await ctx.call(p.token, 'GET', `/v1/webhooks/${endpoint.id}/deliveries`)).json().data as { eventType: string; status: string }[]
  t.same(deliveries.map((d) => [d.eventType, d.status]).sort(), [['purchase.completed', 'succeeded'], ['storedValue.low', 'succeeded']])

  t.equal((await ctx.call(p.token, 'DELETE', `/v1/webhooks/${endpoint.id}`)).statusCode, 204)
  t.equal((await till.purchase(m.id, [{ sku: 'C', quantity: 1, unitPrice: '30000' }], cash('30000'))).statusCode, 201)
  t.equal((await outbox(p.id)).length, 2, 'nothing more written once the endpoint is deleted')
  await dispatch(p.id)
  t.equal(receiver.of('purchase.completed', m.id).length, 1, 'nothing more sent')
})

t.test('purchase.unusual, decided inside the receipt statement, is written when subscribed', async (t) => {
  const p = await ctx.createProgram({ rules: RULES })
  const till = new Till(ctx, p.token)
  await subscribeWebhook(ctx, p.token, { eventTypes: ['purchase.unusual'] })
  const m = await ctx.enrol(p.token)
  t.equal((await till.purchase(m.id, [{ sku: 'A', quantity: 1, unitPrice: '50000' }], cash('50000'))).statusCode, 201)
  t.same(await outbox(p.id), [], 'a usual sale: nothing subscribed happened')
  const big = await till.purchase(m.id, [{ sku: 'B', quantity: 1, unitPrice: '2000000' }], cash('2000000'))
  t.equal(big.statusCode, 201)
  const events = await queryRows<{ type: string; payload: { purchaseId: string; reasons: string[] } }>(db, sql`select type, payload from events where program_id = ${p.id}::uuid`)
  t.match(events, [{ type: 'purchase.unusual', payload: { purchaseId: big.json().id, reasons: ['above_limit'] } }])
  t.equal(events.length, 1)
})

t.test('marketing events are recorded with or without an endpoint; transactional ones report unwanted', async (t) => {
  const p = await ctx.createProgram()
  const program = await programRow(p.id)
  const refusing = await ctx.enrol(p.token)
  const consenting = await ctx.enrol(p.token, { consents: { smsMarketing: { granted: true } } })
  const refused = await ctx.database.transaction((tx) => emitBirthdayToday(tx, program, { memberId: refusing.id }))
  const queued = await ctx.database.transaction((tx) => emitBirthdayToday(tx, program, { memberId: consenting.id }))
  t.match(refused, { status: 'suppressed', suppressedReason: 'no_consent' })
  t.equal(queued.status, 'pending')
  const notice = await ctx.database.transaction((tx) => emitPointsExpiringSoon(tx, program, { memberId: consenting.id, points: 10, expiresAt: new Date(Date.now() + 86_400_000) }))
  t.equal(notice.status, 'unwanted')
  const rows = await queryRows<{ id: string; status: string }>(db, sql`select id, status from events where program_id = ${p.id}::uuid order by id`)
  t.same(rows.map((r) => r.id).sort(), [refused.id, queued.id].sort(), 'both greetings recorded (the suppressed one as the consent record), the notice not')
})
