// GET /metrics as an operator graphs it: business counters by program (purchases, returns, points
// and stored value moved, jobs, webhook deliveries), refusals by problem code, rate limits, the
// database gauges, latency buckets past the transaction deadline, and an optional bearer token.
import t from 'tap'
import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { startTestApp } from '../helpers/app.js'
import { Till, VND_RULES } from '../helpers/pos.js'
import { subscribeWebhook } from '../helpers/webhooks.js'

/** The value of the sample `name{labels}` in a Prometheus text exposition (0 when absent). */
function sample(text: string, name: string, labels: Record<string, string>): number {
  for (const line of text.split('\n')) {
    if (line.startsWith(`${name} `) && Object.keys(labels).length === 0) return Number(line.slice(name.length + 1))
    if (!line.startsWith(`${name}{`)) continue
    const [, body, value] = /^[^{]+\{(.*)\} (\S+)$/.exec(line) ?? []
    const got = Object.fromEntries([...(body ?? '').matchAll(/(\w+)="([^"]*)"/g)].map((m) => [m[1], m[2]]))
    if (Object.entries(labels).every(([k, v]) => got[k] === v)) return Number(value)
  }
  return 0
}

t.test('business counters, gauges and buckets', async (t) => {
  const ctx = await startTestApp(t)
  const p = await ctx.createProgram({ rules: VND_RULES })
  const till = new Till(ctx, p.token)
  const member = await ctx.enrol(p.token)
  await till.topUp(member.id, '100000')
  const sale = await till.purchase(member.id, [{ sku: 'A', quantity: 1, unitPrice: '300000' }], [{ type: 'storedValue', amount: '60000' }, { type: 'cash', amount: '240000' }])
  t.equal(sale.statusCode, 201, sale.body)
  const earned = sale.json().pointsEarned as number
  const back = await till.returnPurchase(sale.json().id, { amount: '30000' })
  t.equal(back.statusCode, 201, back.body)
  const refused = await till.purchase(member.id, [{ sku: 'A', quantity: 1, unitPrice: '300000' }], [{ type: 'storedValue', amount: '300000' }])
  t.equal(refused.statusCode, 422, refused.body)
  const job = await ctx.call(p.token, 'POST', '/v1/jobs/void-expired-holds/runs', {})
  t.equal(job.statusCode, 201, job.body)
  // A delivery to nowhere: refused at once, to be retried.
  await subscribeWebhook(ctx, p.token, { url: 'http://127.0.0.1:1/hook', eventTypes: ['storedValue.toppedUp'] })
  await till.topUp(member.id, '5000')
  await ctx.app.dispatcher.dispatchOnce(new Date(Date.now() + 60_000), { programIds: [p.id] })

  const res = await ctx.inject({ method: 'GET', url: '/metrics' })
  t.equal(res.statusCode, 200)
  const text = res.body
  const program_id = p.id
  t.equal(sample(text, 'loyalty_purchases_total', { program_id, status: 'completed' }), 1, 'one purchase posted')
  t.equal(sample(text, 'loyalty_returns_total', { program_id }), 1, 'one return')
  t.equal(sample(text, 'loyalty_member_points_total', { program_id, entry_kind: 'purchase', direction: 'credit' }), earned, 'points issued')
  t.ok(sample(text, 'loyalty_member_points_total', { program_id, entry_kind: 'return', direction: 'debit' }) > 0, 'points clawed back by the return')
  t.equal(sample(text, 'loyalty_member_stored_value_minor_total', { program_id, currency: 'VND', entry_kind: 'top_up', direction: 'credit' }), 105000, 'stored value loaded')
  t.equal(sample(text, 'loyalty_member_stored_value_minor_total', { program_id, currency: 'VND', entry_kind: 'purchase', direction: 'debit' }), 60000, 'stored value spent')
  t.equal(sample(text, 'http_problems_total', { route: '/v1/purchases', status_code: '422', code: 'INSUFFICIENT_FUNDS' }), 1, 'the refusal by its code')
  t.equal(sample(text, 'loyalty_jobs_total', { program_id, job: 'void-expired-holds', status: 'succeeded' }), 1, 'the job run')
  t.equal(sample(text, 'webhook_deliveries_total', { program_id, outcome: 'retrying' }), 1, 'the failed delivery, to be retried')
  t.equal(sample(text, 'webhook_outbox_deliveries_pending', { program_id }), 1, 'still pending in the outbox')
  t.ok(sample(text, 'webhook_outbox_oldest_pending_seconds', { program_id }) >= 0, 'its age')
  t.equal(sample(text, 'db_pool_size', {}), ctx.database.poolSize)
  t.match(text, /http_request_duration_seconds_bucket\{le="15",/, 'a bucket at the 15 s transaction deadline')
  t.notMatch(text, new RegExp(member.id), 'no member id in any label')
  // The dashboard graphs only what the service exposes.
  const dashboard = readFileSync(fileURLToPath(new URL('../../docs/grafana-dashboard.json', import.meta.url)), 'utf8')
  const used = new Set([...dashboard.matchAll(/\b((?:http|loyalty|webhook|db)_[a-z_]+?)(?:_bucket)?\b[{\[)]/g)].map((m) => m[1]!))
  t.ok(used.size >= 12, `the dashboard uses ${used.size} metrics`)
  for (const name of used) t.match(text, new RegExp(`^# HELP ${name} `, 'm'), `${name} is exposed`)
})

t.test('rate-limit refusals are counted by route', async (t) => {
  const ctx = await startTestApp(t, { rateLimit: { perMinute: 2, tokenFailuresPerMinute: 10_000 } })
  const p = await ctx.createProgram({ rules: VND_RULES })
  let limited = 0
  for (let i = 0; i < 5; i++) if ((await ctx.call(p.token, 'GET', '/v1/members?limit=1')).statusCode === 429) limited++
  t.ok(limited > 0, `${limited} refused`)
  const text = (await ctx.inject({ method: 'GET', url: '/metrics' })).body
  t.equal(sample(text, 'http_rate_limited_total', { route: '/v1/members' }), limited)
})

t.test('with METRICS_TOKEN, /metrics asks for it', async (t) => {
  const ctx = await startTestApp(t, { metrics: { token: 'metrics-token-0123456789' } })
  const open = await ctx.inject({ method: 'GET', url: '/metrics' })
  t.equal(open.statusCode, 401)
  t.equal(open.headers['content-type'], 'application/problem+json')
  t.equal(open.headers['www-authenticate'], 'Bearer realm="metrics"')
  t.equal((await ctx.inject({ method: 'GET', url: '/metrics', headers: { authorization: 'Bearer wrong-token-0123456789' } })).statusCode, 401)
  const ok = await ctx.inject({ method: 'GET', url: '/metrics', headers: { authorization: 'Bearer metrics-token-0123456789' } })
  t.equal(ok.statusCode, 200)
  t.match(ok.body, /http_requests_total/)
})
