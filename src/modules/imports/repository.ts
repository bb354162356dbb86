import { and, asc, eq, gt, lt, or, sql, type SQL } from 'drizzle-orm'
import { queryRows, type Executor } from '../../db/client.js'
import type { KnownMember } from './decide.js'
import { memberImportRows, memberImports, type MemberImportRow } from './tables.js'

export async function findImport(ex: Executor, programId: string, importId: string): Promise<MemberImportRow | undefined> {
  const [row] = await ex
    .select()
    .from(memberImports)
    .where(and(eq(memberImports.programId, programId), eq(memberImports.id, importId)))
  return row
}

export async function findImportByKey(ex: Executor, programId: string, key: string): Promise<MemberImportRow | undefined> {
  const [row] = await ex
    .select()
    .from(memberImports)
    .where(and(eq(memberImports.programId, programId), eq(memberImports.idempotencyKey, key)))
  return row
}

/** The import's record, running under `runner`; undefined when another request took the key first. */
export async function insertImport(ex: Executor, row: typeof memberImports.$inferInsert): Promise<MemberImportRow | undefined> {
  const [created] = await ex.insert(memberImports).values(row).onConflictDoNothing().returning()
  return created
}

/**
 * Takes an import over for a new request: one that was interrupted, or left running by a request
 * that stopped writing before `abandonedBefore` (it died). Undefined when another took it first.
 */
export async function takeOver(ex: Executor, current: MemberImportRow, runner: string, abandonedBefore: Date): Promise<MemberImportRow | undefined> {
  const [row] = await ex
    .update(memberImports)
    .set({ runner, status: 'running', updatedAt: new Date() })
    .where(
      and(
        eq(memberImports.programId, current.programId),
        eq(memberImports.id, current.id),
        eq(memberImports.runner, current.runner),
        or(eq(memberImports.status, 'interrupted'), and(eq(memberImports.status, 'running'), lt(memberImports.updatedAt, abandonedBefore))),
      ),
    )
    .returning()
  return row
}

/** The upload broke off: the import waits for the same key to resume it (unless another request already took it). */
export async function markInterrupted(ex: Executor, programId: string, importId: string, runner: string): Promise<void> {
  await ex
    .update(memberImports)
    .set({ status: 'interrupted', updatedAt: new Date() })
    .where(and(eq(memberImports.programId, programId), eq(memberImports.id, importId), eq(memberImports.runner, runner), eq(memberImports.status, 'running')))
}

/** Whether another operation already answered under this Idempotency-Key. */
export async function keyAnsweredElsewhere(ex: Executor, programId: string, key: string): Promise<boolean> {
  const rows = await queryRows(ex, sql`select 1 from idempotency_keys where program_id = ${programId} and key = ${key}`)
  return rows.length > 0
}

type Raw = Record<string, unknown>

const known = (r: Raw): KnownMember => ({
  id: r.id as string,
  phone: (r.phone as string | null) ?? null,
  externalId: (r.external_id as string | null) ?? null,
  cardNumber: (r.card_number as string | null) ?? null,
  name: (r.name as string | null) ?? null,
  email: (r.email as string | null) ?? null,
  birthday: (r.birthday as string | null) ?? null,
  doNotContact: r.do_not_contact === true || r.do_not_contact === 't',
  smsMarketingConsent: r.sms_marketing_consent === true || r.sms_marketing_consent === 't',
  emailMarketingConsent: r.email_marketing_consent === true || r.email_marketing_consent === 't',
  updatedAt: r.updated_at as string,
  seen: r.seen === true || r.seen === 't',
})

/**
 * The members holding any of a chunk's keys (a member may come once per key it matches), and
 * whether an earlier chunk of the import met them. Each key is looked up on its unique index by a
 * lateral subquery, whatever the planner's statistics say: with a hash join over the program's
 * members, a chunk would cost more the larger the program.
 */
export async function membersByKeys(ex: Executor, programId: string, importId: string, keys: { externalIds: string[]; phones: string[]; cardNumbers: string[] }): Promise<KnownMember[]> {
  const by = (column: SQL, values: string[]) =>
    sql`select m.* from jsonb_array_elements_text(${JSON.stringify(values)}::jsonb) k(v)
          cross join lateral (
            select m.id, m.phone, m.external_id, m.card_number, m.name, m.email, m.birthday::text as birthday, m.do_not_contact,
                   m.sms_marketing_consent, m.email_marketing_consent, m.updated_at::text as updated_at,
                   exists (select 1 from member_import_rows r where r.program_id = m.program_id and r.import_id = ${importId} and r.member_id = m.id) as seen
              from members m where m.program_id = ${programId} and ${column} = k.v) m`
  const rows = await queryRows<Raw>(ex, sql`${by(sql`m.external_id`, keys.externalIds)} union all ${by(sql`m.phone`, keys.phones)} union all ${by(sql`m.card_number`, keys.cardNumbers)}`)
  const byId = new Map<string, KnownMember>()
  for (const r of rows) byId.set(r.id as string, known(r))
  return [...byId.values()]
}

export async function listImportRows(ex: Executor, programId: string, importId: string, status: string | undefined, afterRow: number | undefined, limit: number) {
  return ex
    .select()
    .from(memberImportRows)
    .where(
      and(
        eq(memberImportRows.programId, programId),
        eq(memberImportRows.importId, importId),
        status === undefined ? undefined : eq(memberImportRows.status, status),
        afterRow === undefined ? undefined : gt(memberImportRows.rowNumber, afterRow),
      ),
    )
    .orderBy(asc(memberImportRows.rowNumber))
    .limit(limit + 1)
}

/**
 * Refreshes the planner's statistics of the tables an import grows. A large load changes what the
 * best plan of every statement on them is, and without autovacuum (or before it runs) the
 * sessions keep plans made for the tables' earlier size: the ledger's per-posting checks then
 * scan a program's entries, and a chunk costs more the more members the import already wrote.
 */
export async function analyzeImportTables(ex: Executor): Promise<void> {
  await ex.execute(sql`analyze members, member_consent_events, member_import_rows, ledger_accounts, journal_entries, postings, points_lots, lot_movements`)
}
