import t from 'tap'
import { Webhook } from 'standardwebhooks'
import { createDispatcher } from '../../../src/modules/events/dispatcher.js'
import type { PostResult } from '../../../src/modules/events/http.js'
import type { EventType } from '../../../src/modules/events/catalog.js'
import { deliveredEventSchemas } from '../../../src/modules/events/payloads.js'
import { startTestApp } from '../../helpers/app.js'
import { idemKey, VND_RULES } from '../../helpers/pos.js'
import { WebhookReceiver } from '../../helpers/receiver.js'

const ctx = await startTestApp(t)
const receiver = await WebhookReceiver.start()
t.teardown(() => receiver.close())

const HOUR = 3_600_000

async function programWithEndpoint(body: Record<string, unknown> = {}) {
  const program = await ctx.createProgram({ name: 'Cà phê Sáng', rules: VND_RULES })
  const res = await ctx.call(program.token, 'POST', '/v1/webhooks', { url: receiver.url, ...body })
  if (res.statusCode !== 201) throw new Error(`endpoint: ${res.body}`)
  return { program, endpoint: res.json() as { id: string; secret: string } }
}

/** Verifies like a receiver would, with the Standard Webhooks reference library. */
function verified(secret: string, r: { headers: Record<string, unknown>; body: string }) {
  const headers = { 'webhook-id': String(r.headers['webhook-id']), 'webhook-timestamp': String(r.headers['webhook-timestamp']), 'webhook-signature': String(r.headers['webhook-signature']) }
  return new Webhook(secret).verify(r.body, headers) as { type: string; data: Record<string, unknown> }
}

const topUp = (token: string, memberId: string, amount: string) =>
  ctx.call(token, 'POST', `/v1/members/${memberId}/stored-value/top-ups`, { amount, tender: 'cash', storeId: 'S1' }, { 'idempotency-key': idemKey('t') })

t.test('endpoints: the secret is shown once; bad URLs and unknown event types are refused', async (t) => {
  const program = await ctx.createProgram()
  const created = await ctx.call(program.token, 'POST', '/v1/webhooks', { url: receiver.url, description: 'SMS gateway', eventTypes: ['purchase.completed'] })
  t.equal(created.statusCode, 201)
  t.equal(created.headers['cache-control'], 'no-store')
  t.match(created.json(), { url: receiver.url, description: 'SMS gateway', eventTypes: ['purchase.completed'], secret: /^whsec_[A-Za-z0-9+/]{43}=$/ })
  const list = (await ctx.call(program.token, 'GET', '/v1/webhooks')).json()
  t.equal(list.data.length, 1)
  t.notOk('secret' in list.data[0], 'never shown again')
  t.equal((await ctx.call(program.token, 'POST', '/v1/webhooks', { url: 'ftp://example.com/x' })).statusCode, 400)
  t.equal((await ctx.call(program.token, 'POST', '/v1/webhooks', { url: receiver.url, eventTypes: ['nope'] })).statusCode, 400)
  const pos = await ctx.createClient(program.id, ['pos'])
  t.equal((await ctx.call(pos.token, 'GET', '/v1/webhooks')).statusCode, 403, 'program:manage only')
  const other = await ctx.createProgram()
  t.equal((await ctx.call(other.token, 'DELETE', `/v1/webhooks/${created.json().id}`)).statusCode, 404, 'another program’s endpoint is not found')
})

t.test('a welcome and a top-up arrive signed, with the member’s contact, the receipt and its SMS text', async (t) => {
  const { program, endpoint } = await programWithEndpoint()
  const m = await ctx.enrol(program.token, { name: 'Trần Thị Lan', phone: '0912000111' })
  t.equal((await topUp(program.token, m.id, '300000')).statusCode, 201)
  const report = await ctx.app.dispatcher.dispatchOnce(new Date(), { programIds: [program.id] })
  t.ok(report.delivered >= 2)

  const [welcome] = receiver.of('member.enrolled', m.id)
  t.ok(welcome, 'member.enrolled delivered')
  const body = verified(endpoint.secret, welcome!)
  t.match(body.data, { memberId: m.id, member: { id: m.id, name: 'Trần Thị Lan', phone: '+84912000111' } })
  t.equal(welcome!.headers['webhook-id'], (await ctx.call(program.token, 'GET', `/v1/webhooks/${endpoint.id}/deliveries`)).json().data.find((d: { eventType: string }) => d.eventType === 'member.enrolled').eventId)

  const [toppedUp] = receiver.of('storedValue.toppedUp', m.id)
  // What was really sent is what the document's webhooks declare (payloads.ts).
  for (const r of [welcome!, toppedUp!]) t.same(deliveredEventSchemas[r.json.type as EventType].safeParse(r.json).error?.issues, undefined, `${r.json.type} matches its schema`)
  const data = verified(endpoint.secret, toppedUp!).data as { receipt: { kind: string; storedValue: { balanceAfter: string }; links: { public: string } }; sms: { to: string; text: string }; amount: string; balance: string }
  t.match(data, { amount: '300000', balance: '300000', currency: 'VND' })
  t.equal(data.receipt.kind, 'top_up')
  t.equal(data.receipt.storedValue.balanceAfter, '300000')
  t.equal(data.sms.to, '+84912000111')
  t.ok(data.sms.text.length <= 160)
  t.ok(data.sms.text.includes('300.000 VND') && data.sms.text.endsWith(data.receipt.links.public))

  t.throws(() => verified('whsec_' + Buffer.alloc(32).toString('base64'), toppedUp!), 'another secret does not verify')
  const tampered = { ...toppedUp!, body: toppedUp!.body.replace('300000', '900000') }
  t.throws(() => verified(endpoint.secret, tampered), 'a changed body does not verify')
})

t.test('an endpoint answering 500 gets the event again after a backoff, with the same webhook-id; the log shows both attempts', async (t) => {
  const { program, endpoint } = await programWithEndpoint({ eventTypes: ['storedValue.toppedUp'] })
  const m = await ctx.enrol(program.token)
  receiver.failNext(500)
  t.equal((await topUp(program.token, m.id, '50000')).statusCode, 201)
  const now = new Date()
  const first = await ctx.app.dispatcher.dispatchOnce(now, { programIds: [program.id] })
  t.equal(first.failedAttempts, 1)
  t.equal(receiver.of('storedValue.toppedUp', m.id).length, 1)

  let [delivery] = (await ctx.call(program.token, 'GET', `/v1/webhooks/${endpoint.id}/deliveries`)).json().data
  t.match(delivery, { eventType: 'storedValue.toppedUp', status: 'pending', attempts: 1, lastStatusCode: 500, lastError: 'HTTP 500' })
  const retryAt = Date.parse(delivery.nextAttemptAt)
  t.ok(retryAt - now.getTime() >= 27_000 && retryAt - now.getTime() <= 33_000, 'first retry about 30 s later')

  const early = await ctx.app.dispatcher.dispatchOnce(new Date(retryAt - 1000), { programIds: [program.id] })
  t.equal(early.delivered + early.failedAttempts, 0, 'not before its time')
  const second = await ctx.app.dispatcher.dispatchOnce(new Date(retryAt), { programIds: [program.id] })
  t.equal(second.delivered, 1)

  const got = receiver.of('storedValue.toppedUp', m.id)
  t.equal(got.length, 2, 'delivered at least once: here twice, the first answer having been 500')
  t.equal(got[0]!.headers['webhook-id'], got[1]!.headers['webhook-id'], 'the same id, so the receiver can drop the duplicate')
  t.same(got.map((g) => g.status), [500, 200])
  ;[delivery] = (await ctx.call(program.token, 'GET', `/v1/webhooks/${endpoint.id}/deliveries`)).json().data
  t.match(delivery, { status: 'succeeded', attempts: 2, lastStatusCode: 200, nextAttemptAt: null, succeededAt: /Z$/ })
  t.same(delivery.log.map((a: { attempt: number; statusCode: number }) => [a.attempt, a.statusCode]), [[1, 500], [2, 200]])
  t.equal(delivery.log[0].responseBody, 'boom')

  await ctx.app.dispatcher.dispatchOnce(new Date(retryAt + 48 * HOUR), { programIds: [program.id] })
  t.equal(receiver.of('storedValue.toppedUp', m.id).length, 2, 'nothing more once it succeeded')
  t.notOk(receiver.of('member.enrolled', m.id).length, 'not subscribed to member.enrolled')
})

t.test('retries back off exponentially and give up after the last attempt', async (t) => {
  const { program, endpoint } = await programWithEndpoint({ eventTypes: ['storedValue.toppedUp'] })
  const m = await ctx.enrol(program.token)
  receiver.failNext(503, 15)
  t.equal((await topUp(program.token, m.id, '10000')).statusCode, 201)
  let at = new Date()
  const gaps: number[] = []
  for (let i = 0; i < 15; i++) {
    await ctx.app.dispatcher.dispatchOnce(at, { programIds: [program.id] })
    const [d] = (await ctx.call(program.token, 'GET', `/v1/webhooks/${endpoint.id}/deliveries`)).json().data
    if (d.status !== 'pending') break
    const next = new Date(d.nextAttemptAt)
    gaps.push(next.getTime() - at.getTime())
    at = next
  }
  const [d] = (await ctx.call(program.token, 'GET', `/v1/webhooks/${endpoint.id}/deliveries`)).json().data
  t.match(d, { status: 'failed', attempts: 15, lastStatusCode: 503 })
  t.equal(d.log.length, 15)
  t.equal(gaps.length, 14)
  for (let i = 1; i < 8; i++) t.ok(gaps[i]! > gaps[i - 1]! * 1.5, `gap ${i + 1} (${gaps[i]} ms) about doubles`)
  t.ok(gaps.every((g) => g <= 12 * HOUR * 1.1), 'capped at 12 h')
  t.equal(receiver.of('storedValue.toppedUp', m.id).length, 15)
})

t.test('the test endpoint sends a signed webhook.test now and reports the answer', async (t) => {
  const { program, endpoint } = await programWithEndpoint({ eventTypes: ['purchase.completed'] })
  const res = await ctx.call(program.token, 'POST', `/v1/webhooks/${endpoint.id}/test`)
  t.equal(res.statusCode, 200)
  t.match(res.json(), { delivered: true, statusCode: 200, error: null })
  const got = receiver.received.filter((r) => r.headers['webhook-id'] === res.json().eventId)
  t.equal(got.length, 1)
  t.equal(verified(endpoint.secret, got[0]!).type, 'webhook.test')

  receiver.failNext(404)
  const failed = (await ctx.call(program.token, 'POST', `/v1/webhooks/${endpoint.id}/test`)).json()
  t.match(failed, { delivered: false, statusCode: 404 })
  const log = (await ctx.call(program.token, 'GET', `/v1/webhooks/${endpoint.id}/deliveries?status=pending`)).json()
  t.equal(log.data[0].id, failed.deliveryId, 'a failed test stays pending and is retried')
})

t.test('a deleted endpoint gets nothing more, and what was pending for it is cancelled', async (t) => {
  const { program, endpoint } = await programWithEndpoint()
  const m = await ctx.enrol(program.token)
  const del = await ctx.call(program.token, 'DELETE', `/v1/webhooks/${endpoint.id}`)
  t.equal(del.statusCode, 204)
  await ctx.app.dispatcher.dispatchOnce(new Date(), { programIds: [program.id] })
  t.equal(receiver.of('member.enrolled', m.id).length, 0)
  t.equal((await ctx.call(program.token, 'DELETE', `/v1/webhooks/${endpoint.id}`)).statusCode, 404)
  t.equal((await ctx.call(program.token, 'GET', '/v1/webhooks')).json().data.length, 0)
})

t.test('an event fans out to every subscribed endpoint of its program only', async (t) => {
  const { program } = await programWithEndpoint()
  const second = (await ctx.call(program.token, 'POST', '/v1/webhooks', { url: receiver.url, eventTypes: ['member.enrolled'] })).json()
  const bystander = await programWithEndpoint()
  const m = await ctx.enrol(program.token)
  await ctx.app.dispatcher.dispatchOnce(new Date(), { programIds: [program.id, bystander.program.id] })
  const got = receiver.of('member.enrolled', m.id)
  t.equal(got.length, 2, 'two endpoints of the program')
  t.equal(new Set(got.map((g) => g.headers['webhook-id'])).size, 1, 'one event, one id')
  t.ok(got.some((g) => { try { verified(second.secret, g); return true } catch { return false } }), 'each signed with its own endpoint’s secret')
  t.notOk(got.some((g) => { try { verified(bystander.endpoint.secret, g); return true } catch { return false } }))
})

t.test('a delivery being attempted is leased: another instance leaves it until the lease ends, then sends it again', async (t) => {
  const { program, endpoint } = await programWithEndpoint({ eventTypes: ['member.enrolled'] })
  const dispatcherOf = (send: (headers: Record<string, string>) => Promise<PostResult>) =>
    createDispatcher({ database: ctx.database, publicBaseUrl: 'https://receipts.example.test', allowPrivateUrls: true, send: (_url, headers) => send(headers) })
  let answer!: (r: PostResult) => void
  const first: Record<string, string>[] = []
  const stuck = dispatcherOf((headers) => {
    first.push(headers)
    return new Promise((resolve) => (answer = resolve))
  })
  const second: Record<string, string>[] = []
  const other = dispatcherOf(async (headers) => {
    second.push(headers)
    return { statusCode: 200, durationMs: 1 }
  })
  t.teardown(() => Promise.all([stuck.stop(0), other.stop(0)]))
  const m = await ctx.enrol(program.token)
  const now = Date.now()
  const pass = stuck.dispatchOnce(new Date(now), { programIds: [program.id] })
  for (let i = 0; i < 200 && first.length === 0; i++) await new Promise((r) => setTimeout(r, 25))
  t.equal(first.length, 1, 'the first instance is sending it')

  await other.dispatchOnce(new Date(now + 59_000), { programIds: [program.id] })
  t.equal(second.length, 0, 'not taken during the lease')
  const [leased] = (await ctx.call(program.token, 'GET', `/v1/webhooks/${endpoint.id}/deliveries`)).json().data
  t.match(leased, { status: 'pending', attempts: 1, nextAttemptAt: new Date(now + 60_000).toISOString() }, 'next tried when the lease ends')

  await other.dispatchOnce(new Date(now + 60_000), { programIds: [program.id] })
  t.equal(second.length, 1, 'sent again once the lease has ended')
  t.equal(second[0]!['webhook-id'], first[0]!['webhook-id'], 'the same event id')
  answer({ statusCode: 200, durationMs: 1 })
  await pass
  const [done] = (await ctx.call(program.token, 'GET', `/v1/webhooks/${endpoint.id}/deliveries`)).json().data
  t.match(done, { status: 'succeeded', attempts: 2, nextAttemptAt: null }, 'the late answer of the first attempt changes nothing')
  t.equal(receiver.of('member.enrolled', m.id).length, 0, 'both attempts went through the instances’ own senders')
})
