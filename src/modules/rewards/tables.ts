import { sql } from 'drizzle-orm'
import { bigint, boolean, check, foreignKey, index, integer, pgTable, primaryKey, text, timestamp, uuid } from 'drizzle-orm/pg-core'
import { couponCampaigns, coupons } from '../coupons/tables.js'
import { members } from '../members/tables.js'
import { programs } from '../programs/tables.js'

/**
 * A reward of the catalog: what a member gets for `points_price` points. Its stock is a counter
 * guarded by a CHECK, so concurrent redemptions of the last unit cannot overshoot it: the row lock
 * serialises the updates of a redemption's plan and the constraint refuses the one that would go
 * below zero (rewards_stock_check, answered as REWARD_OUT_OF_STOCK).
 */
export const rewards = pgTable(
  'rewards',
  {
    programId: uuid()
      .notNull()
      .references(() => programs.id),
    id: uuid().notNull(),
    name: text().notNull(),
    /** Points a redemption takes; fixed once created (a redemption's plan priced it as loaded). */
    pointsPrice: bigint({ mode: 'bigint' }).notNull(),
    /** Units left; null: unlimited. A redemption takes one, a cancellation gives it back. */
    stockLeft: bigint({ mode: 'bigint' }),
    /** Active redemptions (a cancellation gives one back). */
    redemptions: bigint({ mode: 'bigint' }).notNull().default(sql`0`),
    validFrom: timestamp({ withTimezone: true }).notNull(),
    /** Exclusive; null: no end. */
    validTo: timestamp({ withTimezone: true }),
    /** Copied onto each member's counter (reward_member_counts.max_redemptions); null: unlimited. */
    maxPerMember: integer(),
    /** coupon: a unique code of `campaign_id` issued to the member; item: the free item `sku`. */
    givesKind: text().notNull(),
    campaignId: uuid(),
    sku: text(),
    itemDescription: text(),
    /** false: not redeemable (paused or retired); redemptions already made stay and can be cancelled. */
    active: boolean().notNull().default(true),
    createdAt: timestamp({ withTimezone: true }).notNull().defaultNow(),
    createdBy: text().notNull(),
    updatedAt: timestamp({ withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    primaryKey({ name: 'rewards_pkey', columns: [t.programId, t.id] }),
    foreignKey({ name: 'rewards_campaign_fkey', columns: [t.programId, t.campaignId], foreignColumns: [couponCampaigns.programId, couponCampaigns.id] }),
    check('rewards_price_check', sql`${t.pointsPrice} > 0`),
    check('rewards_stock_check', sql`${t.stockLeft} is null or ${t.stockLeft} >= 0`),
    check('rewards_redemptions_check', sql`${t.redemptions} >= 0`),
    check('rewards_limit_check', sql`${t.maxPerMember} is null or ${t.maxPerMember} > 0`),
    check('rewards_validity_check', sql`${t.validTo} is null or ${t.validTo} > ${t.validFrom}`),
    check(
      'rewards_gives_check',
      sql`(${t.givesKind} = 'coupon' and ${t.campaignId} is not null and ${t.sku} is null and ${t.itemDescription} is null) or (${t.givesKind} = 'item' and ${t.sku} is not null and ${t.campaignId} is null)`,
    ),
  ],
)

/** How often a member holds a reward with a per-member limit (no row for rewards without one). */
export const rewardMemberCounts = pgTable(
  'reward_member_counts',
  {
    programId: uuid().notNull(),
    rewardId: uuid().notNull(),
    memberId: uuid().notNull(),
    /** Active redemptions of the member (a cancellation gives one back). */
    redemptions: integer().notNull(),
    maxRedemptions: integer().notNull(),
  },
  (t) => [
    primaryKey({ name: 'reward_member_counts_pkey', columns: [t.programId, t.rewardId, t.memberId] }),
    foreignKey({ name: 'reward_member_counts_reward_fkey', columns: [t.programId, t.rewardId], foreignColumns: [rewards.programId, rewards.id] }),
    check('reward_member_counts_limit_check', sql`${t.redemptions} <= ${t.maxRedemptions}`),
    check('reward_member_counts_nonnegative_check', sql`${t.redemptions} >= 0`),
  ],
)

/** One reward taken by one member for points: the debit entry, what it gave, and its cancellation. */
export const rewardRedemptions = pgTable(
  'reward_redemptions',
  {
    programId: uuid().notNull(),
    id: uuid().notNull(),
    rewardId: uuid().notNull(),
    memberId: uuid().notNull(),
    /** The reward's name when redeemed (a later rename does not change what the member got). */
    rewardName: text().notNull(),
    points: bigint({ mode: 'bigint' }).notNull(),
    /** The reward_redemption entry: member points to points redeemed. */
    entryId: uuid().notNull(),
    givesKind: text().notNull(),
    /** The coupon issued to the member (givesKind coupon). */
    couponCode: text(),
    campaignId: uuid(),
    sku: text(),
    itemDescription: text(),
    /** active | cancelled */
    status: text().notNull(),
    createdAt: timestamp({ withTimezone: true }).notNull().defaultNow(),
    createdBy: text().notNull(),
    cancelledAt: timestamp({ withTimezone: true }),
    /** The reward_cancellation entry that gave the points back (it reverses entry_id). */
    cancellationEntryId: uuid(),
  },
  (t) => [
    primaryKey({ name: 'reward_redemptions_pkey', columns: [t.programId, t.id] }),
    foreignKey({ name: 'reward_redemptions_reward_fkey', columns: [t.programId, t.rewardId], foreignColumns: [rewards.programId, rewards.id] }),
    foreignKey({ name: 'reward_redemptions_member_fkey', columns: [t.programId, t.memberId], foreignColumns: [members.programId, members.id] }),
    foreignKey({ name: 'reward_redemptions_coupon_fkey', columns: [t.programId, t.couponCode], foreignColumns: [coupons.programId, coupons.code] }),
    index('reward_redemptions_member_idx').on(t.programId, t.memberId, t.id),
    check('reward_redemptions_status_check', sql`${t.status} in ('active', 'cancelled')`),
    check('reward_redemptions_points_check', sql`${t.points} > 0`),
    check('reward_redemptions_gives_check', sql`(${t.givesKind} = 'coupon' and ${t.couponCode} is not null) or (${t.givesKind} = 'item' and ${t.sku} is not null)`),
  ],
)

export type RewardRow = typeof rewards.$inferSelect
export type RewardRedemptionRow = typeof rewardRedemptions.$inferSelect
