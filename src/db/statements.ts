import type { SQL } from 'drizzle-orm'
import { PgDialect } from 'drizzle-orm/pg-core'
import { queryRows, type Executor } from './client.js'
import { runnerOf, SqlRunner } from './pipeline.js'

/** Where a write goes: a drizzle transaction, or a SqlRunner that may pipeline (src/db/pipeline.ts). */
export type WriteTarget = Executor | SqlRunner

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

/** Sends the statement now (a pipelining runner does not wait for earlier answers) and resolves with its rows. */
export function runStatement<T>(target: WriteTarget, query: SQL): Promise<T[]> {
  if (target instanceof SqlRunner) {
    const { text, params } = toStatement(query)
    return target.run<T>(text, params)
  }
  return queryRows<T>(target, query)
}

/** Runs `hook` once the target's transaction has committed; never if it rolls back. */
export function onCommit(target: WriteTarget, hook: () => void): void {
  runnerOf(target).afterCommit(hook)
}
