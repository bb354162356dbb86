import { index, jsonb, pgTable, primaryKey, text, timestamp, uniqueIndex, uuid } from 'drizzle-orm/pg-core'
import { programs } from '../programs/tables.js'

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
    memberId: uuid().notNull(),
    purchaseId: uuid(),
    entryId: uuid(),
    /** A return, capture or void points at the receipt of the sale it changes. */
    originalReceiptId: uuid(),
    /** The unguessable part of the public link /r/{token}. */
    publicToken: text().notNull(),
    issuedAt: timestamp({ withTimezone: true }).notNull(),
    document: jsonb().notNull(),
    createdAt: timestamp({ withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    primaryKey({ name: 'receipts_pkey', columns: [t.programId, t.id] }),
    uniqueIndex('receipts_program_number_key').on(t.programId, t.number),
    uniqueIndex('receipts_program_source_key').on(t.programId, t.kind, t.sourceId),
    uniqueIndex('receipts_public_token_key').on(t.publicToken),
    index('receipts_program_member_idx').on(t.programId, t.memberId, t.id),
    index('receipts_program_purchase_idx').on(t.programId, t.purchaseId),
  ],
)

export type ReceiptRow = typeof receipts.$inferSelect
