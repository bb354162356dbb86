import type { SQL } from 'drizzle-orm'
import { PgDialect } from 'drizzle-orm/pg-core'
import { afterCommit, queryRows, type Executor } from './client.js'

/**
 * Anything that runs raw `$1`-style SQL inside an open transaction, e.g. a pipelined runner
 * (src/db/pipeline.ts) that sends a statement without waiting for the previous answers.
 */
export interface StatementRunner {
  run<T = Record<string, unknown>>(text: string, params?: unknown[]): Promise<T[]>
  afterCommit?(hook: () => void): void
}

/** Where a write goes: a drizzle transaction or a statement runner. */
export type WriteTarget = Executor | StatementRunner

export interface Statement {
  text: string
  params: unknown[]
}

const dialect = new PgDialect()

/** A drizzle `sql` template as statement text and parameters, for runners that take raw SQL. */
export function toStatement(query: SQL): Statement {
  const { sql, params } = dialect.sqlToQuery(query)
  return { text: sql, params }
}

const isRunner = (target: WriteTarget): target is StatementRunner => typeof (target as StatementRunner).run === 'function'

/** Sends the statement now (a pipelining runner does not wait for earlier answers) and resolves with its rows. */
export function runStatement<T>(target: WriteTarget, query: SQL): Promise<T[]> {
  if (isRunner(target)) {
    const { text, params } = toStatement(query)
    return target.run<T>(text, params)
  }
  return queryRows<T>(target, query)
}

/** Runs `hook` once the target's transaction has committed; never if it rolls back. */
export function onCommit(target: WriteTarget, hook: () => void): void {
  if (isRunner(target)) target.afterCommit?.(hook)
  else afterCommit(target, hook)
}
