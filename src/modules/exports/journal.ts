import { sql } from 'drizzle-orm'
import { queryRows, type Executor } from '../../db/client.js'
import type { ChunkWriter } from '../../db/snapshot.js'
import type { Period } from '../../shared/period.js'
import { pad2, zonedParts } from '../../shared/zoned-time.js'
import { assetFormatter } from './amounts.js'
import { csvField, csvRecord } from './csv.js'

/** One posting of the journal as exported: amounts already in major units. */
export interface JournalLine {
  entryId: string
  seq: number
  kind: string
  effectiveAt: string
  effectiveAtLocal: string
  recordedAt: string
  accountId: string
  accountCode: string
  accountType: string
  memberId: string | null
  asset: string
  debit: string | null
  credit: string | null
  storeId: string | null
  referenceType: string | null
  referenceId: string | null
  reversesEntryId: string | null
  reason: string | null
}

/** CSV header and the order of every record; NDJSON uses the camelCase keys of JournalLine. */
export const JOURNAL_CSV_COLUMNS: readonly [string, keyof JournalLine][] = [
  ['entry_id', 'entryId'],
  ['seq', 'seq'],
  ['kind', 'kind'],
  ['effective_at_utc', 'effectiveAt'],
  ['effective_at_local', 'effectiveAtLocal'],
  ['recorded_at_utc', 'recordedAt'],
  ['account_id', 'accountId'],
  ['account_code', 'accountCode'],
  ['account_type', 'accountType'],
  ['member_id', 'memberId'],
  ['asset', 'asset'],
  ['debit', 'debit'],
  ['credit', 'credit'],
  ['store_id', 'storeId'],
  ['reference_type', 'referenceType'],
  ['reference_id', 'referenceId'],
  ['reverses_entry_id', 'reversesEntryId'],
  ['reason', 'reason'],
]

/** Entries per query: purchases post 2 to 6 postings, so a page is about 2,000 to 6,000 rows. */
export const JOURNAL_PAGE_ENTRIES = 1000

type RawLine = Record<string, string | null>

/**
 * The postings of entries effective in the period, in (effective time, entry id, seq) order, a page
 * of entries at a time by keyset: no server cursor (PGlite has none) and no OFFSET, so every page
 * costs the same and memory holds one page. Run it inside a snapshot (inSnapshot/streamSnapshot)
 * whose session time zone is UTC: timestamps come back as PostgreSQL's UTC text, whose exact value
 * (microseconds) is the keyset cursor, and are formatted here (converting to a named zone in SQL
 * cost about 5 µs a row). Postings and accounts are joined LATERAL, so they are index lookups per
 * entry whatever the statistics say: a hash join would read every posting of the program per page.
 */
export async function* journalPages(tx: Executor, programId: string, timezone: string, period: Period, pageEntries = JOURNAL_PAGE_ENTRIES): AsyncGenerator<JournalLine[]> {
  const format = assetFormatter()
  const local = localTimeFormatter(timezone)
  let after: { at: string; id: string } | undefined
  for (;;) {
    const rows = await queryRows<RawLine>(
      tx,
      sql`with page as (
            select id, kind, effective_at, created_at, store_id, reference_type, reference_id, reverses_entry_id, reason
              from journal_entries
             where program_id = ${programId}
               and effective_at >= ${period.from.toISOString()}::timestamptz and effective_at < ${period.to.toISOString()}::timestamptz
               ${after ? sql`and effective_at >= ${after.at}::timestamptz and (effective_at, id) > (${after.at}::timestamptz, ${after.id}::uuid)` : sql``}
             order by effective_at, id
             limit ${pageEntries})
          select page.id as entry_id, page.effective_at::text as effective_at, page.created_at::text as created_at, page.kind,
                 p.seq::text as seq, p.account_id, a.code, a.type, a.member_id, p.asset, p.amount::text as amount,
                 coalesce(a.store_id, page.store_id) as store_id, page.reference_type, page.reference_id, page.reverses_entry_id, page.reason
            from page
            cross join lateral (select seq, account_id, asset, amount from postings where program_id = ${programId} and entry_id = page.id) p
            cross join lateral (select code, type, member_id, store_id from ledger_accounts where program_id = ${programId} and id = p.account_id) a
           order by page.effective_at, page.id, p.seq`,
    )
    if (rows.length === 0) return
    yield rows.map((r) => {
      const amount = BigInt(r.amount!)
      const effective = utcTextToIso(r.effective_at!)
      return {
        entryId: r.entry_id!,
        seq: Number(r.seq),
        kind: r.kind!,
        effectiveAt: effective,
        effectiveAtLocal: local(effective),
        recordedAt: utcTextToIso(r.created_at!),
        accountId: r.account_id!,
        accountCode: r.code!,
        accountType: r.type!,
        memberId: r.member_id ?? null,
        asset: r.asset!,
        debit: amount < 0n ? format(-amount, r.asset!) : null,
        credit: amount > 0n ? format(amount, r.asset!) : null,
        storeId: r.store_id ?? null,
        referenceType: r.reference_type ?? null,
        referenceId: r.reference_id ?? null,
        reversesEntryId: r.reverses_entry_id ?? null,
        reason: r.reason ?? null,
      }
    })
    const last = rows[rows.length - 1]!
    if (new Set(rows.map((r) => r.entry_id)).size < pageEntries) return
    after = { at: last.effective_at!, id: last.entry_id! }
  }
}

/**
 * PostgreSQL's timestamptz text -> ISO 8601 UTC with milliseconds. The export's session is UTC
 * ("2025-06-05 03:00:00.123456+00" -> "2025-06-05T03:00:00.123Z"), so it is rearranged by position
 * (parsing and formatting Dates took most of the export's CPU); any other offset goes through Date.
 */
export function utcTextToIso(text: string): string {
  if (text.length >= 22 && text.endsWith('+00') && text[10] === ' ' && text[4] === '-') {
    const fraction = text[19] === '.' ? `${text.slice(20, -3)}00`.slice(0, 3) : '000'
    return `${text.slice(0, 10)}T${text.slice(11, 19)}.${fraction}Z`
  }
  const iso = text.replace(' ', 'T').replace(/([+-]\d\d)(?::?(\d\d))?$/, (_, h: string, m?: string) => `${h}:${m ?? '00'}`)
  const ms = Date.parse(iso)
  if (Number.isNaN(ms)) throw new Error(`not a timestamp: ${text}`)
  return new Date(ms).toISOString()
}

/**
 * ISO 8601 UTC ("2025-06-05T03:00:00.123Z") -> local time with its offset
 * ("2025-06-05T10:00:00.123+07:00"). The zone's offset is looked up once per quarter hour of UTC
 * (every zone changes offset on a quarter hour) and the local date, hour and minute once per UTC
 * minute; the journal is in time order, so a run of rows shares both. Offsets are whole minutes,
 * so the seconds are copied.
 */
export function localTimeFormatter(timezone: string): (utcIso: string) => string {
  let minute = ''
  let localMinute = ''
  let slot = Number.NaN
  let offset = 0
  let suffix = ''
  return (utcIso) => {
    const key = utcIso.slice(0, 16)
    if (key !== minute) {
      const ms = Date.parse(`${key}:00.000Z`)
      if (Math.floor(ms / 900_000) !== slot) {
        slot = Math.floor(ms / 900_000)
        const p = zonedParts(new Date(ms), timezone)
        offset = Date.UTC(p.year, p.month - 1, p.day, p.hour, p.minute, p.second) - ms
        const minutes = Math.abs(offset) / 60_000
        suffix = `${offset < 0 ? '-' : '+'}${pad2(Math.floor(minutes / 60))}:${pad2(minutes % 60)}`
      }
      minute = key
      localMinute = new Date(ms + offset).toISOString().slice(0, 16)
    }
    return `${localMinute}${utcIso.slice(16, 23)}${suffix}`
  }
}

export type JournalFormat = 'csv' | 'ndjson'

export const journalCsvHeader = () => csvRecord(JOURNAL_CSV_COLUMNS.map(([header]) => header))

/**
 * One posting as a CSV record or an NDJSON line. In CSV only the fields a person or a POS typed
 * (kind, codes holding store ids, store, references, reason) can need quoting: ids, times and
 * amounts are written as they are (the quoting test showed in the profile of a million rows).
 */
export function journalRecord(l: JournalLine, format: JournalFormat): string {
  if (format === 'ndjson') return `${JSON.stringify(l)}\n`
  const q = csvField
  return (
    `${l.entryId},${l.seq},${q(l.kind)},${l.effectiveAt},${l.effectiveAtLocal},${l.recordedAt},${l.accountId},${q(l.accountCode)},${q(l.accountType)},` +
    `${l.memberId ?? ''},${q(l.asset)},${l.debit ?? ''},${l.credit ?? ''},${q(l.storeId)},${q(l.referenceType)},${q(l.referenceId)},${l.reversesEntryId ?? ''},${q(l.reason)}\r\n`
  )
}

/** Writes the journal of the period: a CSV header row (even for an empty period), then one record per posting. */
export async function writeJournal(tx: Executor, programId: string, timezone: string, period: Period, format: JournalFormat, write: ChunkWriter): Promise<void> {
  let header = format === 'csv' ? journalCsvHeader() : ''
  for await (const page of journalPages(tx, programId, timezone, period)) {
    await write(header + page.map((line) => journalRecord(line, format)).join(''))
    header = ''
  }
  if (header) await write(header)
}
