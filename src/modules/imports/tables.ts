import { sql } from 'drizzle-orm'
import { bigint, check, foreignKey, index, integer, jsonb, pgTable, primaryKey, text, timestamp, unique, uuid } from 'drizzle-orm/pg-core'
import { programs } from '../programs/tables.js'

/**
 * A member import (POST /v1/members/imports): one per Idempotency-Key, its counts kept with the
 * rows each chunk wrote (the same plan adds to them), so they always match member_import_rows.
 */
export const memberImports = pgTable(
  'member_imports',
  {
    programId: uuid()
      .notNull()
      .references(() => programs.id),
    id: uuid().notNull(),
    idempotencyKey: text().notNull(),
    /** csv or ndjson. */
    format: text().notNull(),
    /** running, completed, failed (stopped by a limit or an unreadable file), interrupted (the upload broke off: the same key resumes it). */
    status: text().notNull(),
    /** The request processing it now: each chunk's plan expects it, so a request that took an import over stops the one it replaced. */
    runner: uuid().notNull(),
    /** Rows read so far (every data row has a member_import_rows row): a resumed import skips them. */
    rowsRead: integer().notNull().default(0),
    created: integer().notNull().default(0),
    updated: integer().notNull().default(0),
    unchanged: integer().notNull().default(0),
    refused: integer().notNull().default(0),
    pointsOpened: bigint({ mode: 'bigint' }).notNull().default(sql`0`),
    /** Minor units of the program's currency. */
    storedValueOpened: bigint({ mode: 'bigint' }).notNull().default(sql`0`),
    /** sha256 of the format and the file's bytes, once read whole: a retry with the key and another file is refused. */
    requestHash: text(),
    /** Why a failed import stopped: the problem document it answered. */
    problem: jsonb().$type<{ status: number; code: string; title: string; detail: string; [k: string]: unknown }>(),
    createdBy: text().notNull(),
    createdAt: timestamp({ withTimezone: true }).notNull().defaultNow(),
    /** Set by every chunk: a running import not updated for a while was abandoned (its request died) and may be taken over. */
    updatedAt: timestamp({ withTimezone: true }).notNull().defaultNow(),
    completedAt: timestamp({ withTimezone: true }),
  },
  (t) => [
    primaryKey({ name: 'member_imports_pkey', columns: [t.programId, t.id] }),
    unique('member_imports_program_key_key').on(t.programId, t.idempotencyKey),
    check('member_imports_status_check', sql`${t.status} in ('running', 'completed', 'failed', 'interrupted')`),
    check('member_imports_format_check', sql`${t.format} in ('csv', 'ndjson')`),
  ],
)

/** The result of each data row of an import: no personal data, only where it was, what happened and why. */
export const memberImportRows = pgTable(
  'member_import_rows',
  {
    programId: uuid().notNull(),
    importId: uuid().notNull(),
    /** 1-based among the file's data rows (a CSV header is not one). */
    rowNumber: integer().notNull(),
    /** The line of the file where the row starts. */
    line: integer().notNull(),
    /** created, updated, unchanged or refused. */
    status: text().notNull(),
    memberId: uuid(),
    /** Refused: VALIDATION_FAILED, CONFLICT, DUPLICATE_IN_FILE or MALFORMED_ROW. */
    code: text(),
    field: text(),
    message: text(),
  },
  (t) => [
    primaryKey({ name: 'member_import_rows_pkey', columns: [t.programId, t.importId, t.rowNumber] }),
    foreignKey({ name: 'member_import_rows_import_fkey', columns: [t.programId, t.importId], foreignColumns: [memberImports.programId, memberImports.id] }),
    // A member met again by a later row of the same import is a duplicate in the file.
    index('member_import_rows_member_idx').on(t.programId, t.importId, t.memberId).where(sql`member_id is not null`),
    check('member_import_rows_status_check', sql`${t.status} in ('created', 'updated', 'unchanged', 'refused')`),
  ],
)

export type MemberImportRow = typeof memberImports.$inferSelect
export type MemberImportRowResult = typeof memberImportRows.$inferSelect
