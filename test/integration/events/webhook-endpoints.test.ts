import t from 'tap'
import { Webhook } from 'standardwebhooks'
import { startTestApp } from '../../helpers/app.js'
import { idemKey } from '../../helpers/pos.js'
import { WebhookReceiver } from '../../helpers/receiver.js'

// Issue 17: an endpoint's creation is idempotent, it can be changed (PATCH) and its secret rotated.

const ctx = await startTestApp(t)
const receiver = await WebhookReceiver.start()
t.teardown(() => receiver.close())

const HOUR = 3_600_000

async function programWithEndpoint(body: Record<string, unknown> = {}) {
  const program = await ctx.createProgram()
  const res = await ctx.call(program.token, 'POST', '/v1/webhooks', { url: receiver.url, eventTypes: ['member.enrolled'], ...body })
  if (res.statusCode !== 201) throw new Error(`endpoint: ${res.body}`)
  return { program, endpoint: res.json() as { id: string; secret: string } }
}

const verifies = (secret: string, r: { headers: Record<string, unknown>; body: string }) => {
  try {
    new Webhook(secret).verify(r.body, { 'webhook-id': String(r.headers['webhook-id']), 'webhook-timestamp': String(r.headers['webhook-timestamp']), 'webhook-signature': String(r.headers['webhook-signature']) })
    return true
  } catch {
    return false
  }
}

t.test('creating with an Idempotency-Key: a retry answers the same endpoint and secret, and makes no second one', async (t) => {
  const program = await ctx.createProgram()
  const key = idemKey('wh')
  const first = await ctx.call(program.token, 'POST', '/v1/webhooks', { url: receiver.url }, { 'idempotency-key': key })
  const again = await ctx.call(program.token, 'POST', '/v1/webhooks', { url: receiver.url }, { 'idempotency-key': key })
  t.equal(first.statusCode, 201)
  t.equal(again.statusCode, 201)
  t.equal(again.headers['idempotent-replayed'], 'true')
  t.same(again.json(), first.json())
  t.equal((await ctx.call(program.token, 'GET', '/v1/webhooks')).json().data.length, 1)
  const other = await ctx.call(program.token, 'POST', '/v1/webhooks', { url: `${receiver.url}/2` }, { 'idempotency-key': key })
  t.equal(other.statusCode, 422, 'the key with another body is refused')
  t.equal(other.json().code, 'IDEMPOTENCY_KEY_REUSED')
})

t.test('PATCH changes the URL, event types and description; validates like creation; another program gets 404', async (t) => {
  const { program, endpoint } = await programWithEndpoint()
  const res = await ctx.call(program.token, 'PATCH', `/v1/webhooks/${endpoint.id}`, { url: `${receiver.url}/v2`, eventTypes: ['tier.changed', 'tier.changed'], description: 'CRM' })
  t.equal(res.statusCode, 200)
  t.match(res.json(), { id: endpoint.id, url: `${receiver.url}/v2`, eventTypes: ['tier.changed'], description: 'CRM', enabled: true, previousSecretExpiresAt: null })
  t.notOk('secret' in res.json())
  t.equal((await ctx.call(program.token, 'PATCH', `/v1/webhooks/${endpoint.id}`, { description: null })).json().description, null)
  for (const bad of [{ url: 'ftp://example.com/x' }, { eventTypes: ['nope'] }, {}, { secret: 'x' }, { enabled: 'no' }]) {
    const r = await ctx.call(program.token, 'PATCH', `/v1/webhooks/${endpoint.id}`, bad)
    t.equal(r.statusCode, 400, JSON.stringify(bad))
    t.equal(r.json().code, 'VALIDATION_FAILED')
  }
  const other = await ctx.createProgram()
  t.equal((await ctx.call(other.token, 'PATCH', `/v1/webhooks/${endpoint.id}`, { enabled: false })).statusCode, 404, 'another program’s endpoint is not found')
  t.equal((await ctx.call(program.token, 'GET', '/v1/webhooks')).json().data[0].enabled, true, 'and it did not change')
})

t.test('a disabled endpoint gets nothing; enabled again it gets what happens next, not what it missed', async (t) => {
  const { program, endpoint } = await programWithEndpoint()
  t.equal((await ctx.call(program.token, 'PATCH', `/v1/webhooks/${endpoint.id}`, { enabled: false })).json().enabled, false)
  const missed = await ctx.enrol(program.token)
  await ctx.app.dispatcher.dispatchOnce(new Date(), { programIds: [program.id] })
  t.equal(receiver.of('member.enrolled', missed.id).length, 0, 'nothing while disabled')
  await ctx.call(program.token, 'PATCH', `/v1/webhooks/${endpoint.id}`, { enabled: true })
  const next = await ctx.enrol(program.token)
  await ctx.app.dispatcher.dispatchOnce(new Date(), { programIds: [program.id] })
  t.equal(receiver.of('member.enrolled', next.id).length, 1, 'what happens after is delivered')
  t.equal(receiver.of('member.enrolled', missed.id).length, 0, 'what was missed is not')
})

t.test('a disabled endpoint’s pending retries wait and resume once enabled', async (t) => {
  const { program, endpoint } = await programWithEndpoint()
  receiver.failNext(500)
  const m = await ctx.enrol(program.token)
  const now = new Date()
  await ctx.app.dispatcher.dispatchOnce(now, { programIds: [program.id] })
  t.equal(receiver.of('member.enrolled', m.id).length, 1, 'first attempt failed')
  await ctx.call(program.token, 'PATCH', `/v1/webhooks/${endpoint.id}`, { enabled: false })
  await ctx.app.dispatcher.dispatchOnce(new Date(now.getTime() + HOUR), { programIds: [program.id] })
  t.equal(receiver.of('member.enrolled', m.id).length, 1, 'no retry while disabled')
  await ctx.call(program.token, 'PATCH', `/v1/webhooks/${endpoint.id}`, { enabled: true })
  await ctx.app.dispatcher.dispatchOnce(new Date(now.getTime() + 2 * HOUR), { programIds: [program.id] })
  t.equal(receiver.of('member.enrolled', m.id).length, 2, 'retried once enabled')
})

t.test('secret rotation: during the overlap a receiver with either secret verifies; after it only the new one', async (t) => {
  const { program, endpoint } = await programWithEndpoint()
  const key = idemKey('rot')
  const rotate = () => ctx.call(program.token, 'POST', `/v1/webhooks/${endpoint.id}/secret/rotations`, { overlapSeconds: 3600 }, { 'idempotency-key': key })
  const res = await rotate()
  t.equal(res.statusCode, 201)
  const rotation = res.json() as { secret: string; previousSecretExpiresAt: string }
  t.match(rotation, { id: endpoint.id, secret: /^whsec_/, previousSecretExpiresAt: String })
  t.not(rotation.secret, endpoint.secret)
  t.same((await rotate()).json(), rotation, 'a retry answers the same new secret')
  t.equal((await ctx.call(program.token, 'GET', '/v1/webhooks')).json().data[0].previousSecretExpiresAt, rotation.previousSecretExpiresAt)

  const during = await ctx.enrol(program.token)
  await ctx.app.dispatcher.dispatchOnce(new Date(), { programIds: [program.id] })
  const [d] = receiver.of('member.enrolled', during.id)
  t.equal(String(d!.headers['webhook-signature']).split(' ').length, 2, 'two signatures')
  t.ok(verifies(endpoint.secret, d!), 'the previous secret verifies during the overlap')
  t.ok(verifies(rotation.secret, d!), 'the new secret verifies')

  const after = await ctx.enrol(program.token)
  await ctx.app.dispatcher.dispatchOnce(new Date(Date.now() + 2 * HOUR), { programIds: [program.id] })
  const [a] = receiver.of('member.enrolled', after.id)
  t.equal(String(a!.headers['webhook-signature']).split(' ').length, 1, 'one signature after the overlap')
  t.notOk(verifies(endpoint.secret, a!), 'the previous secret no longer verifies')
  t.ok(verifies(rotation.secret, a!), 'the new one does')
})

t.test('rotation with overlap 0 stops the old secret at once; bounds, key and isolation are checked', async (t) => {
  const { program, endpoint } = await programWithEndpoint()
  const url = `/v1/webhooks/${endpoint.id}/secret/rotations`
  t.equal((await ctx.call(program.token, 'POST', url, { overlapSeconds: 0 })).statusCode, 400, 'Idempotency-Key required')
  for (const overlapSeconds of [-1, 7 * 86_400 + 1, 1.5]) t.equal((await ctx.call(program.token, 'POST', url, { overlapSeconds }, { 'idempotency-key': idemKey('r') })).statusCode, 400, String(overlapSeconds))
  const other = await ctx.createProgram()
  t.equal((await ctx.call(other.token, 'POST', url, {}, { 'idempotency-key': idemKey('r') })).statusCode, 404, 'another program’s endpoint is not found')
  const res = await ctx.call(program.token, 'POST', url, { overlapSeconds: 0 }, { 'idempotency-key': idemKey('r') })
  t.equal(res.statusCode, 201)
  t.equal(res.json().previousSecretExpiresAt, null)
  const m = await ctx.enrol(program.token)
  await ctx.app.dispatcher.dispatchOnce(new Date(), { programIds: [program.id] })
  const [d] = receiver.of('member.enrolled', m.id)
  t.notOk(verifies(endpoint.secret, d!))
  t.ok(verifies(res.json().secret, d!))
  const dflt = await ctx.call(program.token, 'POST', url, null, { 'idempotency-key': idemKey('r') })
  t.equal(dflt.statusCode, 201, 'no body: the default overlap')
  t.ok(Math.abs(new Date(dflt.json().previousSecretExpiresAt).getTime() - Date.now() - 24 * HOUR) < 60_000, '24 h by default')
})
