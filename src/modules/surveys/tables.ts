import { sql } from 'drizzle-orm'
import { check, foreignKey, index, pgTable, primaryKey, smallint, text, timestamp, uuid } from 'drizzle-orm/pg-core'
import { members } from '../members/tables.js'

/** Net Promoter Score answers ("How likely are you to recommend us?", 0-10), one row per answer. */
export const npsResponses = pgTable(
  'nps_responses',
  {
    programId: uuid().notNull(),
    id: uuid().notNull(),
    memberId: uuid().notNull(),
    score: smallint().notNull(),
    comment: text(),
    /** Where the answer was given: pos, sms, email, web, app, phone, other. */
    channel: text().notNull(),
    /** When the member answered (a paper survey typed in later answers in the past). */
    respondedAt: timestamp({ withTimezone: true }).notNull(),
    recordedAt: timestamp({ withTimezone: true }).notNull().defaultNow(),
    recordedBy: text().notNull(),
  },
  (t) => [
    primaryKey({ name: 'nps_responses_pkey', columns: [t.programId, t.id] }),
    foreignKey({ name: 'nps_responses_member_fkey', columns: [t.programId, t.memberId], foreignColumns: [members.programId, members.id] }),
    index('nps_responses_program_responded_idx').on(t.programId, t.respondedAt),
    check('nps_responses_score_range', sql`${t.score} between 0 and 10`),
  ],
)

export type NpsResponseRow = typeof npsResponses.$inferSelect
