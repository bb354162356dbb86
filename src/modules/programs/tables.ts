import { sql } from 'drizzle-orm'
import { jsonb, pgTable, primaryKey, text, timestamp, uuid, unique, index } from 'drizzle-orm/pg-core'

export const programs = pgTable('programs', {
  id: uuid().primaryKey(),
  name: text().notNull(),
  /** ISO 4217; fixed once the program exists, since every stored amount is in its minor units. */
  currency: text().notNull(),
  timezone: text().notNull(),
  /** ISO 3166-1 alpha-2 region used to read national-form phone numbers. */
  country: text().notNull(),
  /**
   * Earning, point value, tiers, expiry, thresholds: validated by the programs module when written,
   * and read only through readRules (rules.ts), which gives rules stored before a newer field its default.
   */
  rules: jsonb().notNull().$type<unknown>().default(sql`'{}'::jsonb`),
  rulesEffectiveFrom: timestamp({ withTimezone: true }).notNull().defaultNow(),
  createdAt: timestamp({ withTimezone: true }).notNull().defaultNow(),
  updatedAt: timestamp({ withTimezone: true }).notNull().defaultNow(),
})

export const apiClients = pgTable(
  'api_clients',
  {
    /** Globally unique: the token endpoint finds a client by id alone. */
    id: text().primaryKey(),
    programId: uuid()
      .notNull()
      .references(() => programs.id),
    name: text().notNull(),
    scopes: text().array().notNull(),
    secretHash: text().notNull(),
    createdAt: timestamp({ withTimezone: true }).notNull().defaultNow(),
    createdBy: text().notNull(),
    revokedAt: timestamp({ withTimezone: true }),
    revokedBy: text(),
  },
  (t) => [unique('api_clients_program_id_id_key').on(t.programId, t.id), index('api_clients_program_created_idx').on(t.programId, t.createdAt)],
)

/** Every rules version with the moment it took effect: purchases posted late earn by the rules of their time. */
export const programRuleVersions = pgTable(
  'program_rule_versions',
  {
    programId: uuid()
      .notNull()
      .references(() => programs.id),
    effectiveFrom: timestamp({ withTimezone: true }).notNull(),
    /** As programs.rules: read through readRules. */
    rules: jsonb().notNull().$type<unknown>(),
    createdBy: text().notNull(),
  },
  (t) => [primaryKey({ name: 'program_rule_versions_pkey', columns: [t.programId, t.effectiveFrom] })],
)

export type ProgramRow = typeof programs.$inferSelect
export type ApiClientRow = typeof apiClients.$inferSelect
