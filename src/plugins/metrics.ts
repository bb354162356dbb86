import fp from 'fastify-plugin'
import { sql } from 'drizzle-orm'
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client'
import { queryRows } from '../db/client.js'
import { AppError } from '../shared/errors.js'
import { constantTimeEquals } from '../shared/secrets.js'
import { problemCodes, sendProblem } from './errors.js'
import { planCounts } from './plan-counts.js'

/**
 * Prometheus metrics per app instance (own registry, so tests can build many apps). Business
 * counters are labelled by program, never by member or purchase: a program is a tenant, few per
 * instance. docs/operations.md lists them; docs/grafana-dashboard.json graphs them.
 */
export default fp(
  async (app) => {
    const registry = new Registry()
    const registers = [registry]
    collectDefaultMetrics({ register: registry })
    const requests = new Counter({ name: 'http_requests_total', help: 'HTTP requests by method, route and status', labelNames: ['method', 'route', 'status_code'], registers })
    const duration = new Histogram({
      name: 'http_request_duration_seconds',
      help: 'HTTP request latency by method, route and status',
      labelNames: ['method', 'route', 'status_code'],
      // Up to 30 s: the transaction deadline (15 s by default) lands in a bucket of its own, not in +Inf.
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 15, 20, 30],
      registers,
    })
    const problems = new Counter({ name: 'http_problems_total', help: 'Problem answers by route, status and problem code', labelNames: ['route', 'status_code', 'code'], registers })
    const rateLimited = new Counter({ name: 'http_rate_limited_total', help: 'Requests refused by a rate limit (429), by route', labelNames: ['route'], registers })

    const purchases = new Counter({ name: 'loyalty_purchases_total', help: 'Purchases posted, by program and status (completed, pending: held)', labelNames: ['program_id', 'status'], registers })
    const returns = new Counter({ name: 'loyalty_returns_total', help: 'Returns posted, by program', labelNames: ['program_id'], registers })
    const coupons = new Counter({ name: 'loyalty_coupon_redemptions_total', help: 'Coupons redeemed, by program', labelNames: ['program_id'], registers })
    const points = new Counter({
      name: 'loyalty_member_points_total',
      help: 'Points credited to or debited from members, by program, entry kind and direction (issued: purchase credit; redeemed: purchase debit; expired: expiry debit)',
      labelNames: ['program_id', 'entry_kind', 'direction'],
      registers,
    })
    const storedValue = new Counter({
      name: 'loyalty_member_stored_value_minor_total',
      help: 'Stored value credited to or debited from members in minor units, by program, currency, entry kind and direction (loaded: top_up credit; spent: purchase debit)',
      labelNames: ['program_id', 'currency', 'entry_kind', 'direction'],
      registers,
    })
    const jobs = new Counter({ name: 'loyalty_jobs_total', help: 'Job runs that ended, by program, job and status (succeeded, failed)', labelNames: ['program_id', 'job', 'status'], registers })
    const deliveries = new Counter({ name: 'webhook_deliveries_total', help: 'Webhook delivery attempts, by program and outcome (succeeded, retrying, failed: given up)', labelNames: ['program_id', 'outcome'], registers })
    const deadlines = new Counter({ name: 'db_transaction_deadlines_total', help: 'Transactions and plan groups that passed their deadline (answered 503)', registers })

    const database = app.db
    new Gauge({ name: 'db_pool_size', help: 'Connections the service may open to the database', registers, collect() {
      this.set(database.poolSize)
    } })
    new Gauge({ name: 'db_transactions_in_flight', help: 'Transactions running now (each holds a connection)', registers, collect() {
      this.set(database.transactionsInFlight)
    } })
    new Gauge({ name: 'db_plan_groups_in_flight', help: 'Groups of plans the executor is applying now (each holds a connection)', registers, collect() {
      this.set(database.applier.load.groupsInFlight)
    } })
    new Gauge({ name: 'db_plans_waiting', help: 'Plans sent or waiting for a group', registers, collect() {
      this.set(database.applier.load.plansPending)
    } })
    // One read for both outbox gauges per scrape (webhook_deliveries_due_idx holds the pending ones only).
    // The age is never below 0: a delivery's created_at is the dispatcher's clock, which may run ahead of the database's.
    let outbox: { at: number; rows: Promise<{ program_id: string; pending: string; oldest: string }[]> } | undefined
    const outboxNow = () => {
      if (!outbox || Date.now() - outbox.at > 1000) {
        const rows = queryRows<{ program_id: string; pending: string; oldest: string }>(
          database.db,
          sql`select program_id, count(*)::text as pending, greatest(0, extract(epoch from now() - min(created_at)))::text as oldest
                from webhook_deliveries where status = 'pending' group by program_id`,
        ).catch(() => [])
        outbox = { at: Date.now(), rows }
      }
      return outbox.rows
    }
    const outboxGauge = (name: string, help: string, value: (r: { pending: string; oldest: string }) => number) =>
      new Gauge({
        name,
        help,
        labelNames: ['program_id'],
        registers,
        async collect() {
          const rows = await outboxNow()
          this.reset()
          for (const r of rows) this.set({ program_id: r.program_id }, value(r))
        },
      })
    outboxGauge('webhook_outbox_deliveries_pending', 'Webhook deliveries not yet delivered nor given up, by program', (r) => Number(r.pending))
    outboxGauge('webhook_outbox_oldest_pending_seconds', 'Age of the oldest webhook delivery not yet delivered nor given up, by program', (r) => Number(r.oldest))

    database.telemetry.on('applied', (plan) => {
      const counts = planCounts(plan)
      const program_id = plan.program
      for (const [status, n] of counts.purchases) purchases.inc({ program_id, status }, n)
      if (counts.returns > 0) returns.inc({ program_id }, counts.returns)
      if (counts.couponRedemptions > 0) coupons.inc({ program_id }, counts.couponRedemptions)
      for (const f of counts.flows) {
        if (f.asset === 'POINTS') points.inc({ program_id, entry_kind: f.kind, direction: f.direction }, f.amount)
        else storedValue.inc({ program_id, currency: f.asset, entry_kind: f.kind, direction: f.direction }, f.amount)
      }
    })
    database.telemetry.on('job', (run) => jobs.inc({ program_id: run.programId, job: run.job, status: run.status }))
    database.telemetry.on('delivery', (d) => deliveries.inc({ program_id: d.programId, outcome: d.outcome }))
    database.telemetry.on('deadline', () => deadlines.inc())

    app.addHook('onResponse', async (request, reply) => {
      // The route pattern, never the raw URL: ids would explode the label set.
      const route = request.routeOptions.url ?? 'unmatched'
      const labels = { method: request.method, route, status_code: String(reply.statusCode) }
      requests.inc(labels)
      duration.observe(labels, reply.elapsedTime / 1000)
      const code = problemCodes.get(reply)
      if (code) problems.inc({ route, status_code: labels.status_code, code })
      if (reply.statusCode === 429) rateLimited.inc({ route })
    })

    const token = app.config.metrics?.token
    app.get('/metrics', { schema: { hide: true } }, async (request, reply) => {
      if (token !== undefined) {
        const given = /^Bearer (.+)$/.exec(request.headers.authorization ?? '')?.[1] ?? ''
        if (!constantTimeEquals(given, token)) {
          reply.header('www-authenticate', 'Bearer realm="metrics"')
          return sendProblem(reply, request, new AppError(401, 'UNAUTHORIZED', 'Unauthorized', 'GET /metrics needs the metrics token (METRICS_TOKEN) as a bearer token'))
        }
      }
      reply.type(registry.contentType)
      return registry.metrics()
    })
  },
  { name: 'metrics', dependencies: ['db'] },
)
