import { sql } from 'drizzle-orm'
import { afterCommit, queryRows, type Executor } from '../../db/client.js'
import { accountCode, accountId, isWallet, type AccountRef } from './accounts.js'

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
 * Accounts known to exist (committed): an entry skips creating them. An account is remembered only
 * after the transaction that ensured it commits, never before, since that creation could still roll
 * back. Skipping matters: INSERT ... ON CONFLICT on a wallet row another transaction is updating
 * waits for that transaction to end.
 */
const knownAccounts = new Set<string>()
const KNOWN_ACCOUNTS_LIMIT = 200_000

/** Creates the accounts if they are missing, in account-id order (the ledger's one lock order). */
export async function ensureAccounts(ex: Executor, programId: string, refs: AccountRef[]): Promise<void> {
  const rows = accountsToEnsure(programId, refs)
  if (rows.length === 0) return
  await ex.execute(sql`
    insert into ledger_accounts (program_id, id, code, type, asset, member_id, store_id, floor, tracks_balance)
    values ${sql.join(
      rows.map((a) => sql`(${programId}::uuid, ${a.id}::uuid, ${a.code}, ${a.type}, ${a.asset}, ${a.memberId}::uuid, ${a.storeId}, ${a.floor}::bigint, ${a.tracksBalance})`),
      sql`, `,
    )}
    on conflict do nothing`)
  rememberAccountsAfterCommit(ex, programId, rows.map((a) => a.id))
}

/** Accounts of an entry not yet known to exist, as ledger_post_entry takes them, in account-id order. */
export function accountsToEnsure(programId: string, refs: AccountRef[]) {
  const byId = new Map(refs.map((ref) => [accountId(programId, ref), ref]))
  return [...byId.entries()]
    .filter(([id]) => !knownAccounts.has(`${programId}/${id}`))
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([id, ref]) => {
      const wallet = isWallet(ref)
      return { id, code: accountCode(ref), type: ref.type, asset: ref.asset, memberId: ref.memberId ?? null, storeId: ref.storeId ?? null, floor: wallet ? '0' : null, tracksBalance: wallet }
    })
}

/** Accounts a transaction ensured exist for good once it commits. */
export function rememberAccountsAfterCommit(ex: Executor, programId: string, ids: string[]): void {
  if (ids.length === 0) return
  afterCommit(ex, () => rememberAccounts(programId, ids))
}

/** Accounts known to exist (a plan that ensured them has committed). */
export function rememberAccounts(programId: string, ids: string[]): void {
  if (knownAccounts.size > KNOWN_ACCOUNTS_LIMIT) knownAccounts.clear()
  for (const id of ids) knownAccounts.add(`${programId}/${id}`)
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
