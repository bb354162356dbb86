import { sql } from 'drizzle-orm'
import { bigint, boolean, check, index, jsonb, pgTable, primaryKey, smallint, text, timestamp, uuid, uniqueIndex } from 'drizzle-orm/pg-core'
import { programs } from '../programs/tables.js'

/**
 * Accounts of a program. Member wallets keep four running totals (TigerBeetle style) updated in
 * the posting transaction and guarded by their floor. System accounts (issued, redeemed, breakage,
 * clearing, settlement, adjustments) are touched by every purchase, so they keep no running totals:
 * their balance is derived from postings and their rows are never locked by a posting.
 */
export const ledgerAccounts = pgTable(
  'ledger_accounts',
  {
    programId: uuid()
      .notNull()
      .references(() => programs.id),
    /** Deterministic (UUIDv5 of program and code): no lookup is needed to post to a known account. */
    id: uuid().notNull(),
    code: text().notNull(),
    type: text().notNull(),
    /** 'POINTS' or an ISO 4217 currency code. */
    asset: text().notNull(),
    memberId: uuid(),
    storeId: text(),
    /** Lowest allowed available balance; null for accounts without one. */
    floor: bigint({ mode: 'bigint' }),
    tracksBalance: boolean().notNull(),
    /** Set when an entry allowed by program policy (a clawback) took the account below its floor. */
    overdrawnByPolicy: boolean().notNull().default(false),
    debitsPosted: bigint({ mode: 'bigint' }).notNull().default(sql`0`),
    creditsPosted: bigint({ mode: 'bigint' }).notNull().default(sql`0`),
    debitsPending: bigint({ mode: 'bigint' }).notNull().default(sql`0`),
    creditsPending: bigint({ mode: 'bigint' }).notNull().default(sql`0`),
    createdAt: timestamp({ withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    primaryKey({ name: 'ledger_accounts_pkey', columns: [t.programId, t.id] }),
    uniqueIndex('ledger_accounts_program_code_key').on(t.programId, t.code),
    index('ledger_accounts_program_member_idx').on(t.programId, t.memberId),
  ],
)

/** Journal entries: immutable; a correction is a new entry that reverses one. */
export const journalEntries = pgTable(
  'journal_entries',
  {
    programId: uuid().notNull(),
    id: uuid().notNull(),
    kind: text().notNull(),
    effectiveAt: timestamp({ withTimezone: true }).notNull(),
    createdAt: timestamp({ withTimezone: true }).notNull().defaultNow(),
    memberId: uuid(),
    storeId: text(),
    reason: text(),
    /** What caused it: a purchase, a return, a top-up, an adjustment… */
    referenceType: text(),
    referenceId: text(),
    /** Set on a reversal; unique, so an entry is reversed at most once. */
    reversesEntryId: uuid(),
    createdBy: text().notNull(),
    metadata: jsonb().notNull().$type<Record<string, unknown>>().default({}),
  },
  (t) => [
    primaryKey({ name: 'journal_entries_pkey', columns: [t.programId, t.id] }),
    // Partial (migration 0019): the entries that reverse nothing, nearly all, need no entry in it.
    uniqueIndex('journal_entries_reverses_key').on(t.programId, t.reversesEntryId).where(sql`reverses_entry_id is not null`),
    index('journal_entries_program_effective_idx').on(t.programId, t.effectiveAt),
  ],
)

/** Postings: signed amounts in minor units or points, credit positive; each entry sums to zero per asset. */
export const postings = pgTable(
  'postings',
  {
    programId: uuid().notNull(),
    entryId: uuid().notNull(),
    seq: smallint().notNull(),
    accountId: uuid().notNull(),
    asset: text().notNull(),
    amount: bigint({ mode: 'bigint' }).notNull(),
    /** The account's posted balance (credits - debits) after this posting, for accounts that track one. */
    balanceAfter: bigint({ mode: 'bigint' }),
  },
  (t) => [
    primaryKey({ name: 'postings_pkey', columns: [t.programId, t.entryId, t.seq] }),
    index('postings_program_account_idx').on(t.programId, t.accountId, t.entryId),
  ],
)

/** Reserved amounts on member wallets (e-commerce authorisations). A hold resolves exactly once. */
export const holds = pgTable(
  'holds',
  {
    programId: uuid().notNull(),
    id: uuid().notNull(),
    accountId: uuid().notNull(),
    amount: bigint({ mode: 'bigint' }).notNull(),
    status: text().notNull().default('pending'),
    expiresAt: timestamp({ withTimezone: true }).notNull(),
    createdAt: timestamp({ withTimezone: true }).notNull().defaultNow(),
    resolvedAt: timestamp({ withTimezone: true }),
    /** The entry that moved the captured part, when posted. */
    postedEntryId: uuid(),
    postedAmount: bigint({ mode: 'bigint' }),
    referenceType: text(),
    referenceId: text(),
  },
  (t) => [
    primaryKey({ name: 'holds_pkey', columns: [t.programId, t.id] }),
    index('holds_pending_expiry_idx').on(t.status, t.expiresAt),
    index('holds_program_account_idx').on(t.programId, t.accountId),
  ],
)

/** Stored responses of idempotent writes, keyed per program. */
export const idempotencyKeys = pgTable(
  'idempotency_keys',
  {
    programId: uuid().notNull(),
    key: text().notNull(),
    requestHash: text().notNull(),
    responseStatus: smallint().notNull(),
    /** The answer as sent: a replay sends it again. */
    responseBody: jsonb().notNull().$type<unknown>(),
    createdAt: timestamp({ withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [primaryKey({ name: 'idempotency_keys_pkey', columns: [t.programId, t.key] }), index('idempotency_keys_created_idx').on(t.createdAt)],
)

export type LedgerAccountRow = typeof ledgerAccounts.$inferSelect
export type JournalEntryRow = typeof journalEntries.$inferSelect
export type PostingRow = typeof postings.$inferSelect
export type HoldRow = typeof holds.$inferSelect

/**
 * Points lots: what a member's points balance is made of, by when each part expires. Every
 * credit to a points wallet opens a lot (or refills the lots a return gives back), every debit
 * consumes lots, soonest-expiring first; the expiry job turns what is left of a lot past its
 * date into breakage. Kept so that the remaining points of all lots equal the wallet balance
 * whenever that balance is positive.
 */
export const pointsLots = pgTable(
  'points_lots',
  {
    programId: uuid().notNull(),
    id: uuid().notNull(),
    memberId: uuid().notNull(),
    earnedAt: timestamp({ withTimezone: true }).notNull(),
    /** The lot is usable before this instant; null: it never expires. */
    expiresAt: timestamp({ withTimezone: true }),
    points: bigint({ mode: 'bigint' }).notNull(),
    remaining: bigint({ mode: 'bigint' }).notNull(),
    /** The part of `remaining` reserved by pending holds (lot_holds): no debit or expiry takes it while they last. */
    held: bigint({ mode: 'bigint' }).notNull().default(sql`0`),
    /** The entry that credited the points. */
    sourceEntryId: uuid().notNull(),
    /** The breakage entry that expired what was left. */
    expiredEntryId: uuid(),
    /** When the member was told (points.expiringSoon) that this lot expires soon. */
    expiryNoticeAt: timestamp({ withTimezone: true }),
    createdAt: timestamp({ withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    primaryKey({ name: 'points_lots_pkey', columns: [t.programId, t.id] }),
    index('points_lots_member_idx').on(t.programId, t.memberId, t.expiresAt),
    index('points_lots_due_idx')
      .on(t.programId, t.expiresAt)
      .where(sql`remaining > 0 and expires_at is not null`),
    check('points_lots_held_check', sql`${t.held} >= 0 and ${t.held} <= ${t.remaining}`),
  ],
)

/**
 * Which lots a points hold reserved when placed, and how much of each (soonest-expiring first,
 * like the debit it will become). A row counts while its hold is pending. `cut`: what a debit
 * the program's policy let overdraw the wallet took of the reservation since.
 */
export const lotHolds = pgTable(
  'lot_holds',
  {
    programId: uuid().notNull(),
    holdId: uuid().notNull(),
    lotId: uuid().notNull(),
    points: bigint({ mode: 'bigint' }).notNull(),
    cut: bigint({ mode: 'bigint' }).notNull().default(sql`0`),
  },
  (t) => [primaryKey({ name: 'lot_holds_pkey', columns: [t.programId, t.holdId, t.lotId] }), index('lot_holds_lot_idx').on(t.programId, t.lotId)],
)

/** Which entry took points from (negative) or put points into (positive) which lot. */
export const lotMovements = pgTable(
  'lot_movements',
  {
    programId: uuid().notNull(),
    entryId: uuid().notNull(),
    lotId: uuid().notNull(),
    /** take (points < 0) or give (points > 0): one entry may do both to a lot (a return's clawback and refund). */
    kind: text().notNull(),
    points: bigint({ mode: 'bigint' }).notNull(),
    /** For points given back: the entry whose consumption this undoes. */
    restoresEntryId: uuid(),
  },
  (t) => [
    primaryKey({ name: 'lot_movements_pkey', columns: [t.programId, t.entryId, t.lotId, t.kind] }),
    // Partial (migration 0019): only points given back by a return restore an entry, and only those are looked up.
    index('lot_movements_restores_idx').on(t.programId, t.restoresEntryId).where(sql`restores_entry_id is not null`),
  ],
)
