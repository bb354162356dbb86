import type { PgDatabase, PgQueryResultHKT } from 'drizzle-orm/pg-core'
import { sql, type SQL } from 'drizzle-orm'
import type * as schema from './schema.js'

// What every database module shares: the executor type, raw rows, commit hooks and deadlines.
// client.ts (opening a database) and apply.ts build on this; it imports none of them.

export type Schema = typeof schema
/** The database or an open transaction: repositories accept either. */
export type Executor = PgDatabase<PgQueryResultHKT, Schema>

const commitHooks = new WeakMap<Executor, (() => void)[]>()

/** Runs `hook` once the transaction `tx` has committed; never if it rolls back or is not one of ours. */
export function afterCommit(tx: Executor, hook: () => void): void {
  commitHooks.get(tx)?.push(hook)
}

export async function withCommitHooks<T>(db: Executor, fn: (tx: Executor) => Promise<T>): Promise<T> {
  const hooks: (() => void)[] = []
  const result = await db.transaction(async (tx) => {
    commitHooks.set(tx as Executor, hooks)
    return fn(tx as Executor)
  })
  for (const hook of hooks) hook()
  return result
}

/**
 * Runs a transaction with a deadline: a connection lost at the wrong moment can leave one waiting
 * inside the driver forever, and a request must never hang. Past the deadline the caller gets a
 * TRANSACTION_TIMEOUT error (503) and the transaction can no longer commit: `inTime` throws
 * instead, so work still running rolls back. A client retrying with its Idempotency-Key then
 * does the work once.
 */
export type InTime = <V>(value?: V) => V

export function withDeadline<T>(ms: number, transaction: (inTime: InTime) => Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  let late: Error | undefined
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject((late = Object.assign(new Error(`transaction unfinished after ${ms} ms`), { code: 'TRANSACTION_TIMEOUT' }))), ms)
    timer.unref()
  })
  /** Passes `value` through while the deadline has not passed; throws the deadline's error after. */
  const inTime = (<V>(value: V): V => {
    if (late) throw late
    return value
  }) as InTime
  const work = transaction(inTime)
  work.catch(() => {}) // a failure after the deadline answered is nobody's to handle
  return Promise.race([work, deadline]).finally(() => clearTimeout(timer))
}

/** Rows of a raw query, whichever driver ran it (postgres.js returns an array, PGlite `{rows}`). */
export async function queryRows<T>(ex: Executor, query: SQL): Promise<T[]> {
  const result = (await ex.execute(query)) as unknown
  return (Array.isArray(result) ? result : (result as { rows: T[] }).rows) as T[]
}

export async function ping(ex: Executor): Promise<void> {
  await ex.execute(sql`select 1`)
}

/**
 * A row's version as a plan's LockStep names it (src/db/apply.ts): its xmin, the transaction that
 * wrote this version of the row, which every update changes and a lock does not.
 */
export const rowVersion = (table: unknown) => sql<string>`${table}.xmin::text`
