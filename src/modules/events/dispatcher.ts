import { sql } from 'drizzle-orm'
import type { Database } from '../../db/client.js'
import { attemptAll, DEFAULT_MAX_ATTEMPTS, deliverBatch, deliverOne, type Delivering } from './deliver.js'
import { emptyReport, fanOutBatch, type DispatchReport } from './fan-out.js'
import { postJson, type PostResult } from './http.js'

export { DEFAULT_MAX_ATTEMPTS, retryDelayMs } from './deliver.js'
export type { DispatchReport } from './fan-out.js'

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

export type Dispatcher = ReturnType<typeof createDispatcher>

/**
 * Moves events from the outbox to the program's webhook endpoints: at-least-once, each
 * delivery retried with exponential backoff and every attempt logged. Several instances may run
 * it at once: events and deliveries are claimed with FOR UPDATE SKIP LOCKED, so each is worked
 * on by one of them. Receivers deduplicate by the webhook-id header (the event id). The fan-out
 * (events to deliveries) is in fan-out.ts, the attempts in deliver.ts; this is the scheduling.
 */
export function createDispatcher(options: DispatcherOptions) {
  const { database } = options
  const batch = options.batchSize ?? 100
  const timeoutMs = options.timeoutMs ?? 10_000
  const abort = new AbortController()
  const delivering: Delivering = {
    database,
    publicBaseUrl: options.publicBaseUrl,
    batch,
    maxAttempts: options.maxAttempts ?? DEFAULT_MAX_ATTEMPTS,
    leaseMs: options.leaseMs ?? 60_000,
    concurrency: options.concurrency ?? 8,
    signal: abort.signal,
    send: options.send ?? ((url, headers, body, signal) => postJson(url, headers, body, { timeoutMs, allowPrivate: options.allowPrivateUrls, signal })),
    log: options.log,
  }

  /**
   * One full pass at `now`: every due event fanned out and its deliveries attempted, then every
   * other due delivery (retries, and those a crash left) attempted once.
   * Bounded: at most 50 batches of each, so a flood cannot hold a pass forever. `programIds`
   * limits it to those programs (tests sharing a database each dispatch their own).
   */
  async function dispatchOnce(now: Date = new Date(), scope: { programIds?: string[] } = {}): Promise<DispatchReport> {
    const report = emptyReport()
    const only = scope.programIds ? sql`and program_id in (${sql.join(scope.programIds.map((id) => sql`${id}::uuid`), sql`, `)})` : sql``
    for (let i = 0; i < 50 && !abort.signal.aborted; i++) {
      const { claimed, fresh } = await fanOutBatch(database, batch, delivering.leaseMs, now, report, only)
      // Each new delivery is claimed for its first attempt already: no update of the row before it.
      await attemptAll(delivering, fresh, now, report)
      if (claimed < batch) break
    }
    for (let i = 0; i < 50 && !abort.signal.aborted; i++) if ((await deliverBatch(delivering, now, report, only)) < batch) break
    return report
  }

  /** Attempts one delivery now (the test endpoint); a failure stays pending for the retries. */
  const deliverNow = (programId: string, deliveryId: string, now: Date = new Date()): Promise<PostResult | undefined> =>
    deliverOne(delivering, programId, deliveryId, now, emptyReport())

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
