import { sql } from 'drizzle-orm'
import { afterCommit, queryRows, type Executor } from '../../db/client.js'
import { accountCode, accountId, isMemberWallet, type AccountRef } from './accounts.js'
import type { EntryPlan, PlannedPosting } from './planner.js'

export interface AccountTotals {
  id: string
  code: string
  type: string
  asset: string
  memberId: string | null
  storeId: string | null
  debitsPosted: bigint
  creditsPosted: bigint
  debitsPending: bigint
  creditsPending: bigint
}

/**
 * Accounts known to exist (committed). An account is added only when an insert found it already
 * there, never when this transaction created it, since that creation could still roll back.
 * Skipping the insert matters: INSERT ... ON CONFLICT on a wallet row another transaction is
 * updating waits for that transaction to end.
 */
const knownAccounts = new Set<string>()
const KNOWN_ACCOUNTS_LIMIT = 200_000
/**
 * Accounts this transaction created itself: a later insert in the same transaction finds them
 * "already there", but they are not committed and must not be remembered (a rollback would leave
 * the cache pointing at nothing: every later posting to them would fail).
 */
const createdInTransaction = new WeakMap<Executor, Set<string>>()

/** Creates the accounts an entry needs if they are missing; an existing row is neither written nor locked. */
export async function ensureAccounts(ex: Executor, programId: string, allRefs: AccountRef[]): Promise<void> {
  // Missing accounts are inserted in account-id order, the one lock order of the ledger: two
  // first writes creating the same accounts in different orders would deadlock on each other.
  const byId = new Map(allRefs.map((ref) => [accountId(programId, ref), ref]))
  const refs = [...byId.entries()]
    .filter(([id]) => !knownAccounts.has(`${programId}/${id}`))
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([, ref]) => ref)
  if (refs.length === 0) return
  const values = refs.map((ref) => {
    const wallet = isMemberWallet(ref)
    return sql`(${programId}::uuid, ${accountId(programId, ref)}::uuid, ${accountCode(ref)}, ${ref.type}, ${ref.asset}, ${ref.memberId ?? null}::uuid, ${ref.storeId ?? null}, ${wallet ? '0' : null}::bigint, ${wallet})`
  })
  const created = await queryRows<{ id: string }>(
    ex,
    sql`insert into ledger_accounts (program_id, id, code, type, asset, member_id, store_id, floor, tracks_balance)
        values ${sql.join(values, sql`, `)}
        on conflict do nothing returning id`,
  )
  if (knownAccounts.size > KNOWN_ACCOUNTS_LIMIT) knownAccounts.clear()
  let mine = createdInTransaction.get(ex)
  if (!mine || mine.size > 10_000) createdInTransaction.set(ex, (mine = new Set()))
  for (const r of created) mine.add(r.id)
  for (const ref of refs) {
    const id = accountId(programId, ref)
    if (!mine.has(id)) knownAccounts.add(`${programId}/${id}`)
  }
  // Accounts created here are known once (and only if) this transaction commits.
  if (created.length > 0) afterCommit(ex, () => created.forEach((r) => knownAccounts.add(`${programId}/${r.id}`)))
}

/**
 * Applies a posting to a member wallet's running totals. A debit is guarded in the same
 * statement (no read-then-write): zero rows means the available balance does not cover it.
 * Returns the posted balance after, or undefined when refused.
 */
export async function applyWalletPosting(ex: Executor, programId: string, id: string, amount: bigint, allowOverdraft: boolean): Promise<bigint | undefined> {
  const magnitude = (amount < 0n ? -amount : amount).toString()
  const rows =
    amount < 0n
      ? await queryRows<{ balance: string }>(
          ex,
          sql`update ledger_accounts
                 set debits_posted = debits_posted + ${magnitude}::bigint,
                     overdrawn_by_policy = case
                       when credits_posted - debits_posted - ${magnitude}::bigint - debits_pending < floor then overdrawn_by_policy or ${allowOverdraft}
                       else false end
               where program_id = ${programId} and id = ${id}
                 and (${allowOverdraft} or floor is null or credits_posted - debits_posted - debits_pending - ${magnitude}::bigint >= floor)
           returning credits_posted - debits_posted as balance`,
        )
      : await queryRows<{ balance: string }>(
          ex,
          sql`update ledger_accounts
                 set credits_posted = credits_posted + ${magnitude}::bigint,
                     overdrawn_by_policy = overdrawn_by_policy and credits_posted + ${magnitude}::bigint - debits_posted - debits_pending < floor
               where program_id = ${programId} and id = ${id}
           returning credits_posted - debits_posted as balance`,
        )
  if (rows[0]) return BigInt(rows[0].balance)
  // A credit has no guard: no row means the account is missing, a bug, not a refusal.
  if (amount > 0n) throw new Error(`ledger account ${id} is missing`)
  return undefined
}

/**
 * The entry and all its postings in one statement (one round trip): the postings trigger checks the
 * balance per asset at the end of the statement, when the entry row is visible to it.
 */
export async function insertEntryWithPostings(
  ex: Executor,
  programId: string,
  entryId: string,
  plan: EntryPlan,
  createdBy: string,
  postings: (PlannedPosting & { balanceAfter?: bigint })[],
): Promise<void> {
  const values = postings.map(
    (p) =>
      sql`(${programId}::uuid, ${entryId}::uuid, ${p.seq}::smallint, ${accountId(programId, p.account)}::uuid, ${p.account.asset}, ${p.amount.toString()}::bigint, ${p.balanceAfter?.toString() ?? null}::bigint)`,
  )
  await ex.execute(sql`
    with entry as (
      insert into journal_entries (program_id, id, kind, effective_at, member_id, store_id, reason, reference_type, reference_id, reverses_entry_id, created_by, metadata)
      values (${programId}, ${entryId}, ${plan.kind}, ${plan.effectiveAt.toISOString()}, ${plan.memberId ?? null}, ${plan.storeId ?? null}, ${plan.reason ?? null},
              ${plan.referenceType ?? null}, ${plan.referenceId ?? null}, ${plan.reversesEntryId ?? null}, ${createdBy}, ${JSON.stringify(plan.metadata ?? {})}::jsonb)
    )
    insert into postings (program_id, entry_id, seq, account_id, asset, amount, balance_after)
    values ${sql.join(values, sql`, `)}`)
}

export async function findAccounts(ex: Executor, programId: string, ids: string[]): Promise<AccountTotals[]> {
  if (ids.length === 0) return []
  const rows = await queryRows<Record<string, string | null>>(
    ex,
    sql`select id, code, type, asset, member_id, store_id, debits_posted, credits_posted, debits_pending, credits_pending
          from ledger_accounts where program_id = ${programId} and id in (${sql.join(
            ids.map((id) => sql`${id}::uuid`),
            sql`, `,
          )})`,
  )
  return rows.map(toTotals)
}

export function toTotals(r: Record<string, string | null>): AccountTotals {
  return {
    id: r.id!,
    code: r.code!,
    type: r.type!,
    asset: r.asset!,
    memberId: r.member_id ?? null,
    storeId: r.store_id ?? null,
    debitsPosted: BigInt(r.debits_posted!),
    creditsPosted: BigInt(r.credits_posted!),
    debitsPending: BigInt(r.debits_pending!),
    creditsPending: BigInt(r.credits_pending!),
  }
}

export interface EntryRecord {
  id: string
  kind: string
  effectiveAt: string
  createdAt: string
  memberId: string | null
  storeId: string | null
  reason: string | null
  referenceType: string | null
  referenceId: string | null
  reversesEntryId: string | null
  reversedByEntryId: string | null
  createdBy: string
  metadata: Record<string, unknown>
  postings: { seq: number; accountId: string; code: string; type: string; asset: string; memberId: string | null; storeId: string | null; amount: bigint; balanceAfter: bigint | null }[]
}

export async function findEntry(ex: Executor, programId: string, entryId: string): Promise<EntryRecord | undefined> {
  const [e] = await queryRows<Record<string, unknown>>(
    ex,
    sql`select e.*, r.id as reversed_by
          from journal_entries e
          left join journal_entries r on r.program_id = e.program_id and r.reverses_entry_id = e.id
         where e.program_id = ${programId} and e.id = ${entryId}`,
  )
  if (!e) return undefined
  const ps = await queryRows<Record<string, string | null>>(
    ex,
    sql`select p.seq, p.account_id, a.code, a.type, p.asset, a.member_id, a.store_id, p.amount, p.balance_after
          from postings p join ledger_accounts a on a.program_id = p.program_id and a.id = p.account_id
         where p.program_id = ${programId} and p.entry_id = ${entryId}
         order by p.seq`,
  )
  const ts = (v: unknown) => new Date(v as string).toISOString()
  return {
    id: e.id as string,
    kind: e.kind as string,
    effectiveAt: ts(e.effective_at),
    createdAt: ts(e.created_at),
    memberId: (e.member_id as string | null) ?? null,
    storeId: (e.store_id as string | null) ?? null,
    reason: (e.reason as string | null) ?? null,
    referenceType: (e.reference_type as string | null) ?? null,
    referenceId: (e.reference_id as string | null) ?? null,
    reversesEntryId: (e.reverses_entry_id as string | null) ?? null,
    reversedByEntryId: (e.reversed_by as string | null) ?? null,
    createdBy: e.created_by as string,
    metadata: (typeof e.metadata === 'string' ? JSON.parse(e.metadata) : e.metadata) as Record<string, unknown>,
    postings: ps.map((p) => ({
      seq: Number(p.seq),
      accountId: p.account_id!,
      code: p.code!,
      type: p.type!,
      asset: p.asset!,
      memberId: p.member_id ?? null,
      storeId: p.store_id ?? null,
      amount: BigInt(p.amount!),
      balanceAfter: p.balance_after === null || p.balance_after === undefined ? null : BigInt(p.balance_after),
    })),
  }
}
