import t from 'tap'
import { Webhook } from 'standardwebhooks'
import { DEFAULT_MAX_ATTEMPTS } from '../../../src/modules/events/dispatcher.js'
import { startTestApp } from '../../helpers/app.js'
import { idemKey } from '../../helpers/pos.js'
import { WebhookReceiver } from '../../helpers/receiver.js'

// Issue 17: redelivery by hand, of one finished delivery or of every failed one since a time.
// Deliveries are driven by app.dispatcher.dispatchOnce(at): a pass at `at` attempts what is due.

const ctx = await startTestApp(t)
const receiver = await WebhookReceiver.start()
t.teardown(() => receiver.close())

const HOUR = 3_600_000
/** Longer than the longest retry delay (12 h + 10 % jitter): every pending delivery is due at each step. */
const STEP = 14 * HOUR

interface Delivery {
  id: string
  eventId: string
  status: string
  attempts: number
  nextAttemptAt: string | null
  createdAt: string
  log: { attempt: number; statusCode: number | null }[]
}

async function programWithEndpoint() {
  const program = await ctx.createProgram()
  const res = await ctx.call(program.token, 'POST', '/v1/webhooks', { url: receiver.url, eventTypes: ['member.enrolled'] })
  if (res.statusCode !== 201) throw new Error(`endpoint: ${res.body}`)
  return { program, endpoint: res.json() as { id: string; secret: string } }
}

const deliveries = async (token: string, endpointId: string): Promise<Delivery[]> => (await ctx.call(token, 'GET', `/v1/webhooks/${endpointId}/deliveries`)).json().data

const verifies = (secret: string, r: { headers: Record<string, unknown>; body: string }) => {
  try {
    new Webhook(secret).verify(r.body, { 'webhook-id': String(r.headers['webhook-id']), 'webhook-timestamp': String(r.headers['webhook-timestamp']), 'webhook-signature': String(r.headers['webhook-signature']) })
    return true
  } catch {
    return false
  }
}

/** Passes at `from`, then every STEP, until the program has no pending delivery; returns the time after the last pass. */
async function dispatchUntilSettled(programId: string, from: number): Promise<number> {
  let at = from
  for (let i = 0; i <= DEFAULT_MAX_ATTEMPTS; i++, at += STEP) {
    const report = await ctx.app.dispatcher.dispatchOnce(new Date(at), { programIds: [programId] })
    if (report.delivered + report.failedAttempts === 0) break
  }
  return at
}

const redeliver = (token: string, endpointId: string, deliveryId: string, headers: Record<string, string> = {}) =>
  ctx.call(token, 'POST', `/v1/webhooks/${endpointId}/deliveries/${deliveryId}/redeliveries`, undefined, headers)

t.test('a delivery that failed every attempt is redelivered by hand: it arrives signed, with the whole retry schedule again', async (t) => {
  const { program, endpoint } = await programWithEndpoint()
  const m = await ctx.enrol(program.token)
  receiver.down(503)
  await dispatchUntilSettled(program.id, Date.now())
  receiver.up()
  const [failed] = await deliveries(program.token, endpoint.id)
  t.match(failed, { status: 'failed', attempts: DEFAULT_MAX_ATTEMPTS, nextAttemptAt: null })
  t.equal(receiver.of('member.enrolled', m.id).length, DEFAULT_MAX_ATTEMPTS)

  const before = Date.now()
  const res = await redeliver(program.token, endpoint.id, failed!.id)
  t.equal(res.statusCode, 202)
  const shown = res.json() as Delivery
  t.match(shown, { id: failed!.id, eventId: failed!.eventId, status: 'pending', attempts: DEFAULT_MAX_ATTEMPTS, lastStatusCode: 503 })
  t.ok(Date.parse(shown.nextAttemptAt!) >= before - 1000 && Date.parse(shown.nextAttemptAt!) <= Date.now(), 'due now')
  t.equal(shown.log.length, DEFAULT_MAX_ATTEMPTS, 'the log keeps every attempt')
  t.same((await deliveries(program.token, endpoint.id))[0], shown, 'as the delivery log shows it')

  // The redelivered attempt fails once more: its retry comes after the first delay of the schedule (30 s), not 12 h.
  receiver.failNext(500)
  const now = Date.now()
  await ctx.app.dispatcher.dispatchOnce(new Date(now), { programIds: [program.id] })
  const [retrying] = await deliveries(program.token, endpoint.id)
  t.match(retrying, { status: 'pending', attempts: DEFAULT_MAX_ATTEMPTS + 1, lastStatusCode: 500 })
  const delay = Date.parse(retrying!.nextAttemptAt!) - now
  t.ok(delay >= 27_000 && delay <= 33_000, `the backoff starts over: next try ${delay} ms later`)

  await ctx.app.dispatcher.dispatchOnce(new Date(now + delay), { programIds: [program.id] })
  const [done] = await deliveries(program.token, endpoint.id)
  t.match(done, { status: 'succeeded', attempts: DEFAULT_MAX_ATTEMPTS + 2, lastStatusCode: 200, nextAttemptAt: null, succeededAt: /Z$/ })
  t.same(done!.log.slice(-2).map((a) => [a.attempt, a.statusCode]), [[DEFAULT_MAX_ATTEMPTS + 1, 500], [DEFAULT_MAX_ATTEMPTS + 2, 200]])
  const got = receiver.of('member.enrolled', m.id)
  const arrived = got.at(-1)!
  t.equal(arrived.status, 200, 'it arrived')
  t.equal(arrived.headers['webhook-id'], failed!.eventId, 'the same webhook-id as the failed attempts: receivers deduplicate by it')
  t.ok(verifies(endpoint.secret, arrived), 'signed with the endpoint’s secret')
})

t.test('a redelivered delivery that keeps failing gets as many attempts as a new one, then fails again', async (t) => {
  const { program, endpoint } = await programWithEndpoint()
  await ctx.enrol(program.token)
  receiver.down(503)
  const at = await dispatchUntilSettled(program.id, Date.now())
  const [failed] = await deliveries(program.token, endpoint.id)
  t.equal((await redeliver(program.token, endpoint.id, failed!.id)).statusCode, 202)
  await dispatchUntilSettled(program.id, at)
  receiver.up()
  const [again] = await deliveries(program.token, endpoint.id)
  t.match(again, { status: 'failed', attempts: 2 * DEFAULT_MAX_ATTEMPTS })
  t.equal(again!.log.length, 2 * DEFAULT_MAX_ATTEMPTS)
})

t.test('a succeeded delivery can be sent again; a pending one is refused with 409 WEBHOOK_DELIVERY_PENDING', async (t) => {
  const { program, endpoint } = await programWithEndpoint()
  const m = await ctx.enrol(program.token)
  receiver.failNext(500)
  const now = Date.now()
  await ctx.app.dispatcher.dispatchOnce(new Date(now), { programIds: [program.id] })
  const [pending] = await deliveries(program.token, endpoint.id)
  t.match(pending, { status: 'pending', attempts: 1 })
  const refused = await redeliver(program.token, endpoint.id, pending!.id)
  t.equal(refused.statusCode, 409)
  t.match(refused.json(), { code: 'WEBHOOK_DELIVERY_PENDING', status: 409 })
  t.same(await deliveries(program.token, endpoint.id), [pending], 'nothing changed')

  await ctx.app.dispatcher.dispatchOnce(new Date(Date.parse(pending!.nextAttemptAt!)), { programIds: [program.id] })
  const [succeeded] = await deliveries(program.token, endpoint.id)
  t.match(succeeded, { status: 'succeeded', attempts: 2 })
  const res = await redeliver(program.token, endpoint.id, succeeded!.id)
  t.equal(res.statusCode, 202)
  t.match(res.json(), { status: 'pending', attempts: 2, succeededAt: null })
  t.equal((await redeliver(program.token, endpoint.id, succeeded!.id)).json().code, 'WEBHOOK_DELIVERY_PENDING', 'repeated before it is sent: still pending, nothing more')
  await ctx.app.dispatcher.dispatchOnce(new Date(), { programIds: [program.id] })
  t.equal(receiver.of('member.enrolled', m.id).length, 3, 'sent once more')
  t.match((await deliveries(program.token, endpoint.id))[0], { status: 'succeeded', attempts: 3 })
})

t.test('with an Idempotency-Key a repeated redelivery answers the first answer', async (t) => {
  const { program, endpoint } = await programWithEndpoint()
  await ctx.enrol(program.token)
  await ctx.app.dispatcher.dispatchOnce(new Date(), { programIds: [program.id] })
  const [d] = await deliveries(program.token, endpoint.id)
  const key = idemKey('redeliver')
  const first = await redeliver(program.token, endpoint.id, d!.id, { 'idempotency-key': key })
  const again = await redeliver(program.token, endpoint.id, d!.id, { 'idempotency-key': key })
  t.equal(first.statusCode, 202)
  t.equal(again.statusCode, 202)
  t.equal(again.headers['idempotent-replayed'], 'true')
  t.same(again.json(), first.json())
})

t.test('another program’s delivery, another endpoint’s or an unknown one is not found; a disabled or deleted endpoint is 409 WEBHOOK_DISABLED', async (t) => {
  const { program, endpoint } = await programWithEndpoint()
  await ctx.enrol(program.token)
  await ctx.app.dispatcher.dispatchOnce(new Date(), { programIds: [program.id] })
  const [d] = await deliveries(program.token, endpoint.id)
  t.equal(d!.status, 'succeeded')

  const other = await programWithEndpoint()
  for (const [token, webhookId, deliveryId, why] of [
    [other.program.token, endpoint.id, d!.id, 'another program'],
    [other.program.token, other.endpoint.id, d!.id, 'another program’s endpoint'],
    [program.token, endpoint.id, '0190b9a0-0000-7000-8000-000000000000', 'unknown delivery'],
    [program.token, '0190b9a0-0000-7000-8000-000000000000', d!.id, 'unknown endpoint'],
  ] as const) {
    const res = await redeliver(token, webhookId, deliveryId)
    t.equal(res.statusCode, 404, why)
    t.equal(res.json().code, 'NOT_FOUND', why)
  }
  const second = (await ctx.call(program.token, 'POST', '/v1/webhooks', { url: receiver.url })).json()
  t.equal((await redeliver(program.token, second.id, d!.id)).statusCode, 404, 'a delivery of another endpoint of the program')
  const pos = await ctx.createClient(program.id, ['pos'])
  t.equal((await redeliver(pos.token, endpoint.id, d!.id)).statusCode, 403, 'program:manage only')

  await ctx.call(program.token, 'PATCH', `/v1/webhooks/${endpoint.id}`, { enabled: false })
  const disabled = await redeliver(program.token, endpoint.id, d!.id)
  t.equal(disabled.statusCode, 409)
  t.equal(disabled.json().code, 'WEBHOOK_DISABLED')
  await ctx.call(program.token, 'PATCH', `/v1/webhooks/${endpoint.id}`, { enabled: true })
  t.equal((await ctx.call(program.token, 'DELETE', `/v1/webhooks/${endpoint.id}`)).statusCode, 204)
  const deleted = await redeliver(program.token, endpoint.id, d!.id)
  t.equal(deleted.statusCode, 409)
  t.match(deleted.json(), { code: 'WEBHOOK_DISABLED', detail: /deleted/ })
})

const redeliverFailed = (token: string, endpointId: string, body: unknown, headers: Record<string, string> = {}) =>
  ctx.call(token, 'POST', `/v1/webhooks/${endpointId}/redeliveries`, body, headers)

t.test('bulk: the failed deliveries created in the window, and only they, go back to pending and arrive', async (t) => {
  const { program, endpoint } = await programWithEndpoint()
  receiver.down(503)
  const before = await ctx.enrol(program.token)
  const base = Date.now()
  await ctx.app.dispatcher.dispatchOnce(new Date(base), { programIds: [program.id] })
  const inside = [await ctx.enrol(program.token), await ctx.enrol(program.token), await ctx.enrol(program.token)]
  await ctx.app.dispatcher.dispatchOnce(new Date(base + HOUR), { programIds: [program.id] })
  await dispatchUntilSettled(program.id, base + HOUR + STEP)
  receiver.up()
  const delivered = await ctx.enrol(program.token)
  await ctx.app.dispatcher.dispatchOnce(new Date(base + 90 * 60_000), { programIds: [program.id] })

  const log = await deliveries(program.token, endpoint.id)
  t.same(log.map((d) => d.status).sort(), ['failed', 'failed', 'failed', 'failed', 'succeeded'])
  t.equal(log.find((d) => d.status === 'succeeded')!.createdAt, new Date(base + 90 * 60_000).toISOString(), 'a delivery is created at its dispatch pass')
  const window = { since: new Date(base + 30 * 60_000).toISOString(), until: new Date(base + 2 * HOUR).toISOString() }
  const res = await redeliverFailed(program.token, endpoint.id, window)
  t.equal(res.statusCode, 202)
  t.same(res.json(), { count: 3 })

  const after = await deliveries(program.token, endpoint.id)
  const eventOf = async (memberId: string) => receiver.of('member.enrolled', memberId)[0]!.headers['webhook-id']
  const insideEvents = await Promise.all(inside.map((m) => eventOf(m.id)))
  for (const d of after) {
    if (insideEvents.includes(d.eventId)) t.match(d, { status: 'pending', attempts: DEFAULT_MAX_ATTEMPTS }, 'failed in the window: pending again')
    else if (d.eventId === (await eventOf(before.id))) t.match(d, { status: 'failed', nextAttemptAt: null }, 'failed before the window: left as it is')
    else t.match(d, { status: 'succeeded' }, 'succeeded in the window: not sent again')
  }

  const received = receiver.received.length
  await ctx.app.dispatcher.dispatchOnce(new Date(), { programIds: [program.id] })
  const sent = receiver.received.slice(received)
  t.equal(sent.length, 3, 'three deliveries arrive')
  t.same(sent.map((r) => r.headers['webhook-id']).sort(), [...insideEvents].sort(), 'the three of the window')
  t.ok(sent.every((r) => r.status === 200 && verifies(endpoint.secret, r)), 'signed with the endpoint’s secret')
  t.equal(receiver.of('member.enrolled', before.id).length, DEFAULT_MAX_ATTEMPTS, 'the one before the window is not sent')
  t.equal(receiver.of('member.enrolled', delivered.id).length, 1, 'the succeeded one is not sent again')
  t.same((await redeliverFailed(program.token, endpoint.id, window)).json(), { count: 0 }, 'repeated: nothing failed is left in the window')
})

t.test('bulk: the window is checked; a retry with the Idempotency-Key answers the first count', async (t) => {
  const { program, endpoint } = await programWithEndpoint()
  const now = Date.now()
  const DAY = 24 * HOUR
  for (const [body, why] of [
    [{ since: new Date(now - 31 * DAY).toISOString() }, 'over 30 days until now'],
    [{ since: new Date(now - 40 * DAY).toISOString(), until: new Date(now - 9 * DAY).toISOString() }, 'over 30 days'],
    [{ since: new Date(now).toISOString(), until: new Date(now - HOUR).toISOString() }, 'until before since'],
    [{ since: new Date(now + HOUR).toISOString() }, 'since in the future'],
    [{}, 'since missing'],
    [{ since: 'yesterday' }, 'not a date-time'],
    [{ since: new Date(now - HOUR).toISOString(), status: 'succeeded' }, 'an unknown field'],
  ] as const) {
    const res = await redeliverFailed(program.token, endpoint.id, body)
    t.equal(res.statusCode, 400, why)
    t.equal(res.json().code, 'VALIDATION_FAILED', why)
  }
  t.equal((await redeliverFailed(program.token, endpoint.id, { since: new Date(now - 30 * DAY).toISOString(), until: new Date(now).toISOString() })).statusCode, 202, 'exactly 30 days')

  receiver.down(503)
  await ctx.enrol(program.token)
  const dispatched = Date.now()
  await dispatchUntilSettled(program.id, dispatched)
  receiver.up()
  const key = idemKey('redeliver-failed')
  const body = { since: new Date(dispatched - HOUR).toISOString(), until: new Date(dispatched + HOUR).toISOString() }
  const first = await redeliverFailed(program.token, endpoint.id, body, { 'idempotency-key': key })
  t.same(first.json(), { count: 1 })
  const again = await redeliverFailed(program.token, endpoint.id, body, { 'idempotency-key': key })
  t.equal(again.statusCode, 202)
  t.equal(again.headers['idempotent-replayed'], 'true')
  t.same(again.json(), { count: 1 }, 'the first count, not 0')
  t.same((await redeliverFailed(program.token, endpoint.id, body)).json(), { count: 0 }, 'without the key: it is pending already')
  t.equal((await redeliverFailed(program.token, endpoint.id, { ...body, until: undefined }, { 'idempotency-key': key })).statusCode, 422, 'the key with another window')
})

t.test('bulk: another program’s endpoint is not found; a disabled or deleted endpoint is 409 WEBHOOK_DISABLED', async (t) => {
  const { program, endpoint } = await programWithEndpoint()
  const body = { since: new Date(Date.now() - HOUR).toISOString() }
  const other = await programWithEndpoint()
  for (const [token, webhookId, why] of [
    [other.program.token, endpoint.id, 'another program'],
    [program.token, '0190b9a0-0000-7000-8000-000000000000', 'unknown endpoint'],
  ] as const) {
    const res = await redeliverFailed(token, webhookId, body)
    t.equal(res.statusCode, 404, why)
    t.equal(res.json().code, 'NOT_FOUND', why)
  }
  const pos = await ctx.createClient(program.id, ['pos'])
  t.equal((await redeliverFailed(pos.token, endpoint.id, body)).statusCode, 403, 'program:manage only')
  await ctx.call(program.token, 'PATCH', `/v1/webhooks/${endpoint.id}`, { enabled: false })
  const disabled = await redeliverFailed(program.token, endpoint.id, body)
  t.equal(disabled.statusCode, 409)
  t.match(disabled.json(), { code: 'WEBHOOK_DISABLED', detail: /disabled/ })
  await ctx.call(program.token, 'DELETE', `/v1/webhooks/${endpoint.id}`)
  t.match((await redeliverFailed(program.token, endpoint.id, body)).json(), { status: 409, code: 'WEBHOOK_DISABLED', detail: /deleted/ })
})
