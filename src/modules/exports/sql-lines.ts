import { sql, type SQL } from 'drizzle-orm'
import cc from 'currency-codes'
import { currencyExponent } from '../../shared/money.js'
import type { Period } from '../../shared/period.js'
import { journalCsvHeader, type JournalFormat } from './journal.js'
import { TRIAL_BALANCE_CSV_HEADER, trialBalanceRows } from './trial-balance.js'
import { csvRecord } from './csv.js'

// The PostgreSQL fast path of the exports: each line is formatted by the database, byte for byte
// as the TypeScript formatters write it (journal.ts, csv.ts, amounts.ts; test/integration/exports/
// golden.test.ts compares both with committed files), and streamed with COPY (src/db/copy.ts).
// The text holds no backslash (COPY's text is checked for one): CR and LF are chr(13) and chr(10).

const CRLF = sql.raw('chr(13) || chr(10)')

/**
 * csvField: the text as it is, or enclosed in double quotes with inner quotes doubled when it holds
 * a comma, a quote, CR or LF; NULL stays NULL. strpos rather than a regular expression: the journal
 * tests five fields per entry, and the four strpos took about a tenth less of the COPY's time.
 */
const csvText = (x: SQL) =>
  sql`case when strpos(${x}, ',') + strpos(${x}, '"') + strpos(${x}, chr(13)) + strpos(${x}, chr(10)) > 0 then '"' || replace(${x}, '"', '""') || '"' else ${x} end`
/** The same, an empty field for NULL. */
const csvOrEmpty = (x: SQL) => sql`coalesce(${csvText(x)}, '')`
/** JSON.stringify of a string or null: PostgreSQL escapes strings as JSON does (quote, backslash, control characters as \b \f \n \r \t or \u00xx). */
const jsonText = (x: SQL) => sql`coalesce(to_json(${x})::text, 'null')`
/** An id or a number as a JSON string, or null. */
const jsonQuoted = (x: SQL) => sql`coalesce('"' || ${x} || '"', 'null')`
const utcIso = (x: SQL) => sql`to_char(${x} at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`
/** In the session's time zone (the program's, set for the COPY's transaction), with its offset: localTimeFormatter. */
const localIso = (x: SQL) => sql`to_char(${x}, 'YYYY-MM-DD"T"HH24:MI:SS.MSTZH:TZM')`

/**
 * Every asset whose amounts have decimals, with its exponent, as the TypeScript formatter finds it
 * (POINTS and unknown codes: 0): a VALUES list the queries join by asset.
 */
let exponentsValues: SQL | undefined
function assetExponents(): SQL {
  exponentsValues ??= sql.raw(
    `(values ${cc
      .codes()
      .map((code) => [code, currencyExponent(code) ?? 0] as const)
      .filter(([code, exp]) => exp > 0 && /^[A-Z]{3}$/.test(code))
      .map(([code, exp]) => `('${code}', ${exp})`)
      .join(', ')}) as x(asset, exp)`,
  )
  return exponentsValues
}

/** formatMinorUnits of a non-negative amount with exponent `e` and unit 10^e. */
const majorUnits = (v: SQL, e: SQL, unit: SQL) => sql`case when ${e} = 0 then ${v}::text else div(${v}, ${unit})::text || '.' || lpad(mod(${v}, ${unit})::text, ${e}, '0') end`
/** formatMinorUnits of any amount. */
const signedMajorUnits = (v: SQL, e: SQL, unit: SQL) => sql`case when ${v} < 0 then '-' else '' end || ${majorUnits(sql`abs(${v})`, e, unit)}`

/**
 * The journal of the period, one line per posting (journalRecord), in (effective time, entry id,
 * seq) order. The plan walks the entries by the (program, effective_at) index, each entry's postings
 * by the primary key and its accounts by key (memoized: a program's wallets repeat), so the order
 * needs no sort of the result and nothing waits for the whole result before the first line. Entry
 * fields are formatted once per entry, account fields once per account.
 */
export function journalLinesQuery(programId: string, period: Period, format: JournalFormat): SQL {
  const csv = format === 'csv'
  const e = (column: string) => sql.raw(`e.${column}`)
  const a = (column: string) => sql.raw(`a.${column}`)
  const entry = csv
    ? sql`e.id::text || ',' as head,
          ',' || ${csvText(e('kind'))} || ',' || ${utcIso(e('effective_at'))} || ',' || ${localIso(e('effective_at'))} || ',' || ${utcIso(e('created_at'))} || ',' as mid,
          ${csvText(e('store_id'))} as store,
          ',' || ${csvOrEmpty(e('reference_type'))} || ',' || ${csvOrEmpty(e('reference_id'))} || ',' || coalesce(e.reverses_entry_id::text, '') || ',' || ${csvOrEmpty(e('reason'))} || ${CRLF} as tail`
    : sql`'{"entryId":"' || e.id::text || '","seq":' as head,
          ',"kind":' || ${jsonText(e('kind'))} || ',"effectiveAt":"' || ${utcIso(e('effective_at'))} || '","effectiveAtLocal":"' || ${localIso(e('effective_at'))} ||
            '","recordedAt":"' || ${utcIso(e('created_at'))} || '","accountId":"' as mid,
          to_json(e.store_id)::text as store,
          ',"referenceType":' || ${jsonText(e('reference_type'))} || ',"referenceId":' || ${jsonText(e('reference_id'))} ||
            ',"reversesEntryId":' || ${jsonQuoted(sql`e.reverses_entry_id::text`)} || ',"reason":' || ${jsonText(e('reason'))} || '}' || chr(10) as tail`
  const account = csv
    ? sql`a.id::text || ',' || ${csvText(a('code'))} || ',' || ${csvText(a('type'))} || ',' || coalesce(a.member_id::text, '') || ',' || ${csvText(a('asset'))} || ',' as text,
          ${csvText(a('store_id'))} as store`
    : sql`a.id::text || '","accountCode":' || ${jsonText(a('code'))} || ',"accountType":' || ${jsonText(a('type'))} || ',"memberId":' || ${jsonQuoted(sql`a.member_id::text`)} ||
            ',"asset":' || ${jsonText(a('asset'))} || ',"debit":' as text,
          to_json(a.store_id)::text as store`
  const debit = majorUnits(sql`(-p.amount)`, sql`acc.exp`, sql`acc.unit`)
  const credit = majorUnits(sql`p.amount`, sql`acc.exp`, sql`acc.unit`)
  const amounts = csv
    ? sql`case when p.amount < 0 then ${debit} else '' end || ',' || case when p.amount > 0 then ${credit} else '' end || ',' || coalesce(acc.store, ent.store, '')`
    : sql`coalesce('"' || case when p.amount < 0 then ${debit} end || '"', 'null') || ',"credit":' || coalesce('"' || case when p.amount > 0 then ${credit} end || '"', 'null') ||
          ',"storeId":' || coalesce(acc.store, ent.store, 'null')`
  return sql`select ent.head || p.seq::text || ent.mid || acc.text || ${amounts} || ent.tail
    from (select e.id, e.effective_at, ${entry}
            from journal_entries e
           where e.program_id = ${programId} and e.effective_at >= ${period.from.toISOString()}::timestamptz and e.effective_at < ${period.to.toISOString()}::timestamptz
           order by e.effective_at, e.id) ent
    cross join lateral (select p.seq, p.account_id, p.amount from postings p where p.program_id = ${programId} and p.entry_id = ent.id offset 0) p
    cross join lateral (
      select ${account}, coalesce(x.exp, 0) as exp, (10::numeric ^ coalesce(x.exp, 0))::bigint as unit
        from ledger_accounts a left join ${assetExponents()} on x.asset = a.asset
       where a.program_id = ${programId} and a.id = p.account_id
      offset 0) acc
   order by ent.effective_at, ent.id, p.seq`
}

/** What the COPY of the journal writes first: the CSV header (NDJSON has none). */
export const journalHead = (format: JournalFormat) => (format === 'csv' ? journalCsvHeader() : '')

/**
 * The settings of the journal's COPY: local times in the program's zone; one process (the plan is a
 * walk in order, which workers would only sort again); no JIT (compiling the expressions of a
 * million-row estimate took longer than the first lines).
 */
export const journalSettings = (timezone: string) => ({ TimeZone: timezone, max_parallel_workers_per_gather: '0', jit: 'off' })

/**
 * The trial balance CSV (writeTrialBalanceCsv): one record per account with a posting effective
 * before `asOf`, by account id, then a TOTAL record per asset (debit and credit sums, net).
 */
export function trialBalanceLinesQuery(programId: string, asOf: Date): SQL {
  const field = (x: SQL) => csvOrEmpty(x)
  const money = (v: SQL) => signedMajorUnits(v, sql`exp`, sql`unit`)
  return sql`with bal as (${trialBalanceRows(programId, asOf)}),
    rows as (select b.*, coalesce(x.exp, 0) as exp, (10::numeric ^ coalesce(x.exp, 0))::bigint as unit from bal b left join ${assetExponents()} on x.asset = b.asset)
    select line from (
      select 0 as part, id::text as k,
             id::text || ',' || ${field(sql`code`)} || ',' || ${field(sql`type`)} || ',' || ${field(sql`asset`)} || ',' || coalesce(member_id::text, '') || ',' || ${field(sql`store_id`)} || ',' ||
             ${money(sql`greatest(-balance, 0)`)} || ',' || ${money(sql`greatest(balance, 0)`)} || ',' || ${money(sql`balance`)} || ${CRLF} as line
        from rows
      union all
      select 1, asset, 'TOTAL,,,' || ${field(sql`asset`)} || ',,,' || ${money(sql`sum(greatest(-balance, 0))`)} || ',' || ${money(sql`sum(greatest(balance, 0))`)} || ',' || ${money(sql`sum(balance)`)} || ${CRLF}
        from rows group by asset, exp, unit) lines
   order by part, k collate "C"`
}

export const trialBalanceHead = () => csvRecord(TRIAL_BALANCE_CSV_HEADER)
