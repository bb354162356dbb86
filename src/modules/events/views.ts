import { isoTimestamp } from '../../shared/schemas.js'
import type { DeliveryWithLog } from './repository.js'

export const at = (d: Date | null) => (d ? isoTimestamp(d) : null)

/** A delivery as the delivery log (listWebhookDeliveries) and a redelivery show it. */
export const deliveryView = (d: DeliveryWithLog) => ({
  id: d.id,
  eventId: d.eventId,
  eventType: d.eventType,
  status: d.status as 'pending' | 'succeeded' | 'failed' | 'cancelled',
  attempts: d.attempts,
  // While an attempt runs, it is next tried when its lease ends (if it never reports back).
  nextAttemptAt: d.status === 'pending' ? at(d.leasedUntil && d.leasedUntil > d.nextAttemptAt ? d.leasedUntil : d.nextAttemptAt) : null,
  lastStatusCode: d.lastStatusCode,
  lastError: d.lastError,
  succeededAt: at(d.succeededAt),
  createdAt: isoTimestamp(d.createdAt),
  log: d.log.map((a) => ({ attempt: a.attempt, at: isoTimestamp(a.startedAt), durationMs: a.durationMs, statusCode: a.statusCode, error: a.error, responseBody: a.responseBody })),
})
