import { sql } from 'drizzle-orm'
import { bigint, check, foreignKey, index, pgTable, primaryKey, timestamp, uuid } from 'drizzle-orm/pg-core'
import { members } from '../members/tables.js'

/**
 * A referral, rewarded: at most one row per referred member (the primary key), written in the
 * transaction of the first purchase with the bonus entry. Concurrent first purchases race on
 * the key; the loser finds the row and gives nothing.
 */
export const referralRewards = pgTable(
  'referral_rewards',
  {
    programId: uuid().notNull(),
    refereeId: uuid().notNull(),
    referrerId: uuid().notNull(),
    /** The purchase that earned the reward. */
    purchaseId: uuid().notNull(),
    /** The one bonus entry crediting both members; null when the rules gave 0 points to both. */
    entryId: uuid(),
    refereePoints: bigint({ mode: 'bigint' }).notNull(),
    referrerPoints: bigint({ mode: 'bigint' }).notNull(),
    createdAt: timestamp({ withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    primaryKey({ name: 'referral_rewards_pkey', columns: [t.programId, t.refereeId] }),
    foreignKey({ name: 'referral_rewards_referee_fkey', columns: [t.programId, t.refereeId], foreignColumns: [members.programId, members.id] }),
    foreignKey({ name: 'referral_rewards_referrer_fkey', columns: [t.programId, t.referrerId], foreignColumns: [members.programId, members.id] }),
    index('referral_rewards_referrer_idx').on(t.programId, t.referrerId),
    check('referral_rewards_points_check', sql`${t.refereePoints} >= 0 and ${t.referrerPoints} >= 0`),
  ],
)

export type ReferralRewardRow = typeof referralRewards.$inferSelect
