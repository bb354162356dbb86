import { and, asc, desc, eq, gte, inArray, isNull, lt, ne, sql, type SQL } from 'drizzle-orm'
import type { Executor } from '../../db/client.js'
import type { EventPayload } from './payloads.js'
import { events, webhookAttempts, webhookDeliveries, webhookEndpoints, type WebhookAttemptRow, type WebhookDeliveryRow, type WebhookEndpointRow } from './tables.js'

export async function insertEndpoint(ex: Executor, row: typeof webhookEndpoints.$inferInsert): Promise<WebhookEndpointRow> {
  const [created] = await ex.insert(webhookEndpoints).values(row).returning()
  return created!
}

export function listEndpoints(ex: Executor, programId: string): Promise<WebhookEndpointRow[]> {
  return ex
    .select()
    .from(webhookEndpoints)
    .where(and(eq(webhookEndpoints.programId, programId), isNull(webhookEndpoints.deletedAt)))
    .orderBy(asc(webhookEndpoints.id))
}

export async function findEndpoint(ex: Executor, programId: string, id: string): Promise<WebhookEndpointRow | undefined> {
  const [row] = await ex
    .select()
    .from(webhookEndpoints)
    .where(and(eq(webhookEndpoints.programId, programId), eq(webhookEndpoints.id, id), isNull(webhookEndpoints.deletedAt)))
  return row
}

/** Deletes (keeps the row for the delivery log) and cancels what was still to be delivered. */
export async function deleteEndpoint(ex: Executor, programId: string, id: string, actor: string): Promise<boolean> {
  const [row] = await ex
    .update(webhookEndpoints)
    .set({ deletedAt: new Date(), deletedBy: actor })
    .where(and(eq(webhookEndpoints.programId, programId), eq(webhookEndpoints.id, id), isNull(webhookEndpoints.deletedAt)))
    .returning({ id: webhookEndpoints.id })
  if (!row) return false
  await ex
    .update(webhookDeliveries)
    .set({ status: 'cancelled', lastError: 'endpoint deleted' })
    .where(and(eq(webhookDeliveries.programId, programId), eq(webhookDeliveries.endpointId, id), eq(webhookDeliveries.status, 'pending')))
  return true
}

export interface DeliveryWithLog extends WebhookDeliveryRow {
  eventType: string
  log: WebhookAttemptRow[]
}

export async function listDeliveries(ex: Executor, programId: string, endpointId: string, filter: { status?: string; id?: string }, limit: number, beforeId?: string): Promise<DeliveryWithLog[]> {
  const rows = await ex
    .select({ delivery: webhookDeliveries, eventType: events.type })
    .from(webhookDeliveries)
    .innerJoin(events, and(eq(events.programId, webhookDeliveries.programId), eq(events.id, webhookDeliveries.eventId)))
    .where(
      and(
        eq(webhookDeliveries.programId, programId),
        eq(webhookDeliveries.endpointId, endpointId),
        filter.status ? eq(webhookDeliveries.status, filter.status) : undefined,
        filter.id ? eq(webhookDeliveries.id, filter.id) : undefined,
        beforeId ? lt(webhookDeliveries.id, beforeId) : undefined,
      ),
    )
    .orderBy(desc(webhookDeliveries.id))
    .limit(limit + 1)
  const ids = rows.map((r) => r.delivery.id)
  const attempts = ids.length
    ? await ex
        .select()
        .from(webhookAttempts)
        .where(and(eq(webhookAttempts.programId, programId), inArray(webhookAttempts.deliveryId, ids)))
        .orderBy(asc(webhookAttempts.deliveryId), asc(webhookAttempts.attempt))
    : []
  return rows.map((r) => ({ ...r.delivery, eventType: r.eventType, log: attempts.filter((a) => a.deliveryId === r.delivery.id) }))
}

/** A test event for one endpoint, already dispatched to it: one delivery, attempted at once by the caller. */
export async function insertTestEvent(ex: Executor, programId: string, endpointId: string, ids: { eventId: string; deliveryId: string }, now: Date): Promise<void> {
  await ex.insert(events).values({
    programId,
    id: ids.eventId,
    type: 'webhook.test',
    category: 'transactional',
    payload: { message: 'Test event from Loyalty Ledger', endpointId } satisfies EventPayload<'webhook.test'>,
    status: 'dispatched',
    availableAt: now,
    endpointId,
    dispatchedAt: now,
    deliveries: 1,
  })
  await ex.insert(webhookDeliveries).values({ programId, id: ids.deliveryId, eventId: ids.eventId, endpointId, status: 'pending', nextAttemptAt: now, createdAt: now })
}

/** Changes an endpoint still there; undefined: none (deleted, another program's, unknown). */
export async function updateEndpoint(
  ex: Executor,
  programId: string,
  id: string,
  set: Partial<Pick<WebhookEndpointRow, 'url' | 'description' | 'eventTypes' | 'enabled'>>,
): Promise<WebhookEndpointRow | undefined> {
  const [row] = await ex
    .update(webhookEndpoints)
    .set(set)
    .where(and(eq(webhookEndpoints.programId, programId), eq(webhookEndpoints.id, id), isNull(webhookEndpoints.deletedAt)))
    .returning()
  return row
}

/**
 * A new secret; the current one becomes the previous, signing too until `until` (null: not at
 * all). A rotation during an overlap drops the oldest: at most two secrets sign.
 */
export async function rotateSecret(ex: Executor, programId: string, id: string, secret: string, now: Date, until: Date | null): Promise<WebhookEndpointRow | undefined> {
  const [row] = await ex
    .update(webhookEndpoints)
    .set({ previousSecret: until ? sql`${webhookEndpoints.secret}` : null, previousSecretUntil: until, secret, secretRotatedAt: now })
    .where(and(eq(webhookEndpoints.programId, programId), eq(webhookEndpoints.id, id), isNull(webhookEndpoints.deletedAt)))
    .returning()
  return row
}

/** An endpoint of the program, deleted or not (a redelivery tells a deleted endpoint from an unknown one). */
export async function findEndpointWithDeleted(ex: Executor, programId: string, id: string): Promise<WebhookEndpointRow | undefined> {
  const [row] = await ex
    .select()
    .from(webhookEndpoints)
    .where(and(eq(webhookEndpoints.programId, programId), eq(webhookEndpoints.id, id)))
  return row
}

/** One delivery of this endpoint with its log, as the delivery log shows it; undefined: none (another endpoint's, another program's). */
export async function findDelivery(ex: Executor, programId: string, endpointId: string, id: string): Promise<DeliveryWithLog | undefined> {
  const [row] = await listDeliveries(ex, programId, endpointId, { id }, 1)
  return row
}

/**
 * Sends deliveries of an endpoint again: pending, due `now`, attempt_base = attempts (deliver.ts
 * starts the backoff and the attempt limit over). One statement, guarded as the decision was made
 * (redelivery.ts): never a pending delivery, only while the endpoint is enabled and not deleted.
 * Returns the ids redelivered.
 */
export async function redeliver(ex: Executor, programId: string, endpointId: string, which: { id: string } | { failedSince: Date; failedUntil: Date }, now: Date): Promise<string[]> {
  const d = webhookDeliveries
  const chosen: SQL | undefined =
    'id' in which
      ? and(eq(d.id, which.id), ne(d.status, 'pending'))
      : and(eq(d.status, 'failed'), gte(d.createdAt, which.failedSince), lt(d.createdAt, which.failedUntil))
  const rows = await ex
    .update(d)
    .set({ status: 'pending', nextAttemptAt: now, attemptBase: sql`${d.attempts}`, leasedUntil: null, succeededAt: null })
    .where(
      and(
        eq(d.programId, programId),
        eq(d.endpointId, endpointId),
        chosen,
        sql`exists (select 1 from ${webhookEndpoints} w where w.program_id = ${d.programId} and w.id = ${d.endpointId} and w.enabled and w.deleted_at is null)`,
      ),
    )
    .returning({ id: d.id })
  return rows.map((r) => r.id)
}
