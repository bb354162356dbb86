import { sql } from 'drizzle-orm'
import { bigint, index, jsonb, pgTable, primaryKey, text, timestamp, uniqueIndex, uuid } from 'drizzle-orm/pg-core'
import { programs } from '../programs/tables.js'
import type { StoredDiscount, StoredHolds, StoredLine, StoredRefund, StoredReturnLine, StoredTender, StoredWarning } from './json-types.js'

/** A sale as the POS sent it and what the service made of it. Its money movements live in the ledger. */
export const purchases = pgTable(
  'purchases',
  {
    programId: uuid()
      .notNull()
      .references(() => programs.id),
    id: uuid().notNull(),
    /** Null: a sale paid with gift cards that named no member (migration 0028). */
    memberId: uuid(),
    storeId: text().notNull(),
    terminalId: text().notNull(),
    /** The POS receipt number, unique per store. */
    externalId: text().notNull(),
    occurredAt: timestamp({ withTimezone: true }).notNull(),
    currency: text().notNull(),
    /** pending (held, capture: false), completed, voided */
    status: text().notNull(),
    lines: jsonb().notNull().$type<StoredLine[]>(),
    tenders: jsonb().notNull().$type<StoredTender[]>(),
    subtotal: bigint({ mode: 'bigint' }).notNull(),
    discountTotal: bigint({ mode: 'bigint' }).notNull(),
    total: bigint({ mode: 'bigint' }).notNull(),
    moneyPaid: bigint({ mode: 'bigint' }).notNull(),
    pointsEarned: bigint({ mode: 'bigint' }).notNull(),
    pointsRedeemed: bigint({ mode: 'bigint' }).notNull(),
    storedValueUsed: bigint({ mode: 'bigint' }).notNull(),
    /** Totals of all returns so far. */
    returnedTotal: bigint({ mode: 'bigint' }).notNull(),
    pointsClawedBack: bigint({ mode: 'bigint' }).notNull(),
    pointsDebt: bigint({ mode: 'bigint' }).notNull(),
    /** 'lines' or 'amount': one purchase is returned one way, so earned points come back consistently. */
    returnMode: text(),
    entryId: uuid(),
    holds: jsonb().notNull().$type<StoredHolds>(),
    holdExpiresAt: timestamp({ withTimezone: true }),
    invoice: jsonb().$type<Record<string, string>>(),
    /** Order-level discounts (tier, coupons) as applied: type, code, amount; already allocated into the lines. */
    discounts: jsonb().notNull().$type<StoredDiscount[]>().default([]),
    /** The member's tier when the sale posted, and the earn multiplier it gave (returns claw back at the same rate). */
    tierCode: text(),
    earnMultiplier: text().notNull().default('1'),
    rulesEffectiveFrom: timestamp({ withTimezone: true }).notNull(),
    warnings: jsonb().notNull().$type<StoredWarning[]>(),
    createdAt: timestamp({ withTimezone: true }).notNull().defaultNow(),
    updatedAt: timestamp({ withTimezone: true }).notNull().defaultNow(),
    createdBy: text().notNull(),
  },
  (t) => [
    primaryKey({ name: 'purchases_pkey', columns: [t.programId, t.id] }),
    uniqueIndex('purchases_program_store_external_key').on(t.programId, t.storeId, t.externalId),
    index('purchases_program_member_idx').on(t.programId, t.memberId, t.id),
    index('purchases_program_occurred_idx').on(t.programId, t.occurredAt),
    // Held sales only (migration 0019): the hold-expiry job is its one reader; completed sales need no entry.
    index('purchases_pending_expiry_idx').on(t.holdExpiresAt).where(sql`status = 'pending'`),
  ],
)

export const purchaseReturns = pgTable(
  'purchase_returns',
  {
    programId: uuid().notNull(),
    id: uuid().notNull(),
    purchaseId: uuid().notNull(),
    /** The lines returned (line number and quantity), or null for a return of an amount. */
    lines: jsonb().$type<StoredReturnLine[]>(),
    amount: bigint({ mode: 'bigint' }).notNull(),
    refunds: jsonb().notNull().$type<StoredRefund[]>(),
    pointsClawedBack: bigint({ mode: 'bigint' }).notNull(),
    pointsDebt: bigint({ mode: 'bigint' }).notNull(),
    entryId: uuid(),
    reason: text(),
    createdAt: timestamp({ withTimezone: true }).notNull().defaultNow(),
    createdBy: text().notNull(),
  },
  (t) => [primaryKey({ name: 'purchase_returns_pkey', columns: [t.programId, t.id] }), index('purchase_returns_purchase_idx').on(t.programId, t.purchaseId)],
)

export type PurchaseRow = typeof purchases.$inferSelect
export type PurchaseReturnRow = typeof purchaseReturns.$inferSelect
