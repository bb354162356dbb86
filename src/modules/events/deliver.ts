import { sql, type SQL } from 'drizzle-orm'
import { queryRows, type Database } from '../../db/client.js'
import { composeBody } from './compose.js'
import type { PostResult } from './http.js'
import type { DispatchReport } from './report.js'
import { webhookHeaders } from './signing.js'

// The second half of the dispatcher: deliveries are claimed for a lease, sent signed, and their
// outcome logged (webhook_attempts) with the retry schedule. fan-out.ts makes the deliveries,
// already claimed for their first attempt. The lease is leased_until, a column no index holds, so
// claiming a retry can be a HOT update: moving next_attempt_at wrote an entry in all four indexes.

/** Exponential backoff: 30 s, 1 min, 2 min… doubling up to 12 h; ±10 % jitter so retries of one outage spread out. */
export function retryDelayMs(attempt: number, random = Math.random()): number {
  const base = Math.min(30_000 * 2 ** (attempt - 1), 12 * 3_600_000)
  return Math.round(base * (0.9 + 0.2 * random))
}

export const DEFAULT_MAX_ATTEMPTS = 15 // about two days of retries

/** What attempts need: the resolved dispatcher options. */
export interface Delivering {
  database: Database
  publicBaseUrl: string
  batch: number
  maxAttempts: number
  leaseMs: number
  concurrency: number
  /** Aborted when the dispatcher stops. */
  signal: AbortSignal
  send: (url: string, headers: Record<string, string>, body: string, signal: AbortSignal) => Promise<PostResult>
  log?: { warn(obj: object, msg?: string): void }
}

/** A delivery reserved for one attempt, with what sending it needs: the event and the endpoint. */
export interface ClaimedDelivery {
  program_id: string
  id: string
  attempts: number
  /** Attempts made before the last redelivery (0: none). */
  attempt_base?: number
  event_id: string
  type: string
  payload: unknown
  member_id: string | null
  created_at: string | Date
  url: string
  secret: string
  /** The secret before a rotation, signing too until previous_secret_until. */
  previous_secret: string | null
  previous_secret_until: string | Date | null
  deleted_at: string | Date | null
}

/** Pure: the secrets that sign an attempt at `now`: the current one, and the previous one during a rotation's overlap. */
export function signingSecrets(c: Pick<ClaimedDelivery, 'secret' | 'previous_secret' | 'previous_secret_until'>, now: Date): string[] {
  return c.previous_secret && c.previous_secret_until && new Date(c.previous_secret_until) > now ? [c.secret, c.previous_secret] : [c.secret]
}

/** The claimed deliveries (CTE `claimed`) with their event and endpoint. */
const withEventAndEndpoint = sql`select c.program_id, c.id, c.attempts, c.attempt_base, c.event_id, e.type, e.payload, e.member_id, e.created_at, w.url, w.secret, w.previous_secret, w.previous_secret_until, w.deleted_at
  from claimed c
  join events e on e.program_id = c.program_id and e.id = c.event_id
  join webhook_endpoints w on w.program_id = c.program_id and w.id = c.endpoint_id`

/** Claims due deliveries (each reserved for one lease) and attempts them. Returns how many were claimed. */
export async function deliverBatch(d: Delivering, now: Date, report: DispatchReport, only: SQL): Promise<number> {
  const claimed = await queryRows<ClaimedDelivery>(
    d.database.db,
    sql`with due as (
          select program_id, id from webhook_deliveries
           where status = 'pending' and next_attempt_at <= ${now.toISOString()}::timestamptz
             and (leased_until is null or leased_until <= ${now.toISOString()}::timestamptz) ${only}
             -- A disabled endpoint's retries wait until it is enabled again.
             and exists (select 1 from webhook_endpoints w where w.program_id = webhook_deliveries.program_id and w.id = webhook_deliveries.endpoint_id and w.enabled)
           order by next_attempt_at limit ${d.batch} for update skip locked),
        claimed as (
          update webhook_deliveries wd set attempts = wd.attempts + 1, last_attempt_at = ${now.toISOString()}::timestamptz,
                 leased_until = ${new Date(now.getTime() + d.leaseMs).toISOString()}::timestamptz
            from due where wd.program_id = due.program_id and wd.id = due.id
          returning wd.program_id, wd.id, wd.attempts, wd.attempt_base, wd.event_id, wd.endpoint_id)
        ${withEventAndEndpoint}`,
  )
  await attemptAll(d, claimed, now, report)
  return claimed.length
}

/** Attempts claimed deliveries, `concurrency` at a time. */
export async function attemptAll(d: Delivering, claimed: readonly ClaimedDelivery[], now: Date, report: DispatchReport): Promise<void> {
  const queue = [...claimed]
  const worker = async () => {
    for (let c = queue.shift(); c; c = queue.shift()) await attempt(d, c, now, report)
  }
  await Promise.all(Array.from({ length: Math.min(d.concurrency, queue.length) }, worker))
}

/** Claims one pending delivery and attempts it now (the test endpoint); a failure stays pending for the retries. */
export async function deliverOne(d: Delivering, programId: string, deliveryId: string, now: Date, report: DispatchReport): Promise<PostResult | undefined> {
  const [claimed] = await queryRows<ClaimedDelivery>(
    d.database.db,
    sql`with claimed as (
          update webhook_deliveries set attempts = attempts + 1, last_attempt_at = ${now.toISOString()}::timestamptz,
                 leased_until = ${new Date(now.getTime() + d.leaseMs).toISOString()}::timestamptz
           where program_id = ${programId}::uuid and id = ${deliveryId}::uuid and status = 'pending'
          returning program_id, id, attempts, attempt_base, event_id, endpoint_id)
        ${withEventAndEndpoint}`,
  )
  return claimed ? attempt(d, claimed, now, report) : undefined
}

async function attempt(d: Delivering, c: ClaimedDelivery, now: Date, report: DispatchReport): Promise<PostResult | undefined> {
  const db = d.database.db
  if (c.deleted_at) {
    await db.execute(sql`update webhook_deliveries set status = 'cancelled', last_error = 'endpoint deleted'
                          where program_id = ${c.program_id}::uuid and id = ${c.id}::uuid`)
    return undefined
  }
  const payload = (typeof c.payload === 'string' ? JSON.parse(c.payload) : c.payload) as Record<string, unknown>
  const body = await composeBody(db, d.publicBaseUrl, { id: c.event_id, programId: c.program_id, type: c.type, payload, memberId: c.member_id, createdAt: c.created_at })
  // The signature carries the wall-clock time of sending: receivers check it against theirs.
  const headers = webhookHeaders(signingSecrets(c, now), c.event_id, Math.floor(Date.now() / 1000), body)
  const startedAt = new Date()
  const result = await d.send(c.url, headers, body, d.signal)
  // Shutting down: the attempt is not the endpoint's fault; its lease expires and it is retried.
  if (d.signal.aborted) return result
  const ok = result.statusCode !== undefined && result.statusCode >= 200 && result.statusCode < 300
  // Counted from the last redelivery (attempt_base): a redelivered delivery gets the whole schedule again.
  const made = c.attempts - (c.attempt_base ?? 0)
  const exhausted = !ok && made >= d.maxAttempts
  const status = ok ? 'succeeded' : exhausted ? 'failed' : 'pending'
  const next = new Date(now.getTime() + (ok || exhausted ? 0 : retryDelayMs(made)))
  await queryRows(
    db,
    sql`with logged as (
          insert into webhook_attempts (program_id, delivery_id, attempt, started_at, duration_ms, status_code, error, response_body)
          values (${c.program_id}::uuid, ${c.id}::uuid, ${c.attempts}, ${startedAt.toISOString()}::timestamptz, ${result.durationMs},
                  ${result.statusCode ?? null}::int, ${result.error ?? null}, ${result.body ?? null})
          on conflict do nothing returning 1)
        update webhook_deliveries set status = ${status}, next_attempt_at = ${next.toISOString()}::timestamptz, leased_until = null,
               last_status_code = ${result.statusCode ?? null}::int, last_error = ${result.error ?? (ok ? null : `HTTP ${result.statusCode}`)},
               succeeded_at = ${ok ? now.toISOString() : null}::timestamptz
         where program_id = ${c.program_id}::uuid and id = ${c.id}::uuid and attempts = ${c.attempts} and status = 'pending'`,
  )
  d.database.telemetry.emit('delivery', { programId: c.program_id, outcome: ok ? 'succeeded' : exhausted ? 'failed' : 'retrying' })
  if (ok) report.delivered += 1
  else {
    report.failedAttempts += 1
    if (exhausted) report.exhausted += 1
    d.log?.warn({ deliveryId: c.id, eventId: c.event_id, attempt: c.attempts, statusCode: result.statusCode, error: result.error }, 'webhook delivery failed')
  }
  return result
}
