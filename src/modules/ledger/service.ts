import type { Executor } from '../../db/client.js'
import { allInOrder, runnerOf, SqlRunner } from '../../db/pipeline.js'
import { applyLots, freeLots, releaseHoldLots, reserveHoldLots } from './lots.js'
import type { ReleasedLot } from './lot-plans.js'
import { notFound, pgErrorOf } from '../../shared/errors.js'
import { newId } from '../../shared/ids.js'
import { accountId, isMemberWallet, type AccountRef } from './accounts.js'
import { holdResolved, insufficientFunds } from './errors.js'
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

export interface HoldRecord {
  id: string
  accountId: string
  amount: bigint
  status: 'pending' | 'posted' | 'voided' | 'expired'
  expiresAt: string
}

/**
 * Reserves `amount` on a member wallet: available drops, posted does not move. One statement: the
 * hold row exists only if the reservation succeeded. A points hold also reserves its share of the
 * lots, soonest-expiring first (read behind the wallet's lock, so two holds never share a part).
 */
export async function placeHold(
  ex: Executor | SqlRunner,
  programId: string,
  wallet: AccountRef,
  amount: bigint,
  expiresAt: Date,
  reference: { type?: string; id?: string } = {},
): Promise<HoldRecord> {
  if (!isMemberWallet(wallet) || amount <= 0n) throw new RangeError('holds reserve a positive amount on a member wallet')
  const id = accountId(programId, wallet)
  const holdId = newId()
  const runner = runnerOf(ex)
  const placed = runner.run<{ id: string }>(
    `with reserved as (
       update ledger_accounts set debits_pending = debits_pending + $3::bigint
        where program_id = $1::uuid and id = $2::uuid and credits_posted - debits_posted - debits_pending - $3::bigint >= coalesce(floor, 0)
       returning id)
     insert into holds (program_id, id, account_id, amount, expires_at, reference_type, reference_id)
     select $1::uuid, $4::uuid, reserved.id, $3::bigint, $5::timestamptz, $6::text, $7::text from reserved
     returning id`,
    [programId, id, amount.toString(), holdId, expiresAt.toISOString(), reference.type ?? null, reference.id ?? null],
  )
  const points = wallet.type === 'member_points' ? freeLots(runner, programId, wallet.memberId!) : undefined
  const [rows, lots] = await allInOrder([placed, points] as const)
  if (rows.length === 0) throw insufficientFunds(wallet.asset)
  if (lots) await reserveHoldLots(runner, programId, holdId, lots, amount)
  return { id: holdId, accountId: id, amount, status: 'pending', expiresAt: expiresAt.toISOString() }
}

export interface ResolvedHold extends HoldRecord {
  /** The lots a points hold had reserved, as giving them back left them (empty for other assets). */
  lots: ReleasedLot[]
}

/**
 * Moves a pending hold to its final state exactly once (`status = 'pending'` in the WHERE:
 * a concurrent resolver waits on the row, then finds it resolved) and releases the reservation,
 * on the wallet and on the lots. A capture then takes its points with takeReserved(lots…); what
 * is left of due lots is expired by expireReleased (expiry.ts).
 */
export async function resolveHold(
  ex: Executor | SqlRunner,
  programId: string,
  holdId: string,
  status: 'posted' | 'voided' | 'expired',
  postedAmount?: bigint,
  postedEntryId?: string,
): Promise<ResolvedHold> {
  const runner = runnerOf(ex)
  const [row] = await runner.run(
    `update holds set status = $3, resolved_at = now(), posted_amount = $4::bigint, posted_entry_id = $5::uuid
      where program_id = $1::uuid and id = $2::uuid and status = 'pending'
  returning id, account_id, amount, status, expires_at`,
    [programId, holdId, status, postedAmount?.toString() ?? null, postedEntryId ?? null],
  )
  if (!row) {
    const [existing] = await runner.run<{ status: string }>('select status from holds where program_id = $1::uuid and id = $2::uuid', [programId, holdId])
    if (!existing) throw notFound('Hold')
    throw holdResolved(existing.status)
  }
  if (postedAmount !== undefined && (postedAmount < 0n || postedAmount > BigInt(row.amount!))) {
    throw new RangeError(`a hold of ${row.amount} cannot post ${postedAmount}`)
  }
  const [, lots] = await allInOrder([
    runner.run('update ledger_accounts set debits_pending = debits_pending - $3::bigint where program_id = $1::uuid and id = $2::uuid', [programId, row.account_id, row.amount]),
    releaseHoldLots(runner, programId, holdId),
  ] as const)
  return { id: row.id!, accountId: row.account_id!, amount: BigInt(row.amount!), status: status, expiresAt: new Date(row.expires_at!).toISOString(), lots }
}
