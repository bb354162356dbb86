import { sql, type SQL } from 'drizzle-orm'
import { queryRows, type Database, type Executor } from '../../db/client.js'
import { newId } from '../../shared/ids.js'
import { readRules } from '../programs/rules.js'
import { SUBSCRIBABLE_EVENT_TYPES } from './catalog.js'
import { composeBody } from './compose.js'
import { marketingRefusal } from './emit.js'
import { postJson, type PostResult } from './http.js'
import { capReleaseTime, insideWindow, nextSendingTime } from './marketing.js'
import { webhookHeaders } from './signing.js'

export interface DispatcherOptions {
  database: Database
  publicBaseUrl: string
  allowPrivateUrls: boolean
  log?: { info(obj: object, msg?: string): void; warn(obj: object, msg?: string): void; error(obj: object, msg?: string): void }
  /** Events claimed per transaction and deliveries per round. */
  batchSize?: number
  /** Attempts before a delivery is given up (failed). */
  maxAttempts?: number
  timeoutMs?: number
  /** How long a claimed delivery is reserved for its attempt; a crashed attempt is retried after it. */
  leaseMs?: number
  /** Deliveries sent at once. */
  concurrency?: number
  /** Sends one delivery (tests may replace it); default: HTTP POST with the SSRF guard. */
  send?: (url: string, headers: Record<string, string>, body: string, signal: AbortSignal) => Promise<PostResult>
}

export interface DispatchReport {
  dispatched: number
  suppressed: number
  postponed: number
  delivered: number
  failedAttempts: number
  exhausted: number
}

/** Exponential backoff: 30 s, 1 min, 2 min… doubling up to 12 h; ±10 % jitter so retries of one outage spread out. */
export function retryDelayMs(attempt: number, random = Math.random()): number {
  const base = Math.min(30_000 * 2 ** (attempt - 1), 12 * 3_600_000)
  return Math.round(base * (0.9 + 0.2 * random))
}

export const DEFAULT_MAX_ATTEMPTS = 15 // about two days of retries

const DAY_MS = 24 * 3_600_000

interface ClaimedEvent {
  program_id: string
  id: string
  type: string
  category: string
  member_id: string | null
  endpoint_id: string | null
  expires_at: string | Date | null
}

interface ClaimedDelivery {
  program_id: string
  id: string
  attempts: number
  event_id: string
  type: string
  payload: unknown
  member_id: string | null
  created_at: string | Date
  url: string
  secret: string
  deleted_at: string | Date | null
}

export type Dispatcher = ReturnType<typeof createDispatcher>

/**
 * Moves events from the outbox to the program's webhook endpoints: at-least-once, each
 * delivery retried with exponential backoff and every attempt logged. Several instances may run
 * it at once: events and deliveries are claimed with FOR UPDATE SKIP LOCKED, so each is worked
 * on by one of them. Receivers deduplicate by the webhook-id header (the event id).
 */
export function createDispatcher(options: DispatcherOptions) {
  const { database } = options
  const batch = options.batchSize ?? 100
  const maxAttempts = options.maxAttempts ?? DEFAULT_MAX_ATTEMPTS
  const leaseMs = options.leaseMs ?? 60_000
  const timeoutMs = options.timeoutMs ?? 10_000
  const concurrency = options.concurrency ?? 8
  const abort = new AbortController()
  const send =
    options.send ?? ((url: string, headers: Record<string, string>, body: string, signal: AbortSignal) => postJson(url, headers, body, { timeoutMs, allowPrivate: options.allowPrivateUrls, signal }))

  /** Fans one batch of due events out into deliveries, applying the marketing rules. Returns how many were claimed. */
  async function fanOutBatch(now: Date, report: DispatchReport, only: SQL): Promise<number> {
    return database.transaction(async (tx) => {
      const claimed = await queryRows<ClaimedEvent>(
        tx,
        sql`select program_id, id, type, category, member_id, endpoint_id, expires_at from events
             where status = 'pending' and available_at <= ${now.toISOString()}::timestamptz ${only}
             order by available_at, id limit ${batch} for update skip locked`,
      )
      if (claimed.length === 0) return 0
      const programIds = [...new Set(claimed.map((e) => e.program_id))]
      const programs = await queryRows<{ id: string; timezone: string; rules: unknown }>(
        tx,
        sql`select id, timezone, rules from programs where id in (${sql.join(programIds.map((id) => sql`${id}::uuid`), sql`, `)})`,
      )
      const endpoints = await queryRows<{ program_id: string; id: string; event_types: string[] | string }>(
        tx,
        sql`select program_id, id, event_types from webhook_endpoints
             where program_id in (${sql.join(programIds.map((id) => sql`${id}::uuid`), sql`, `)}) and deleted_at is null`,
      )
      for (const event of claimed) {
        const program = programs.find((p) => p.id === event.program_id)!
        const decision = await marketingDecision(tx, event, program, now)
        if (decision.suppress) {
          await tx.execute(sql`update events set status = 'suppressed', suppressed_reason = ${decision.suppress}
                                where program_id = ${event.program_id}::uuid and id = ${event.id}::uuid`)
          report.suppressed += 1
          continue
        }
        if (decision.postponeTo) {
          await tx.execute(sql`update events set available_at = ${decision.postponeTo.toISOString()}::timestamptz
                                where program_id = ${event.program_id}::uuid and id = ${event.id}::uuid`)
          report.postponed += 1
          continue
        }
        const targets = endpoints.filter(
          (w) => w.program_id === event.program_id && (event.endpoint_id ? w.id === event.endpoint_id : subscribed(w.event_types, event.type)),
        )
        if (targets.length > 0) {
          await tx.execute(sql`insert into webhook_deliveries (program_id, id, event_id, endpoint_id, status, next_attempt_at)
            values ${sql.join(
              targets.map((w) => sql`(${event.program_id}::uuid, ${newId()}::uuid, ${event.id}::uuid, ${w.id}::uuid, 'pending', ${now.toISOString()}::timestamptz)`),
              sql`, `,
            )}
            on conflict (program_id, event_id, endpoint_id) do nothing`)
        }
        await tx.execute(sql`update events set status = 'dispatched', dispatched_at = ${now.toISOString()}::timestamptz, deliveries = ${targets.length}
                              where program_id = ${event.program_id}::uuid and id = ${event.id}::uuid`)
        report.dispatched += 1
      }
      return claimed.length
    })
  }

  /**
   * Marketing (Decree 91/2020): consent and Do-Not-Call checked again now (a refusal stops at
   * once), the sending window on the program's clock, at most N per member in any 24 hours. The
   * member row is locked so two instances cannot both take the last slot.
   */
  async function marketingDecision(tx: Executor, event: ClaimedEvent, program: { timezone: string; rules: unknown }, now: Date): Promise<{ suppress?: string; postponeTo?: Date }> {
    if (event.expires_at && new Date(event.expires_at) <= now) return { suppress: 'expired' }
    if (event.category !== 'marketing') return {}
    const settings = readRules(program.rules).notifications.marketing
    if (settings.maxPer24Hours === 0) return { suppress: 'marketing_disabled' }
    if (!event.member_id) return { suppress: 'no_member' }
    const refusal = await marketingRefusal(tx, event.program_id, event.member_id, true)
    if (refusal) return { suppress: refusal }
    if (!insideWindow(now, program.timezone, settings)) return { postponeTo: nextSendingTime(now, program.timezone, settings) }
    const sent = await queryRows<{ dispatched_at: string | Date }>(
      tx,
      sql`select dispatched_at from events
           where program_id = ${event.program_id}::uuid and member_id = ${event.member_id}::uuid and category = 'marketing' and deliveries > 0
             and dispatched_at > ${new Date(now.getTime() - DAY_MS).toISOString()}::timestamptz
           order by dispatched_at desc limit ${settings.maxPer24Hours}`,
    )
    const release = capReleaseTime(
      sent.map((s) => new Date(s.dispatched_at)),
      settings.maxPer24Hours,
      now,
    )
    if (release) return { postponeTo: nextSendingTime(release, program.timezone, settings) }
    return {}
  }

  /** Claims due deliveries (each reserved for one lease) and attempts them. Returns how many were claimed. */
  async function deliverBatch(now: Date, report: DispatchReport, only: SQL): Promise<number> {
    const claimed = await queryRows<ClaimedDelivery>(
      database.db,
      sql`with due as (
            select program_id, id from webhook_deliveries
             where status = 'pending' and next_attempt_at <= ${now.toISOString()}::timestamptz ${only}
             order by next_attempt_at limit ${batch} for update skip locked),
          claimed as (
            update webhook_deliveries d set attempts = d.attempts + 1, last_attempt_at = ${now.toISOString()}::timestamptz,
                   next_attempt_at = ${new Date(now.getTime() + leaseMs).toISOString()}::timestamptz
              from due where d.program_id = due.program_id and d.id = due.id
            returning d.program_id, d.id, d.attempts, d.event_id, d.endpoint_id)
          select c.program_id, c.id, c.attempts, c.event_id, e.type, e.payload, e.member_id, e.created_at, w.url, w.secret, w.deleted_at
            from claimed c
            join events e on e.program_id = c.program_id and e.id = c.event_id
            join webhook_endpoints w on w.program_id = c.program_id and w.id = c.endpoint_id`,
    )
    const queue = [...claimed]
    const worker = async () => {
      for (let d = queue.shift(); d; d = queue.shift()) await attempt(d, now, report)
    }
    await Promise.all(Array.from({ length: Math.min(concurrency, queue.length) }, worker))
    return claimed.length
  }

  async function attempt(d: ClaimedDelivery, now: Date, report: DispatchReport): Promise<PostResult | undefined> {
    if (d.deleted_at) {
      await database.db.execute(sql`update webhook_deliveries set status = 'cancelled', last_error = 'endpoint deleted'
                                     where program_id = ${d.program_id}::uuid and id = ${d.id}::uuid`)
      return undefined
    }
    const payload = (typeof d.payload === 'string' ? JSON.parse(d.payload) : d.payload) as Record<string, unknown>
    const body = await composeBody(database.db, options.publicBaseUrl, { id: d.event_id, programId: d.program_id, type: d.type, payload, memberId: d.member_id, createdAt: d.created_at })
    // The signature carries the wall-clock time of sending: receivers check it against theirs.
    const headers = webhookHeaders(d.secret, d.event_id, Math.floor(Date.now() / 1000), body)
    const startedAt = new Date()
    const result = await send(d.url, headers, body, abort.signal)
    // Shutting down: the attempt is not the endpoint's fault; its lease expires and it is retried.
    if (abort.signal.aborted) return result
    const ok = result.statusCode !== undefined && result.statusCode >= 200 && result.statusCode < 300
    const exhausted = !ok && d.attempts >= maxAttempts
    const status = ok ? 'succeeded' : exhausted ? 'failed' : 'pending'
    const next = new Date(now.getTime() + (ok || exhausted ? 0 : retryDelayMs(d.attempts)))
    await queryRows(
      database.db,
      sql`with logged as (
            insert into webhook_attempts (program_id, delivery_id, attempt, started_at, duration_ms, status_code, error, response_body)
            values (${d.program_id}::uuid, ${d.id}::uuid, ${d.attempts}, ${startedAt.toISOString()}::timestamptz, ${result.durationMs},
                    ${result.statusCode ?? null}::int, ${result.error ?? null}, ${result.body ?? null})
            on conflict do nothing returning 1)
          update webhook_deliveries set status = ${status}, next_attempt_at = ${next.toISOString()}::timestamptz,
                 last_status_code = ${result.statusCode ?? null}::int, last_error = ${result.error ?? (ok ? null : `HTTP ${result.statusCode}`)},
                 succeeded_at = ${ok ? now.toISOString() : null}::timestamptz
           where program_id = ${d.program_id}::uuid and id = ${d.id}::uuid and attempts = ${d.attempts} and status = 'pending'`,
    )
    if (ok) report.delivered += 1
    else {
      report.failedAttempts += 1
      if (exhausted) report.exhausted += 1
      options.log?.warn({ deliveryId: d.id, eventId: d.event_id, attempt: d.attempts, statusCode: result.statusCode, error: result.error }, 'webhook delivery failed')
    }
    return result
  }

  /**
   * One full pass at `now`: every due event fanned out, every due delivery attempted once.
   * Bounded: at most 50 batches of each, so a flood cannot hold a pass forever. `programIds`
   * limits it to those programs (tests sharing a database each dispatch their own).
   */
  async function dispatchOnce(now: Date = new Date(), scope: { programIds?: string[] } = {}): Promise<DispatchReport> {
    const report: DispatchReport = { dispatched: 0, suppressed: 0, postponed: 0, delivered: 0, failedAttempts: 0, exhausted: 0 }
    const only = scope.programIds ? sql`and program_id in (${sql.join(scope.programIds.map((id) => sql`${id}::uuid`), sql`, `)})` : sql``
    for (let i = 0; i < 50 && !abort.signal.aborted; i++) if ((await fanOutBatch(now, report, only)) < batch) break
    for (let i = 0; i < 50 && !abort.signal.aborted; i++) if ((await deliverBatch(now, report, only)) < batch) break
    return report
  }

  /** Attempts one delivery now (the test endpoint); a failure stays pending for the retries. */
  async function deliverNow(programId: string, deliveryId: string, now: Date = new Date()): Promise<PostResult | undefined> {
    const [d] = await queryRows<ClaimedDelivery>(
      database.db,
      sql`with claimed as (
            update webhook_deliveries set attempts = attempts + 1, last_attempt_at = ${now.toISOString()}::timestamptz,
                   next_attempt_at = ${new Date(now.getTime() + leaseMs).toISOString()}::timestamptz
             where program_id = ${programId}::uuid and id = ${deliveryId}::uuid and status = 'pending'
            returning program_id, id, attempts, event_id, endpoint_id)
          select c.program_id, c.id, c.attempts, c.event_id, e.type, e.payload, e.member_id, e.created_at, w.url, w.secret, w.deleted_at
            from claimed c
            join events e on e.program_id = c.program_id and e.id = c.event_id
            join webhook_endpoints w on w.program_id = c.program_id and w.id = c.endpoint_id`,
    )
    if (!d) return undefined
    return attempt(d, now, { dispatched: 0, suppressed: 0, postponed: 0, delivered: 0, failedAttempts: 0, exhausted: 0 })
  }

  let timer: NodeJS.Timeout | undefined
  let running: Promise<unknown> | undefined
  let again = false
  let stopped = false

  /** Runs a pass now unless one is running (then one more right after it). */
  function kick(): void {
    if (stopped) return
    if (running) {
      again = true
      return
    }
    running = dispatchOnce(new Date())
      .then((r) => {
        if (r.dispatched || r.suppressed || r.failedAttempts) options.log?.info({ job: 'webhooks', ...r }, 'webhooks dispatched')
      })
      .catch((err: unknown) => options.log?.error({ err, job: 'webhooks' }, 'webhook dispatch failed'))
      .finally(() => {
        running = undefined
        if (again) {
          again = false
          kick()
        }
      })
  }

  return {
    dispatchOnce,
    deliverNow,
    kick,
    /** Polls every `intervalMs` (a committed event also wakes it at once). */
    start(intervalMs: number): void {
      if (timer || stopped) return
      timer = setInterval(kick, intervalMs)
      timer.unref()
    },
    /**
     * Stops polling and aborts the requests in flight (their leases expire and they are retried
     * later), then waits at most `graceMs` for the pass to end: never holds a shutdown up.
     */
    async stop(graceMs = 2000): Promise<void> {
      stopped = true
      if (timer) clearInterval(timer)
      abort.abort()
      if (running) await Promise.race([running, new Promise((r) => setTimeout(r, graceMs).unref())])
    },
  }
}

const subscribed = (types: string[] | string, type: string) => {
  const list = Array.isArray(types) ? types : parsePgArray(types)
  return list.length === 0 ? (SUBSCRIBABLE_EVENT_TYPES as string[]).includes(type) : list.includes(type)
}

/** text[] arrives as an array from postgres.js and PGlite; a '{a,b}' literal is read too, just in case. */
const parsePgArray = (text: string) => (text === '{}' ? [] : text.replace(/^\{|\}$/g, '').split(',').map((s) => s.replace(/^"|"$/g, '')))
