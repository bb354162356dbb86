import { sql } from 'drizzle-orm'
import { queryRows, type Executor } from '../../db/client.js'
import type { ChunkWriter } from '../../db/snapshot.js'
import { assetFormatter } from './amounts.js'
import { csvRecord } from './csv.js'

export interface AccountBalance {
  accountId: string
  code: string
  type: string
  asset: string
  memberId: string | null
  storeId: string | null
  /** Signed, credit positive, minor units or points. */
  balance: bigint
}

type Raw = Record<string, string | null>

const toBalance = (r: Raw): AccountBalance => ({
  accountId: r.id!,
  code: r.code!,
  type: r.type!,
  asset: r.asset!,
  memberId: r.member_id ?? null,
  storeId: r.store_id ?? null,
  balance: BigInt(r.balance!),
})

/**
 * Every account with a posting effective before `asOf`, with its balance then (numeric, credit
 * positive): id, code, type, asset, member_id, store_id, balance. System accounts have no running
 * totals: every balance here is summed from postings, wallets included, so it holds at any past
 * instant. Summed as all of an account's postings less those of entries effective at or after
 * `asOf` (found by the effective-time index; usually few): joining every posting to its entry for
 * its time cost more than the sums themselves.
 */
export const trialBalanceRows = (programId: string, asOf: Date) => sql`
  with total as (select account_id, sum(amount) as balance, count(*) as postings from postings where program_id = ${programId} group by account_id),
       late as (select p.account_id, sum(p.amount) as balance, count(*) as postings
                  from journal_entries e join postings p on p.program_id = e.program_id and p.entry_id = e.id
                 where e.program_id = ${programId} and e.effective_at >= ${asOf.toISOString()}::timestamptz
                 group by p.account_id)
  select a.id, a.code, a.type, a.asset, a.member_id, a.store_id, t.balance - coalesce(l.balance, 0) as balance
    from total t
    left join late l on l.account_id = t.account_id
    join ledger_accounts a on a.program_id = ${programId} and a.id = t.account_id
   where t.postings > coalesce(l.postings, 0)`

/** The balances of trialBalanceRows, ordered by asset, type and code. */
export async function trialBalance(tx: Executor, programId: string, asOf: Date): Promise<AccountBalance[]> {
  const rows = await queryRows<Raw>(
    tx,
    sql`select id, code, type, asset, member_id, store_id, balance::text as balance from (${trialBalanceRows(programId, asOf)}) b order by asset, type, code`,
  )
  return rows.map(toBalance)
}

export const TRIAL_BALANCE_PAGE = 1000

/**
 * The same, a page of accounts at a time by account id (keyset), for the CSV stream: a program's
 * member wallets are accounts too, so a large program has millions of them.
 */
export async function* trialBalancePages(tx: Executor, programId: string, asOf: Date, pageSize = TRIAL_BALANCE_PAGE): AsyncGenerator<AccountBalance[]> {
  let after: string | undefined
  for (;;) {
    const accounts = await queryRows<Raw>(
      tx,
      sql`select a.id, a.code, a.type, a.asset, a.member_id, a.store_id, t.balance::text as balance, t.postings
            from (select * from ledger_accounts
                   where program_id = ${programId} ${after ? sql`and id > ${after}::uuid` : sql``}
                   order by id limit ${pageSize}) a
            cross join lateral (
              select coalesce(sum(p.amount), 0) as balance, count(*) as postings
                from postings p
                join journal_entries e on e.program_id = p.program_id and e.id = p.entry_id
               where p.program_id = a.program_id and p.account_id = a.id and e.effective_at < ${asOf.toISOString()}::timestamptz) t
           order by a.id`,
    )
    if (accounts.length === 0) return
    yield accounts.filter((r) => String(r.postings) !== '0').map(toBalance)
    if (accounts.length < pageSize) return
    after = accounts[accounts.length - 1]!.id!
  }
}

export interface AssetTotal {
  asset: string
  accounts: number
  debit: bigint
  credit: bigint
  balance: bigint
}

/** Per asset: the sum of debit balances, of credit balances, and the net (zero in a balanced ledger). */
export function totalsByAsset(balances: Iterable<AccountBalance>, into = new Map<string, AssetTotal>()): Map<string, AssetTotal> {
  for (const b of balances) {
    let t = into.get(b.asset)
    if (!t) {
      t = { asset: b.asset, accounts: 0, debit: 0n, credit: 0n, balance: 0n }
      into.set(b.asset, t)
    }
    t.accounts += 1
    if (b.balance < 0n) t.debit += -b.balance
    else t.credit += b.balance
    t.balance += b.balance
  }
  return into
}

export const TRIAL_BALANCE_CSV_HEADER = ['account_id', 'account_code', 'account_type', 'asset', 'member_id', 'store_id', 'debit', 'credit', 'balance']

/** CSV: one record per account, then a TOTAL record per asset (debit and credit sums, net balance). */
export async function writeTrialBalanceCsv(tx: Executor, programId: string, asOf: Date, write: ChunkWriter): Promise<void> {
  const format = assetFormatter()
  const totals = new Map<string, AssetTotal>()
  let header = csvRecord(TRIAL_BALANCE_CSV_HEADER)
  for await (const page of trialBalancePages(tx, programId, asOf)) {
    totalsByAsset(page, totals)
    const records = page.map((b) =>
      csvRecord([
        b.accountId,
        b.code,
        b.type,
        b.asset,
        b.memberId,
        b.storeId,
        format(b.balance < 0n ? -b.balance : 0n, b.asset),
        format(b.balance > 0n ? b.balance : 0n, b.asset),
        format(b.balance, b.asset),
      ]),
    )
    await write(header + records.join(''))
    header = ''
  }
  const footer = [...totals.values()]
    .sort((a, b) => (a.asset < b.asset ? -1 : 1))
    .map((t) => csvRecord(['TOTAL', null, null, t.asset, null, null, format(t.debit, t.asset), format(t.credit, t.asset), format(t.balance, t.asset)]))
  await write(header + footer.join(''))
}
