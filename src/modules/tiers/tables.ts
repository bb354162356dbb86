import { index, pgTable, primaryKey, text, timestamp, uuid, bigint } from 'drizzle-orm/pg-core'

/** A member's current tier. No row: the member has not qualified for any tier yet. */
export const memberTiers = pgTable(
  'member_tiers',
  {
    programId: uuid().notNull(),
    memberId: uuid().notNull(),
    tierCode: text().notNull(),
    /** When the member reached this tier. */
    since: timestamp({ withTimezone: true }).notNull(),
    /** The tier is kept at least until then; the review job re-evaluates it afterwards. */
    guaranteedUntil: timestamp({ withTimezone: true }).notNull(),
    updatedAt: timestamp({ withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [primaryKey({ name: 'member_tiers_pkey', columns: [t.programId, t.memberId] }), index('member_tiers_review_idx').on(t.programId, t.guaranteedUntil)],
)

/** Every tier change, with why and the metric value that decided it. */
export const tierChanges = pgTable(
  'tier_changes',
  {
    programId: uuid().notNull(),
    id: uuid().notNull(),
    memberId: uuid().notNull(),
    fromTier: text(),
    toTier: text(),
    /** upgrade (a purchase crossed a threshold), review (the retention period ended), ... */
    reason: text().notNull(),
    metric: bigint({ mode: 'bigint' }).notNull(),
    at: timestamp({ withTimezone: true }).notNull(),
    purchaseId: uuid(),
  },
  (t) => [primaryKey({ name: 'tier_changes_pkey', columns: [t.programId, t.id] }), index('tier_changes_member_idx').on(t.programId, t.memberId, t.at)],
)
