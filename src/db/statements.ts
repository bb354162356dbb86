import type { SQL } from 'drizzle-orm'
import { afterCommit, queryRows, type Executor } from './core.js'

/** Where a write goes: the database or a drizzle transaction (the one executor type, ./core.ts). */
export type WriteTarget = Executor

/** Runs a drizzle `sql` template on the target and resolves with its rows. */
export function runStatement<T>(target: WriteTarget, query: SQL): Promise<T[]> {
  return queryRows<T>(target, query)
}

/** Runs `hook` once the target's transaction has committed; never if it rolls back. */
export function onCommit(target: WriteTarget, hook: () => void): void {
  afterCommit(target, hook)
}
