import { sql } from 'drizzle-orm'
import { bigint, check, date, foreignKey, integer, pgTable, primaryKey, timestamp, uuid } from 'drizzle-orm/pg-core'
import { members } from '../members/tables.js'

/**
 * A member's birthday, celebrated: at most one row per member and year (the primary key), written
 * in the transaction that posts the bonus points. However often or late the birthday job runs,
 * a second grant for the same year finds this row and does nothing.
 */
export const birthdayRewards = pgTable(
  'birthday_rewards',
  {
    programId: uuid().notNull(),
    memberId: uuid().notNull(),
    year: integer().notNull(),
    /** The day it was celebrated (Feb 29 birthdays on Feb 28 in other years). */
    celebratedOn: date({ mode: 'string' }).notNull(),
    /** Points granted: the program's birthday bonus plus the member's tier bonus; 0 for a greeting alone. */
    points: bigint({ mode: 'bigint' }).notNull(),
    /** The ledger entry of the points; null when no points were granted. */
    entryId: uuid(),
    /** The asOf of the job run that granted it. */
    asOf: timestamp({ withTimezone: true }).notNull(),
    createdAt: timestamp({ withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    primaryKey({ name: 'birthday_rewards_pkey', columns: [t.programId, t.memberId, t.year] }),
    foreignKey({ name: 'birthday_rewards_member_fkey', columns: [t.programId, t.memberId], foreignColumns: [members.programId, members.id] }),
    check('birthday_rewards_points_check', sql`${t.points} >= 0`),
  ],
)

export type BirthdayRewardRow = typeof birthdayRewards.$inferSelect
