import { sql } from 'drizzle-orm'
import { check, index, jsonb, pgTable, primaryKey, text, timestamp, unique, uniqueIndex, uuid } from 'drizzle-orm/pg-core'
import { programs } from '../programs/tables.js'
import type { ReceiptDocument } from './schemas.js'

/**
 * E-receipts: one per purchase, capture, void, return and top-up, written in the transaction of
 * its ledger entry. Immutable (migration trigger): the document is what is shown and signed.
 */
export const receipts = pgTable(
  'receipts',
  {
    programId: uuid()
      .notNull()
      .references(() => programs.id),
    id: uuid().notNull(),
    /** Printed on the receipt; unique in the program. */
    number: text().notNull(),
    /** purchase, capture, void, return, top_up */
    kind: text().notNull(),
    /** What the receipt is of: the purchase id, the return id, the top-up entry id. One receipt per kind and source. */
    sourceId: text().notNull(),
    /** Null: the receipt of a sale that named no member (gift cards and money), or of its return (migration 0028). */
    memberId: uuid(),
    purchaseId: uuid(),
    entryId: uuid(),
    /** A return, capture or void points at the receipt of the sale it changes. */
    originalReceiptId: uuid(),
    /** The unguessable part of the public link /r/{token}. */
    publicToken: text().notNull(),
    issuedAt: timestamp({ withTimezone: true }).notNull(),
    document: jsonb().notNull().$type<ReceiptDocument>(),
    createdAt: timestamp({ withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    primaryKey({ name: 'receipts_pkey', columns: [t.programId, t.id] }),
    uniqueIndex('receipts_program_number_key').on(t.programId, t.number),
    uniqueIndex('receipts_public_token_key').on(t.publicToken),
    index('receipts_program_member_idx').on(t.programId, t.memberId, t.id),
    // One index for "one receipt per kind and source" and for the receipts of a purchase (migration
    // 0019): the check makes the purchase a function of the source for a sale's receipts and null
    // for a top-up's, so unique (purchase, kind, source) is unique (kind, source) for them; a
    // return's source is its return id, of one purchase.
    unique('receipts_program_purchase_source_key').on(t.programId, t.purchaseId, t.kind, t.sourceId).nullsNotDistinct(),
    check(
      'receipts_source_check',
      sql`case when ${t.kind} in ('purchase', 'capture', 'void') then ${t.purchaseId} is not null and ${t.sourceId} = ${t.purchaseId}::text
               when ${t.kind} = 'return' then ${t.purchaseId} is not null
               when ${t.kind} = 'top_up' then ${t.purchaseId} is null
               else true end`,
    ),
  ],
)

export type ReceiptRow = typeof receipts.$inferSelect
