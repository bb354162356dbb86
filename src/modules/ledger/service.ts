import type { Executor } from '../../db/client.js'
import { allInOrder, runnerOf, SqlRunner } from '../../db/pipeline.js'
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
export async function postEntry(ex: Executor | SqlRunner, programId: string, plan: EntryPlan, actor: string): Promise<PostedEntry> {
  // Everything up to `run` is synchronous: a caller may issue further statements right after
  // calling this and have them pipelined behind it.
  const runner = runnerOf(ex)
  const { step, entryId, planned, accountIds } = entryStep(programId, plan, actor)
  const { entry, accounts, postings } = step
  let rows: { seq: number; balance_after: string }[]
  try {
    const posted = runner.run<{ seq: number; balance_after: string }>(
      'select seq, balance_after from ledger_post_entry($1::uuid, $2::jsonb, $3::jsonb, $4::jsonb, $5::boolean)',
      [programId, JSON.stringify(entry), JSON.stringify(accounts), JSON.stringify(postings), step.allowOverdraft],
    )
    ;[rows] = await allInOrder([posted, applyLots(runner, programId, entryId, plan)] as const)
  } catch (err) {
    const pg = pgErrorOf(err)
    if (pg.code === 'LL100') throw insufficientFunds(/insufficient_funds:(\S+)/.exec(pg.message ?? '')?.[1] ?? 'POINTS')
    throw err
  }
  repo.rememberAccountsAfterCommit(runner, programId, accountIds)
  const after = new Map(rows.map((r) => [Number(r.seq), BigInt(r.balance_after)]))
  return { entryId, postings: planned.map((p) => ({ ...p, balanceAfter: after.get(p.seq) })) }
}
