import { sql } from 'drizzle-orm'
import { bigint, check, foreignKey, index, integer, pgTable, primaryKey, text, timestamp, unique, uuid } from 'drizzle-orm/pg-core'
import { members } from '../members/tables.js'
import { programs } from '../programs/tables.js'

/**
 * A promotion: what a coupon takes off, when, and how often. Its limits are counters guarded by
 * CHECK constraints, so concurrent redemptions cannot overshoot them: the row lock serialises
 * the updates and the constraint refuses the one that would cross the limit.
 */
export const couponCampaigns = pgTable(
  'coupon_campaigns',
  {
    programId: uuid()
      .notNull()
      .references(() => programs.id),
    id: uuid().notNull(),
    name: text().notNull(),
    /** percent | fixed */
    kind: text().notNull(),
    /** percent: the percentage as written ("10", "12.5"); null for fixed. */
    percentOff: text(),
    /** fixed: minor units taken off (capped at the amount); null for percent. */
    amountOff: bigint({ mode: 'bigint' }),
    /** The amount before coupons (after line and tier discounts) must reach this, in minor units. */
    minSpend: bigint({ mode: 'bigint' }).notNull().default(sql`0`),
    validFrom: timestamp({ withTimezone: true }).notNull(),
    /** Exclusive; null: no end. */
    validTo: timestamp({ withTimezone: true }),
    /** Copied onto each code (coupons.max_uses); null: unlimited. */
    maxUsesPerCode: integer(),
    /** Copied onto each member's counter (coupon_member_uses.max_uses); null: unlimited. */
    maxUsesPerMember: integer(),
    /** Total discount the campaign may give, in minor units; null: no budget. */
    budget: bigint({ mode: 'bigint' }),
    budgetUsed: bigint({ mode: 'bigint' }).notNull().default(sql`0`),
    /** Active redemptions (a full return or a void gives one back). */
    redemptions: bigint({ mode: 'bigint' }).notNull().default(sql`0`),
    /** shared: one code everybody types (shared_code); unique: generated codes, one per customer or mailing. */
    codeMode: text().notNull(),
    sharedCode: text(),
    /** active | archived */
    status: text().notNull().default('active'),
    createdAt: timestamp({ withTimezone: true }).notNull().defaultNow(),
    createdBy: text().notNull(),
    archivedAt: timestamp({ withTimezone: true }),
  },
  (t) => [
    primaryKey({ name: 'coupon_campaigns_pkey', columns: [t.programId, t.id] }),
    check(
      'coupon_campaigns_kind_check',
      sql`(${t.kind} = 'percent' and ${t.percentOff} is not null and ${t.amountOff} is null) or (${t.kind} = 'fixed' and ${t.amountOff} > 0 and ${t.percentOff} is null)`,
    ),
    check('coupon_campaigns_budget_check', sql`${t.budget} is null or ${t.budgetUsed} <= ${t.budget}`),
    check('coupon_campaigns_counters_check', sql`${t.budgetUsed} >= 0 and ${t.redemptions} >= 0 and ${t.minSpend} >= 0`),
    check(
      'coupon_campaigns_limits_check',
      sql`(${t.maxUsesPerCode} is null or ${t.maxUsesPerCode} > 0) and (${t.maxUsesPerMember} is null or ${t.maxUsesPerMember} > 0) and (${t.budget} is null or ${t.budget} > 0)`,
    ),
    check('coupon_campaigns_code_mode_check', sql`(${t.codeMode} = 'shared' and ${t.sharedCode} is not null) or (${t.codeMode} = 'unique' and ${t.sharedCode} is null)`),
    check('coupon_campaigns_status_check', sql`${t.status} in ('active', 'archived')`),
    check('coupon_campaigns_validity_check', sql`${t.validTo} is null or ${t.validTo} > ${t.validFrom}`),
  ],
)

/** Every code a customer can type: the shared code of a campaign, or one of its generated codes (optionally assigned to one member). */
export const coupons = pgTable(
  'coupons',
  {
    programId: uuid().notNull(),
    /** Upper case. */
    code: text().notNull(),
    campaignId: uuid().notNull(),
    /** Set for a coupon issued to one member (a birthday coupon): nobody else may use it. */
    memberId: uuid(),
    uses: integer().notNull().default(0),
    maxUses: integer(),
    issuedAt: timestamp({ withTimezone: true }).notNull().defaultNow(),
    issuedBy: text().notNull(),
    reason: text(),
  },
  (t) => [
    primaryKey({ name: 'coupons_pkey', columns: [t.programId, t.code] }),
    foreignKey({ name: 'coupons_campaign_fkey', columns: [t.programId, t.campaignId], foreignColumns: [couponCampaigns.programId, couponCampaigns.id] }),
    foreignKey({ name: 'coupons_member_fkey', columns: [t.programId, t.memberId], foreignColumns: [members.programId, members.id] }),
    index('coupons_campaign_idx').on(t.programId, t.campaignId, t.code),
    index('coupons_member_idx').on(t.programId, t.memberId),
    check('coupons_uses_check', sql`${t.maxUses} is null or ${t.uses} <= ${t.maxUses}`),
    check('coupons_uses_nonnegative_check', sql`${t.uses} >= 0`),
  ],
)

/** How often a member used a campaign with a per-member limit (no row for campaigns without one). */
export const couponMemberUses = pgTable(
  'coupon_member_uses',
  {
    programId: uuid().notNull(),
    campaignId: uuid().notNull(),
    memberId: uuid().notNull(),
    uses: integer().notNull(),
    maxUses: integer().notNull(),
  },
  (t) => [
    primaryKey({ name: 'coupon_member_uses_pkey', columns: [t.programId, t.campaignId, t.memberId] }),
    foreignKey({ name: 'coupon_member_uses_campaign_fkey', columns: [t.programId, t.campaignId], foreignColumns: [couponCampaigns.programId, couponCampaigns.id] }),
    check('coupon_member_uses_uses_check', sql`${t.uses} <= ${t.maxUses}`),
    check('coupon_member_uses_nonnegative_check', sql`${t.uses} >= 0`),
  ],
)

/** One coupon used by one purchase; released (counters given back) by a full return or a void. */
export const couponRedemptions = pgTable(
  'coupon_redemptions',
  {
    programId: uuid().notNull(),
    id: uuid().notNull(),
    purchaseId: uuid().notNull(),
    campaignId: uuid().notNull(),
    code: text().notNull(),
    memberId: uuid().notNull(),
    /** Minor units taken off the purchase. */
    discount: bigint({ mode: 'bigint' }).notNull(),
    /** active | released */
    status: text().notNull(),
    createdAt: timestamp({ withTimezone: true }).notNull().defaultNow(),
    releasedAt: timestamp({ withTimezone: true }),
  },
  (t) => [
    primaryKey({ name: 'coupon_redemptions_pkey', columns: [t.programId, t.id] }),
    unique('coupon_redemptions_purchase_campaign_key').on(t.programId, t.purchaseId, t.campaignId),
    foreignKey({ name: 'coupon_redemptions_coupon_fkey', columns: [t.programId, t.code], foreignColumns: [coupons.programId, coupons.code] }),
    index('coupon_redemptions_campaign_idx').on(t.programId, t.campaignId, t.createdAt),
    check('coupon_redemptions_status_check', sql`${t.status} in ('active', 'released')`),
    check('coupon_redemptions_discount_check', sql`${t.discount} >= 0`),
  ],
)

export type CouponCampaignRow = typeof couponCampaigns.$inferSelect
export type CouponRow = typeof coupons.$inferSelect
export type CouponRedemptionRow = typeof couponRedemptions.$inferSelect
