import { sql } from 'drizzle-orm'
import { boolean, index, integer, jsonb, pgTable, primaryKey, text, timestamp, uniqueIndex, uuid } from 'drizzle-orm/pg-core'
import { programs } from '../programs/tables.js'

/**
 * The outbox: an event is written in the transaction of the change it reports, so it exists if
 * and only if the change committed. The dispatcher fans it out to the program's webhook
 * endpoints (one delivery each) and marks it dispatched, or suppressed when a marketing rule
 * forbids sending it.
 */
export const events = pgTable(
  'events',
  {
    programId: uuid()
      .notNull()
      .references(() => programs.id),
    id: uuid().notNull(),
    type: text().notNull(),
    /** transactional or marketing (consent, Do-Not-Call, 3 per 24 h and the sending window apply) */
    category: text().notNull(),
    memberId: uuid(),
    /** The event's data; a receiptId in it is expanded into the receipt when delivered. */
    payload: jsonb().notNull().$type<Record<string, unknown>>(),
    /** pending, dispatched, suppressed */
    status: text().notNull(),
    /** Not dispatched before: marketing outside the sending window waits for it to open. */
    availableAt: timestamp({ withTimezone: true }).notNull(),
    /** A marketing event still waiting then is dropped (a birthday greeting is for the day). */
    expiresAt: timestamp({ withTimezone: true }),
    /** Only this endpoint (a test event); null: every endpoint subscribed to the type. */
    endpointId: uuid(),
    dispatchedAt: timestamp({ withTimezone: true }),
    /** Deliveries created when dispatched; a marketing event counts towards the daily cap only when sent somewhere. */
    deliveries: integer().notNull().default(0),
    suppressedReason: text(),
    createdAt: timestamp({ withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    primaryKey({ name: 'events_pkey', columns: [t.programId, t.id] }),
    index('events_pending_idx').on(t.availableAt).where(sql`status = 'pending'`),
    index('events_marketing_sent_idx').on(t.programId, t.memberId, t.dispatchedAt).where(sql`category = 'marketing' and deliveries > 0`),
  ],
)

/** Where a program wants its events: HTTPS endpoints signed with their own secret (Standard Webhooks). */
export const webhookEndpoints = pgTable(
  'webhook_endpoints',
  {
    programId: uuid()
      .notNull()
      .references(() => programs.id),
    id: uuid().notNull(),
    url: text().notNull(),
    description: text(),
    /** Event types delivered here; empty: all of them. */
    eventTypes: text().array().notNull(),
    /** whsec_<base64>: the HMAC key. Shown once when created; kept to sign every delivery. */
    secret: text().notNull(),
    /** The secret before the last rotation: it signs too (a second signature) until previousSecretUntil. */
    previousSecret: text(),
    previousSecretUntil: timestamp({ withTimezone: true }),
    secretRotatedAt: timestamp({ withTimezone: true }),
    /** false: nothing is delivered (events meanwhile are not kept for it; pending retries wait). */
    enabled: boolean().notNull().default(true),
    createdAt: timestamp({ withTimezone: true }).notNull().defaultNow(),
    createdBy: text().notNull(),
    deletedAt: timestamp({ withTimezone: true }),
    deletedBy: text(),
  },
  (t) => [primaryKey({ name: 'webhook_endpoints_pkey', columns: [t.programId, t.id] })],
)

/** One event to one endpoint, retried with exponential backoff until it succeeds or attempts run out. */
export const webhookDeliveries = pgTable(
  'webhook_deliveries',
  {
    programId: uuid().notNull(),
    id: uuid().notNull(),
    eventId: uuid().notNull(),
    endpointId: uuid().notNull(),
    /** pending, succeeded, failed (attempts exhausted; a redelivery makes it pending again), cancelled (endpoint deleted) */
    status: text().notNull(),
    attempts: integer().notNull().default(0),
    /** Attempts made before the last redelivery: the backoff and the attempt limit count from here. */
    attemptBase: integer().notNull().default(0),
    /** When the next attempt is due. */
    nextAttemptAt: timestamp({ withTimezone: true }).notNull(),
    /**
     * While an attempt runs, the end of its lease: not claimed again before (a crashed attempt is
     * retried after it). Not indexed, unlike next_attempt_at, so claiming is a HOT update (0019).
     */
    leasedUntil: timestamp({ withTimezone: true }),
    lastAttemptAt: timestamp({ withTimezone: true }),
    lastStatusCode: integer(),
    lastError: text(),
    succeededAt: timestamp({ withTimezone: true }),
    createdAt: timestamp({ withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    primaryKey({ name: 'webhook_deliveries_pkey', columns: [t.programId, t.id] }),
    uniqueIndex('webhook_deliveries_event_endpoint_key').on(t.programId, t.eventId, t.endpointId),
    index('webhook_deliveries_due_idx').on(t.nextAttemptAt).where(sql`status = 'pending'`),
    index('webhook_deliveries_endpoint_idx').on(t.programId, t.endpointId, t.id),
  ],
)

/** The delivery log: every attempt with what the endpoint answered. */
export const webhookAttempts = pgTable(
  'webhook_attempts',
  {
    programId: uuid().notNull(),
    deliveryId: uuid().notNull(),
    attempt: integer().notNull(),
    startedAt: timestamp({ withTimezone: true }).notNull(),
    durationMs: integer().notNull(),
    statusCode: integer(),
    error: text(),
    /** The first 500 characters of the answer, for troubleshooting. */
    responseBody: text(),
  },
  (t) => [primaryKey({ name: 'webhook_attempts_pkey', columns: [t.programId, t.deliveryId, t.attempt] })],
)

export type EventRow = typeof events.$inferSelect
export type WebhookEndpointRow = typeof webhookEndpoints.$inferSelect
export type WebhookDeliveryRow = typeof webhookDeliveries.$inferSelect
export type WebhookAttemptRow = typeof webhookAttempts.$inferSelect
