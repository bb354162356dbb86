import { AsyncLocalStorage } from 'node:async_hooks'
import fp from 'fastify-plugin'
import type { FastifyBaseLogger } from 'fastify'
import type { PlanData } from '../db/apply.js'

/**
 * One line per request, when it is answered: method, route pattern (never the URL: ids and query
 * values stay out), status, duration, client and program; fastify's own two lines are off
 * (app.ts). And the business events the executor applied, at info with their ids, on the
 * request's logger (so with its request id): purchase posted, return posted, hold voided or
 * expired, stored value topped up. Jobs log their runs themselves (jobs/runner.ts: "job ran").
 */
export default fp(
  async (app) => {
    const requestLog = new AsyncLocalStorage<FastifyBaseLogger>()
    app.addHook('onRequest', (request, _reply, done) => requestLog.run(request.log, done))
    app.addHook('onResponse', async (request, reply) => {
      const principal = request.principal
      request.log.info(
        {
          method: request.method,
          route: request.routeOptions.url ?? 'unmatched',
          statusCode: reply.statusCode,
          durationMs: Math.round(reply.elapsedTime * 10) / 10,
          clientId: principal?.clientId ?? null,
          programId: principal?.program?.id ?? null,
        },
        'request completed',
      )
    })
    app.db.telemetry.on('applied', (plan) => {
      const log = requestLog.getStore() ?? app.log
      for (const event of businessEvents(plan)) log.info(event.fields, event.message)
    })
  },
  { name: 'request-log', dependencies: ['db'] },
)

/** Pure: what an applied plan did, as log lines with the ids an operator searches for. */
export function businessEvents(plan: PlanData): { message: string; fields: Record<string, unknown> }[] {
  const programId = plan.program
  const out: { message: string; fields: Record<string, unknown> }[] = []
  for (const p of plan.purchases ?? []) {
    out.push({ message: 'purchase posted', fields: { event: 'purchase.posted', programId, purchaseId: p.id, status: p.status, storeId: p.store_id, externalId: p.external_id } })
  }
  for (const r of plan.rows ?? []) {
    if (r.op === 'insert' && r.table === 'purchase_returns') {
      for (const row of r.rows) out.push({ message: 'return posted', fields: { event: 'return.posted', programId, returnId: row.id, purchaseId: row.purchase_id } })
    }
  }
  for (const h of plan.holds ?? []) {
    if (h.op === 'resolve' && h.status !== 'posted') out.push({ message: `hold ${h.status}`, fields: { event: `hold.${h.status}`, programId, holdId: h.holdId } })
    if (h.op === 'resolve' && h.status === 'posted') out.push({ message: 'hold captured', fields: { event: 'hold.captured', programId, holdId: h.holdId, amount: h.postedAmount } })
  }
  if (plan.openings && plan.openings.entries.length > 0) {
    out.push({ message: 'entries posted: opening_balance', fields: { event: 'entry.opening_balance', programId, entries: plan.openings.entries.length } })
  }
  for (const step of plan.entries ?? []) {
    const kind = String(step.entry.kind)
    if (kind === 'top_up' || kind === 'adjustment' || kind === 'reversal' || kind === 'expiry' || kind === 'bonus' || kind === 'reward_redemption' || kind === 'reward_cancellation') {
      out.push({ message: `entry posted: ${kind}`, fields: { event: `entry.${kind}`, programId, entryId: step.entry.id } })
    }
  }
  return out
}
