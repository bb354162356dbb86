import { and, eq, inArray, sql } from 'drizzle-orm'
import { queryRows, type Executor } from '../../db/client.js'
import { accountId, memberPoints, memberStoredValue } from './accounts.js'
import { verifyLots } from './lot-checks.js'
import { ledgerAccounts } from './tables.js'

export interface WalletBalance {
  balance: bigint
  pending: bigint
  available: bigint
}

const EMPTY: WalletBalance = { balance: 0n, pending: 0n, available: 0n }

export interface MemberBalances {
  points: WalletBalance
  storedValue: WalletBalance
}

/** Both wallets of a member. */
export async function memberBalances(ex: Executor, programId: string, memberId: string, currency: string): Promise<MemberBalances> {
  const pointsId = accountId(programId, memberPoints(memberId))
  const svId = accountId(programId, memberStoredValue(memberId, currency))
  const rows = await ex
    .select({ id: ledgerAccounts.id, balance: sql<string>`${ledgerAccounts.creditsPosted} - ${ledgerAccounts.debitsPosted}`, pending: ledgerAccounts.debitsPending })
    .from(ledgerAccounts)
    .where(and(eq(ledgerAccounts.programId, programId), inArray(ledgerAccounts.id, [pointsId, svId])))
  const wallet = (id: string): WalletBalance => {
    const row = rows.find((r) => r.id === id)
    if (!row) return EMPTY
    const balance = BigInt(row.balance)
    const pending = row.pending
    return { balance, pending, available: balance - pending }
  }
  return { points: wallet(pointsId), storedValue: wallet(svId) }
}

/**
 * The gift cards attached to a member, each with its own wallet's balance (docs/gift-cards.md), oldest
 * first. Read here, by the tables' names, because the gift-cards module depends on the ledger.
 */
export async function memberGiftCardBalances(ex: Executor, programId: string, memberId: string): Promise<{ id: string; codeLast4: string; currency: string; balance: bigint }[]> {
  const rows = await queryRows<{ id: string; code_last4: string; currency: string; balance: string }>(
    ex,
    sql`select g.id, g.code_last4, g.currency, coalesce(a.credits_posted - a.debits_posted - a.debits_pending, 0)::text as balance
          from gift_cards g
          left join ledger_accounts a on a.program_id = g.program_id and a.code = 'gift_card:' || g.id::text || ':' || g.currency
         where g.program_id = ${programId} and g.member_id = ${memberId}
         order by g.id`,
  )
  return rows.map((r) => ({ id: r.id, codeLast4: r.code_last4, currency: r.currency, balance: BigInt(r.balance) }))
}

/** Points of lots expiring within `days` of `now`, per expiry instant. */
export async function pointsExpiring(ex: Executor, programId: string, memberId: string, now: Date, days: number): Promise<{ expiresAt: Date; points: bigint }[]> {
  const rows = await queryRows<{ expires_at: Date | string; points: string }>(
    ex,
    sql`select expires_at, sum(remaining) as points from points_lots
         where program_id = ${programId} and member_id = ${memberId} and remaining > 0
           and expires_at > ${now.toISOString()} and expires_at <= ${new Date(now.getTime() + days * 86_400_000).toISOString()}
         group by expires_at order by expires_at`,
  )
  return rows.map((r) => ({ expiresAt: new Date(r.expires_at), points: BigInt(r.points) }))
}

export interface ActivityItem {
  entryId: string
  kind: string
  effectiveAt: string
  createdAt: string
  reason: string | null
  referenceType: string | null
  referenceId: string | null
  reversesEntryId: string | null
  points: bigint | null
  pointsAfter: bigint | null
  storedValue: bigint | null
  storedValueAfter: bigint | null
}

/** The member's entries, newest first (ids are time-ordered), with what each did to each wallet. */
export async function memberActivity(ex: Executor, programId: string, memberId: string, currency: string, limit: number, beforeEntryId?: string): Promise<ActivityItem[]> {
  const pointsId = accountId(programId, memberPoints(memberId))
  const svId = accountId(programId, memberStoredValue(memberId, currency))
  const rows = await queryRows<Record<string, string | null>>(
    ex,
    sql`select e.id, e.kind, e.effective_at, e.created_at, e.reason, e.reference_type, e.reference_id, e.reverses_entry_id,
               sum(p.amount) filter (where p.account_id = ${pointsId}) as points,
               max(p.balance_after) filter (where p.account_id = ${pointsId}) as points_after,
               sum(p.amount) filter (where p.account_id = ${svId}) as stored_value,
               max(p.balance_after) filter (where p.account_id = ${svId}) as stored_value_after
          from postings p
          join journal_entries e on e.program_id = p.program_id and e.id = p.entry_id
         where p.program_id = ${programId} and p.account_id in (${pointsId}, ${svId})
           ${beforeEntryId ? sql`and p.entry_id < ${beforeEntryId}` : sql``}
         group by e.program_id, e.id
         order by e.id desc
         limit ${limit + 1}`,
  )
  const big = (v: string | null | undefined) => (v === null || v === undefined ? null : BigInt(v))
  return rows.map((r) => ({
    entryId: r.id!,
    kind: r.kind!,
    effectiveAt: new Date(r.effective_at!).toISOString(),
    createdAt: new Date(r.created_at!).toISOString(),
    reason: r.reason ?? null,
    referenceType: r.reference_type ?? null,
    referenceId: r.reference_id ?? null,
    reversesEntryId: r.reverses_entry_id ?? null,
    points: big(r.points),
    pointsAfter: big(r.points_after),
    storedValue: big(r.stored_value),
    storedValueAfter: big(r.stored_value_after),
  }))
}

export type { Discrepancy } from './lot-checks.js'
import type { Discrepancy } from './lot-checks.js'

export interface VerifyReport {
  ok: boolean
  entries: number
  postings: number
  accounts: number
  pendingHolds: number
  assets: { asset: string; total: string }[]
  discrepancies: Discrepancy[]
}

/**
 * Recomputes everything the ledger promises from the postings themselves, in one snapshot:
 * every entry balances per asset and has postings, the whole ledger sums to zero per asset,
 * running totals equal the postings, pending totals equal the pending holds, no wallet is below
 * its floor unless a policy clawback put it there, and the points lots agree (verifyLots).
 */
export async function verifyLedger(ex: Executor, programId: string): Promise<VerifyReport> {
  const discrepancies: Discrepancy[] = []
  const add = (check: string, rows: Record<string, unknown>[], describe: (r: Record<string, unknown>) => string) => {
    for (const r of rows) discrepancies.push({ check, detail: describe(r) })
  }

  const [counts] = await queryRows<Record<string, string>>(
    ex,
    sql`select (select count(*) from journal_entries where program_id = ${programId}) as entries,
               (select count(*) from postings where program_id = ${programId}) as postings,
               (select count(*) from ledger_accounts where program_id = ${programId}) as accounts,
               (select count(*) from holds where program_id = ${programId} and status = 'pending') as pending_holds`,
  )

  add(
    'entry_balances',
    await queryRows(ex, sql`select entry_id, asset, sum(amount)::text as total from postings where program_id = ${programId} group by entry_id, asset having sum(amount) <> 0 limit 100`),
    (r) => `entry ${r.entry_id} sums to ${r.total} ${r.asset}`,
  )
  add(
    'entry_has_postings',
    await queryRows(
      ex,
      sql`select e.id from journal_entries e where e.program_id = ${programId}
            and not exists (select 1 from postings p where p.program_id = e.program_id and p.entry_id = e.id) limit 100`,
    ),
    (r) => `entry ${r.id} has no postings`,
  )
  const assets = await queryRows<{ asset: string; total: string }>(
    ex,
    sql`select asset, sum(amount)::text as total from postings where program_id = ${programId} group by asset order by asset`,
  )
  add('ledger_sums_to_zero', assets.filter((a) => a.total !== '0'), (r) => `all ${r.asset} postings sum to ${r.total}`)
  add(
    'running_totals',
    await queryRows(
      ex,
      sql`select a.code, a.debits_posted::text as debits, a.credits_posted::text as credits,
                 coalesce(sum(-p.amount) filter (where p.amount < 0), 0)::text as posted_debits,
                 coalesce(sum(p.amount) filter (where p.amount > 0), 0)::text as posted_credits
            from ledger_accounts a
            left join postings p on p.program_id = a.program_id and p.account_id = a.id
           where a.program_id = ${programId} and a.tracks_balance
           group by a.program_id, a.id
          having a.debits_posted <> coalesce(sum(-p.amount) filter (where p.amount < 0), 0)
              or a.credits_posted <> coalesce(sum(p.amount) filter (where p.amount > 0), 0)
           limit 100`,
    ),
    (r) => `${r.code}: stored debits/credits ${r.debits}/${r.credits}, postings say ${r.posted_debits}/${r.posted_credits}`,
  )
  add(
    'untracked_totals_untouched',
    await queryRows(
      ex,
      sql`select code from ledger_accounts where program_id = ${programId} and not tracks_balance
            and (debits_posted <> 0 or credits_posted <> 0 or debits_pending <> 0 or credits_pending <> 0) limit 100`,
    ),
    (r) => `${r.code}: a derived-balance account has running totals`,
  )
  add(
    'pending_totals',
    await queryRows(
      ex,
      sql`select a.code, a.debits_pending::text as stored, coalesce(sum(h.amount) filter (where h.status = 'pending'), 0)::text as held
            from ledger_accounts a
            left join holds h on h.program_id = a.program_id and h.account_id = a.id
           where a.program_id = ${programId} and a.tracks_balance
           group by a.program_id, a.id
          having a.debits_pending <> coalesce(sum(h.amount) filter (where h.status = 'pending'), 0)
           limit 100`,
    ),
    (r) => `${r.code}: pending ${r.stored}, pending holds sum to ${r.held}`,
  )
  add(
    'floors',
    await queryRows(
      ex,
      sql`select code, (credits_posted - debits_posted - debits_pending)::text as available, floor::text as floor
            from ledger_accounts
           where program_id = ${programId} and floor is not null and not overdrawn_by_policy
             and credits_posted - debits_posted - debits_pending < floor limit 100`,
    ),
    (r) => `${r.code}: available ${r.available} below floor ${r.floor}`,
  )
  add(
    'reversal_mirrors',
    await queryRows(
      ex,
      sql`select r.id as reversal, r.reverses_entry_id as original
            from journal_entries r
           where r.program_id = ${programId} and r.reverses_entry_id is not null
             and exists (
               select account_id, sum(amount) from (
                 select account_id, amount from postings where program_id = r.program_id and entry_id = r.reverses_entry_id
                 union all
                 select account_id, amount from postings where program_id = r.program_id and entry_id = r.id
               ) both_sides group by account_id having sum(amount) <> 0)
           limit 100`,
    ),
    (r) => `reversal ${r.reversal} does not mirror ${r.original}`,
  )
  discrepancies.push(...(await verifyLots(ex, programId)))

  return {
    ok: discrepancies.length === 0,
    entries: Number(counts!.entries),
    postings: Number(counts!.postings),
    accounts: Number(counts!.accounts),
    pendingHolds: Number(counts!.pending_holds),
    assets: assets.map((a) => ({ asset: a.asset, total: a.total })),
    discrepancies,
  }
}
