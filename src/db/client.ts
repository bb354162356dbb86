import { mkdir } from 'node:fs/promises'
import type { Readable } from 'node:stream'
import type { SQL } from 'drizzle-orm'
import { drizzle as drizzlePostgres } from 'drizzle-orm/postgres-js'
import postgres from 'postgres'
import { withCommitHooks, withDeadline, type Executor } from './core.js'
import type { AppliedPlan, PlanData } from './apply.js'
import { GroupApplier, type GroupRunner } from './groups.js'
import * as schema from './schema.js'
import { assertDriverRepaired } from './driver-repairs.js'
import { Telemetry } from './telemetry.js'
import { copyLines, type CopyOptions } from './copy.js'

export type { Executor, InTime, Schema } from './core.js'
export { afterCommit, ping, queryRows, withDeadline } from './core.js'

export interface Database {
  db: Executor
  kind: 'pglite' | 'postgres'
  /** Runs `fn` in one transaction; it commits when `fn` resolves and rolls back when it throws. */
  transaction<T>(fn: (tx: Executor) => Promise<T>): Promise<T>
  /** Applies a write plan in one statement, grouped with the plans waiting at the same moment (./groups.ts). */
  apply(plan: PlanData): Promise<AppliedPlan>
  /** The group-commit executor behind `apply` (its counters are read by tests and the benchmark). */
  applier: GroupApplier
  /** What the write paths report (plans applied, jobs run, webhook deliveries): the metrics count it. */
  telemetry: Telemetry
  /** Transactions (`transaction`) running now, for the metrics. */
  readonly transactionsInFlight: number
  poolSize: number
  /**
   * PostgreSQL only (undefined on PGlite): streams the lines a query formats in SQL (one text column
   * per row) with COPY … TO STDOUT, in a REPEATABLE READ READ ONLY transaction of its own (./copy.ts).
   */
  copyLines?: (query: SQL, options?: CopyOptions) => Promise<Readable>
  close(): Promise<void>
}

export interface DatabaseOptions {
  url?: string
  dataDir: string
  poolSize: number
  /**
   * PostgreSQL only: a transaction that has not finished after this long is answered as a
   * failure (503) instead of waiting on, and the server ends a session left idle inside a
   * transaction as long (idle_in_transaction_session_timeout), releasing its locks and its
   * connection. Default 15 s.
   */
  transactionTimeoutMs?: number
  /**
   * PGlite, in memory or in a new data folder: start from this data directory (a `dumpDataDir()`
   * tarball) instead of creating an empty cluster. Creating one runs initdb, seconds of CPU; the
   * service on a new folder and the tests start from one migrated dump (./pglite-template.ts).
   */
  loadDataDir?: Blob
  /** Groups of plans in flight at once (./groups.ts); default the smaller of 4 and the pool. PGlite: 1. */
  applyInFlight?: number
}

/**
 * Plans per group at most: a group holds its locks until it commits, so it stays short, and each
 * plan is a subtransaction: PostgreSQL keeps up to 64 of a transaction's subtransaction ids in
 * shared memory, past which every snapshot in the server gets slower (subxid overflow).
 */
const MAX_GROUP = 32
/**
 * The one statement sent to a driver directly, beside drizzle: the group executor's call of
 * ll_apply. It is the hot path's only statement, prepared once per connection by its text.
 */
const APPLY_SQL = 'select ll_apply($1::jsonb, $2::boolean) as out'
const outcomesOf = (rows: { out: unknown }[]) => {
  const out = rows[0]?.out
  return (typeof out === 'string' ? JSON.parse(out) : out) as Awaited<ReturnType<GroupRunner>>
}

export const DEFAULT_TRANSACTION_TIMEOUT_MS = 15_000

/**
 * Seconds a pool connection waits before reconnecting after a failed attempt. postgres.js's
 * default grows with a failure count shared by the whole pool, up to 20 s: after a PostgreSQL
 * restart, where every connection fails a few times, a statement handed to a connection still
 * waiting out its delay waited up to 20 s while the server was back and other connections idle
 * (npm run chaos with CHAOS_RESTART_POSTGRES=1). Capped at 0.5 s: a down server answers fast
 * with ECONNREFUSED (503), so the retries cost little.
 */
export const reconnectBackoffSeconds = (failures: number) => Math.min(0.025 * 2 ** failures, 0.5)

export const drizzleOptions = { schema, casing: 'snake_case' as const }

/**
 * Both drivers return int8 and numeric as strings so that money never passes
 * through a JavaScript number; drizzle's bigint columns turn them into BigInt.
 */
export async function openDatabase(options: DatabaseOptions): Promise<Database> {
  if (options.url) {
    assertDriverRepaired()
    const timeoutMs = options.transactionTimeoutMs ?? DEFAULT_TRANSACTION_TIMEOUT_MS
    const raw = postgres(options.url, {
      max: options.poolSize,
      onnotice: () => {},
      backoff: reconnectBackoffSeconds,
      connection: { application_name: 'loyalty-ledger', idle_in_transaction_session_timeout: timeoutMs },
    })
    const client = preparedStatements(raw)
    const db = drizzlePostgres(client, drizzleOptions) as unknown as Executor
    const applier = new GroupApplier(
      (json, guarded) => withDeadline(timeoutMs, async () => outcomesOf(await raw.unsafe(APPLY_SQL, [json, guarded], { prepare: true }))),
      { maxInFlight: options.applyInFlight ?? Math.min(4, options.poolSize), maxGroup: MAX_GROUP },
    )
    const counted = inFlightCounter()
    return {
      applier,
      telemetry: counted.telemetry,
      apply: counted.apply(applier),
      db,
      kind: 'postgres',
      poolSize: options.poolSize,
      get transactionsInFlight() {
        return counted.transactions
      },
      transaction: (fn) => counted.run(() => withDeadline(timeoutMs, (inTime) => withCommitHooks(db, async (tx) => inTime(await fn(tx))))),
      copyLines: (query, copyOptions) => copyLines(raw, query, copyOptions),
      close: once(() => client.end({ timeout: 5 })),
    }
  }

  const inMemory = options.dataDir.startsWith('memory://')
  if (!inMemory) await mkdir(options.dataDir, { recursive: true })
  // Loaded only in embedded mode: with DATABASE_URL the process holds nothing of PGlite (issue 20, memory at rest).
  const [{ PGlite, types }, { drizzle: drizzlePglite }] = await Promise.all([import('@electric-sql/pglite'), import('drizzle-orm/pglite')])
  // One options object: PGlite ignores a second argument when the first is not a path.
  const client = new PGlite({
    dataDir: inMemory ? undefined : `${options.dataDir}/pgdata`,
    loadDataDir: options.loadDataDir,
    parsers: { [types.INT8]: (v: string) => v, [types.NUMERIC]: (v: string) => v },
  })
  await client.waitReady
  const db = drizzlePglite(client, drizzleOptions) as unknown as Executor
  const applier = new GroupApplier(async (json, guarded) => outcomesOf((await client.query<{ out: unknown }>(APPLY_SQL, [json, guarded])).rows), { maxInFlight: 1, maxGroup: MAX_GROUP })
  const counted = inFlightCounter()
  return {
    applier,
    telemetry: counted.telemetry,
    apply: counted.apply(applier),
    db,
    kind: 'pglite',
    poolSize: 1,
    get transactionsInFlight() {
      return counted.transactions
    },
    transaction: (fn) => counted.run(() => withCommitHooks(db, fn)),
    close: once(() => client.close()),
  }
}

/**
 * drizzle sends every query as an unnamed statement, so PostgreSQL parsed and planned each one
 * every time (visible in the purchase benchmark). postgres.js can prepare and reuse them per
 * connection by their text; this turns that on for every query drizzle sends, including those
 * inside transactions. The texts are the service's own SQL with parameters, so the set is bounded.
 */
function preparedStatements(sql: postgres.Sql): postgres.Sql {
  const wrap = (target: postgres.Sql | postgres.TransactionSql): postgres.Sql =>
    new Proxy(target, {
      get(t, property, receiver) {
        if (property === 'unsafe') {
          return (query: string, params?: unknown[], options?: postgres.UnsafeQueryOptions) =>
            (t as postgres.Sql).unsafe(query, params as postgres.ParameterOrJSON<never>[], { ...options, prepare: true })
        }
        if (property === 'begin') {
          return (...args: unknown[]) => {
            const fn = args[args.length - 1] as (tx: postgres.TransactionSql) => unknown
            return (t as postgres.Sql).begin(...(args.slice(0, -1) as [string]), (tx) => fn(wrap(tx) as unknown as postgres.TransactionSql))
          }
        }
        return Reflect.get(t, property, receiver)
      },
    }) as postgres.Sql
  return wrap(sql)
}

/** Counts the transactions running and reports each plan the executor applied. */
function inFlightCounter() {
  const telemetry = new Telemetry()
  const state = {
    telemetry,
    transactions: 0,
    async run<T>(fn: () => Promise<T>): Promise<T> {
      state.transactions++
      try {
        return await fn()
      } catch (err) {
        if ((err as { code?: unknown }).code === 'TRANSACTION_TIMEOUT') telemetry.emit('deadline')
        throw err
      } finally {
        state.transactions--
      }
    },
    apply: (applier: GroupApplier) => async (plan: PlanData) => {
      try {
        const applied = await applier.apply(plan)
        telemetry.emit('applied', plan)
        return applied
      } catch (err) {
        if ((err as { code?: unknown }).code === 'TRANSACTION_TIMEOUT') telemetry.emit('deadline')
        throw err
      }
    },
  }
  return state
}

/** Closing twice (a test, then the app's own hook) must not throw. */
function once(fn: () => Promise<void>): () => Promise<void> {
  let closing: Promise<void> | undefined
  return () => (closing ??= fn())
}

