import type { PGlite, Transaction } from '@electric-sql/pglite'
import { sql, type SQL } from 'drizzle-orm'
import type postgres from 'postgres'
import { afterCommit, queryRows, type Executor, type InTime } from './core.js'

/**
 * Raw SQL (`$1`-style parameters) inside one transaction. Hot paths use it to send several
 * statements without waiting for each answer: on PostgreSQL they are pipelined, so BEGIN, the
 * statements issued together and COMMIT cost a round trip or two instead of one each.
 */
export abstract class SqlRunner {
  /** Sends a statement now; the answer arrives in order. A failed statement aborts the transaction. */
  abstract run<T = Record<string, string | null>>(text: string, params?: unknown[]): Promise<T[]>
  /** Runs `hook` once the transaction has committed; never if it rolls back. */
  abstract afterCommit(hook: () => void): void
}

/** Raw SQL through a drizzle executor (one statement at a time), for code paths already in a drizzle transaction. */
class ExecutorRunner extends SqlRunner {
  constructor(private readonly ex: Executor) {
    super()
  }
  run<T>(text: string, params: unknown[] = []): Promise<T[]> {
    return queryRows<T>(this.ex, toDrizzle(text, params))
  }
  afterCommit(hook: () => void): void {
    afterCommit(this.ex, hook)
  }
}

export const runnerOf = (ex: Executor | SqlRunner): SqlRunner => (ex instanceof SqlRunner ? ex : new ExecutorRunner(ex))

function toDrizzle(text: string, params: unknown[]): SQL {
  const parts = text.split(/\$(\d+)/)
  const chunks: SQL[] = []
  parts.forEach((part, i) => chunks.push(i % 2 === 0 ? sql.raw(part) : sql`${params[Number(part) - 1]}`))
  return sql.join(chunks)
}

/**
 * Waits for every answer of statements sent together, then returns them in order or throws the
 * first failure in that order (the statements after it only saw an aborted transaction).
 * Every promise is observed, so none is left rejected and unhandled.
 */
export async function allInOrder<T extends readonly unknown[]>(promises: T): Promise<{ -readonly [K in keyof T]: Awaited<T[K]> }> {
  const settled = await Promise.allSettled(promises)
  for (const s of settled) if (s.status === 'rejected') throw s.reason
  return settled.map((s) => (s as PromiseFulfilledResult<unknown>).value) as { -readonly [K in keyof T]: Awaited<T[K]> }
}

abstract class PipelineBase extends SqlRunner {
  protected readonly sent: Promise<unknown>[] = []
  protected readonly hooks: (() => void)[] = []
  afterCommit(hook: () => void): void {
    this.hooks.push(hook)
  }
  protected track<T>(p: Promise<T>): Promise<T> {
    this.sent.push(p)
    p.catch(() => {}) // observed by finish; callers may not await every statement
    return p
  }
  /** Throws the first statement that failed: the one that aborted the transaction (later ones fail with 25P02). */
  async finish(): Promise<void> {
    for (const outcome of await Promise.allSettled(this.sent)) if (outcome.status === 'rejected') throw outcome.reason
  }
  /** Waits until every statement sent has answered, whatever the answers. */
  async settle(): Promise<void> {
    await Promise.allSettled(this.sent)
  }
  committed(): void {
    for (const hook of this.hooks) hook()
  }
}

class PostgresPipeline extends PipelineBase {
  /** Set once the transaction has ended: a statement sent later would run outside it. */
  ended = false
  constructor(
    private readonly tx: postgres.TransactionSql,
    private readonly inTime: InTime,
  ) {
    super()
  }
  run<T>(text: string, params: unknown[] = []): Promise<T[]> {
    if (this.ended) return this.track(Promise.reject(new Error('statement sent after its transaction ended; not run')))
    try {
      this.inTime() // past the deadline: nothing more is sent
    } catch (late) {
      return this.track(Promise.reject(late))
    }
    const query = this.tx.unsafe(text, params as postgres.ParameterOrJSON<never>[], { prepare: true }).execute()
    return this.track(query as unknown as Promise<T[]>)
  }
}

class PgliteRunner extends PipelineBase {
  private chain: Promise<unknown> = Promise.resolve()
  constructor(private readonly tx: Transaction) {
    super()
  }
  // PGlite is in-process and serves one statement at a time: statements are chained, in order.
  run<T>(text: string, params: unknown[] = []): Promise<T[]> {
    const result = this.chain.then(() => this.tx.query<T>(text, params)).then((r) => r.rows)
    this.chain = result.catch(() => {})
    return this.track(result)
  }
}

/**
 * postgres.js's own transaction (its connection handling survives a dropped connection; a
 * reserved connection did not, see test/reliability/db-outage.test.ts). BEGIN is one round trip;
 * the statements `fn` sends go out together, and COMMIT leaves in the same write as those `fn`
 * did not wait for: PostgreSQL turns it into a rollback if one of them failed. `inTime` throws
 * once the caller stopped waiting (client.ts, withDeadline): no statement is sent after that.
 */
export async function pipelinedPostgres<T>(client: postgres.Sql, fn: (p: SqlRunner) => Promise<T>, inTime: InTime = ((v: unknown) => v) as InTime): Promise<T> {
  let pipeline: PostgresPipeline | undefined
  let value: T
  try {
    value = (await client.begin((tx) => fn((pipeline = new PostgresPipeline(tx, inTime))))) as T
  } finally {
    // Committed, rolled back or lost with its connection: `fn` may still be running (a lost
    // connection ends the transaction before `fn` returns), and must not send anything more.
    if (pipeline) pipeline.ended = true
  }
  // A statement `fn` did not wait for may have failed, turning COMMIT into a rollback.
  await pipeline!.finish()
  pipeline!.committed()
  return value
}

export async function pipelinedPglite<T>(client: PGlite, fn: (p: SqlRunner) => Promise<T>): Promise<T> {
  let runner: PgliteRunner | undefined
  const value = await client.transaction(async (tx) => {
    const r = (runner = new PgliteRunner(tx))
    try {
      const result = await fn(r)
      await r.finish()
      return result
    } catch (err) {
      await r.settle() // nothing may run after PGlite closes the transaction
      throw err
    }
  })
  runner!.committed()
  return value
}
