import { sql } from 'drizzle-orm'
import { boolean, date, pgTable, primaryKey, text, timestamp, unique, uuid, foreignKey } from 'drizzle-orm/pg-core'
import { programs } from '../programs/tables.js'

export const members = pgTable(
  'members',
  {
    programId: uuid()
      .notNull()
      .references(() => programs.id),
    id: uuid().notNull(),
    name: text(),
    /** E.164. */
    phone: text(),
    email: text(),
    birthday: date({ mode: 'string' }),
    externalId: text(),
    cardNumber: text(),
    smsMarketingConsent: boolean().notNull().default(false),
    smsMarketingConsentAt: timestamp({ withTimezone: true }),
    emailMarketingConsent: boolean().notNull().default(false),
    emailMarketingConsentAt: timestamp({ withTimezone: true }),
    doNotContact: boolean().notNull().default(false),
    createdAt: timestamp({ withTimezone: true }).notNull().defaultNow(),
    updatedAt: timestamp({ withTimezone: true }).notNull().defaultNow(),
    /** Erasure under the personal-data law: PII is gone, the id stays for the ledger. */
    erasedAt: timestamp({ withTimezone: true }),
    erasedBy: text(),
    /** Shared by the member to refer others; generated at enrolment (loyalty_random_code: 10 Crockford base32 characters). */
    referralCode: text().notNull().default(sql`loyalty_random_code(10)`),
    /** The member whose referral code this member enrolled with or named later; null: not referred. */
    referredBy: uuid(),
  },
  (t) => [
    primaryKey({ name: 'members_pkey', columns: [t.programId, t.id] }),
    unique('members_program_phone_key').on(t.programId, t.phone),
    unique('members_program_external_id_key').on(t.programId, t.externalId),
    unique('members_program_card_number_key').on(t.programId, t.cardNumber),
    unique('members_program_referral_code_key').on(t.programId, t.referralCode),
    foreignKey({ name: 'members_referred_by_fkey', columns: [t.programId, t.referredBy], foreignColumns: [t.programId, t.id] }),
  ],
)

/** Every consent given or withdrawn, with its purpose and who recorded it (Law 91/2025/QH15). */
export const memberConsentEvents = pgTable(
  'member_consent_events',
  {
    programId: uuid().notNull(),
    id: uuid().notNull(),
    memberId: uuid().notNull(),
    purpose: text().notNull(),
    granted: boolean().notNull(),
    effectiveAt: timestamp({ withTimezone: true }).notNull(),
    recordedAt: timestamp({ withTimezone: true }).notNull().defaultNow(),
    recordedBy: text().notNull(),
  },
  (t) => [
    primaryKey({ name: 'member_consent_events_pkey', columns: [t.programId, t.id] }),
    foreignKey({ name: 'member_consent_events_member_fkey', columns: [t.programId, t.memberId], foreignColumns: [members.programId, members.id] }),
  ],
)

export type MemberRow = typeof members.$inferSelect
