import { sql } from 'drizzle-orm'
import { queryRows, type Executor } from '../../db/client.js'
import { applyLots } from './lots.js'
import { pgErrorOf } from '../../shared/errors.js'
import type { AccountRef } from './accounts.js'
import { insufficientFunds } from './errors.js'
import type { EntryPlan } from './planner.js'
import { entryStep } from './entry-step.js'
import * as repo from './repository.js'

export interface PostedEntry {
  entryId: string
  postings: { account: AccountRef; amount: bigint; balanceAfter?: bigint }[]
}

/**
 * Writes one balanced entry inside the caller's transaction, in one round trip: the
 * ledger_post_entry function (migration 0006) creates missing accounts and updates member wallets
 * in ascending account-id order (one global lock order: no deadlock between entries) with guarded
 * debits, then inserts the entry and its postings. System accounts are never updated, so
 * concurrent purchases do not queue on them. The arithmetic stays here, in the pure planner.
 */
export async function postEntry(ex: Executor, programId: string, plan: EntryPlan, actor: string): Promise<PostedEntry> {
  const { step, entryId, planned, accountIds } = entryStep(programId, plan, actor)
  const { entry, accounts, postings } = step
  let rows: { seq: number; balance_after: string }[]
  try {
    rows = await queryRows<{ seq: number; balance_after: string }>(
      ex,
      sql`select seq, balance_after from ledger_post_entry(${programId}::uuid, ${JSON.stringify(entry)}::jsonb, ${JSON.stringify(accounts)}::jsonb, ${JSON.stringify(postings)}::jsonb, ${step.allowOverdraft}::boolean)`,
    )
    await applyLots(ex, programId, entryId, plan)
  } catch (err) {
    const pg = pgErrorOf(err)
    if (pg.code === 'LL100') throw insufficientFunds(/insufficient_funds:(\S+)/.exec(pg.message ?? '')?.[1] ?? 'POINTS')
    throw err
  }
  repo.rememberAccountsAfterCommit(ex, programId, accountIds)
  const after = new Map(rows.map((r) => [Number(r.seq), BigInt(r.balance_after)]))
  return { entryId, postings: planned.map((p) => ({ ...p, balanceAfter: after.get(p.seq) })) }
}
