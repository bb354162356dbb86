import { sql } from 'drizzle-orm'
import { check, jsonb, pgTable, primaryKey, text, timestamp, uuid } from 'drizzle-orm/pg-core'
import { programs } from '../programs/tables.js'

/** A segment filter as stored (saved-segments/filter.ts reads it; not imported here: schema.ts would import the SQL it builds). */
type StoredFilter = Record<string, unknown>

/** A saved segment: a named filter over the program's members, evaluated whenever it is read. */
export const segments = pgTable(
  'segments',
  {
    programId: uuid()
      .notNull()
      .references(() => programs.id),
    id: uuid().notNull(),
    name: text().notNull(),
    filter: jsonb().$type<StoredFilter>().notNull(),
    /** active, or archived (kept for the campaigns that name it; no new campaign). */
    status: text().notNull(),
    createdBy: text().notNull(),
    createdAt: timestamp({ withTimezone: true }).notNull().defaultNow(),
    archivedAt: timestamp({ withTimezone: true }),
  },
  (t) => [primaryKey({ name: 'segments_pkey', columns: [t.programId, t.id] }), check('segments_status_check', sql`${t.status} in ('active', 'archived')`)],
)

export type SegmentRow = typeof segments.$inferSelect
