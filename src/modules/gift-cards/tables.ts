import { sql } from 'drizzle-orm'
import { check, foreignKey, index, integer, pgTable, primaryKey, text, timestamp, uniqueIndex, uuid } from 'drizzle-orm/pg-core'
import { members } from '../members/tables.js'
import { programs } from '../programs/tables.js'

/**
 * A prepaid gift card (docs/gift-cards.md). Its value is not here: it is the card's own wallet in
 * the ledger (ledger_accounts type gift_card, accountId(program, giftCardWallet(id, currency))),
 * which stays the card's when the card is attached to a member. The code is a bearer credential:
 * only its SHA-256 is kept (lookups are by it) and its last four characters, to show.
 */
export const giftCards = pgTable(
  'gift_cards',
  {
    programId: uuid()
      .notNull()
      .references(() => programs.id),
    id: uuid().notNull(),
    /** SHA-256 (hex) of the normalized code (codes.ts codeHash). */
    codeHash: text().notNull(),
    codeLast4: text().notNull(),
    /** scrypt (src/shared/secrets.ts) of the PIN; null: the card has none. */
    pinHash: text(),
    /** Wrong PINs since the last right one or the last lock (pin-policy.ts). */
    pinFailures: integer().notNull().default(0),
    /** PIN checks are refused until then. */
    pinLockedUntil: timestamp({ withTimezone: true }),
    /** The program's currency when issued. */
    currency: text().notNull(),
    /** The member the card was attached to; null: nobody's (the card keeps its own wallet either way). */
    memberId: uuid(),
    attachedAt: timestamp({ withTimezone: true }),
    /** The batch it was issued in (POST /v1/gift-cards/batches); null: issued alone. */
    batchId: uuid(),
    createdAt: timestamp({ withTimezone: true }).notNull().defaultNow(),
    createdBy: text().notNull(),
    /** Blocked (lost, stolen): it cannot pay, be loaded or be checked until unblocked; null: active. */
    blockedAt: timestamp({ withTimezone: true }),
    blockedReason: text(),
    blockedBy: text(),
  },
  (t) => [
    primaryKey({ name: 'gift_cards_pkey', columns: [t.programId, t.id] }),
    foreignKey({ name: 'gift_cards_member_fkey', columns: [t.programId, t.memberId], foreignColumns: [members.programId, members.id] }),
    uniqueIndex('gift_cards_program_code_key').on(t.programId, t.codeHash),
    index('gift_cards_member_idx').on(t.programId, t.memberId).where(sql`member_id is not null`),
    check('gift_cards_pin_failures_check', sql`${t.pinFailures} >= 0`),
    check('gift_cards_attached_check', sql`(${t.memberId} is null) = (${t.attachedAt} is null)`),
    check('gift_cards_blocked_check', sql`(${t.blockedAt} is null) = (${t.blockedReason} is null) and (${t.blockedAt} is null) = (${t.blockedBy} is null)`),
  ],
)

export type GiftCardRow = typeof giftCards.$inferSelect
