import { AppError, validationFailed } from '../../shared/errors.js'

// Redelivery by hand (issue 17): a finished delivery (succeeded, failed, or cancelled while its
// endpoint lives) goes back to pending, due now, with attempt_base = attempts so the backoff and
// the attempt limit start over (deliver.ts) while the log keeps numbering attempts. The decisions
// are here, pure; repository.ts applies them with one guarded update.

/** The longest window of one bulk redelivery: a month of failures is what an outage leaves. */
export const MAX_REDELIVERY_WINDOW_DAYS = 30
const DAY_MS = 86_400_000

export const webhookDisabled = (deleted: boolean) =>
  new AppError(
    409,
    'WEBHOOK_DISABLED',
    'Webhook endpoint disabled',
    deleted ? 'The webhook endpoint was deleted: nothing is sent to it any more' : 'The webhook endpoint is disabled: enable it (PATCH enabled: true) first',
  )

export const deliveryPending = () =>
  new AppError(409, 'WEBHOOK_DELIVERY_PENDING', 'Delivery still pending', 'The delivery has not finished: it is being attempted or waits for its next retry (nextAttemptAt)')

/** Pure: why this delivery cannot be sent again now, or undefined when it can. */
export function redeliveryRefusal(endpoint: { enabled: boolean; deletedAt: Date | null }, delivery?: { status: string }): AppError | undefined {
  if (endpoint.deletedAt) return webhookDisabled(true)
  if (!endpoint.enabled) return webhookDisabled(false)
  if (delivery?.status === 'pending') return deliveryPending()
  return undefined
}

/**
 * Pure: the window of a bulk redelivery, deliveries created at or after `since` and before
 * `until` (default `now`); refused (400 VALIDATION_FAILED) when empty or longer than 30 days.
 */
export function redeliveryWindow(body: { since: string; until?: string | undefined }, now: Date): { since: Date; until: Date } {
  const since = new Date(body.since)
  const until = body.until === undefined ? now : new Date(body.until)
  if (until.getTime() <= since.getTime()) {
    const message = body.until === undefined ? 'must be before now (the default until)' : 'must be before until'
    throw validationFailed(`since: ${message}`, [{ path: 'body/since', message }])
  }
  if (until.getTime() - since.getTime() > MAX_REDELIVERY_WINDOW_DAYS * DAY_MS) {
    const message = `the window from since to until is at most ${MAX_REDELIVERY_WINDOW_DAYS} days`
    throw validationFailed(`until: ${message}`, [{ path: body.until === undefined ? 'body/since' : 'body/until', message }])
  }
  return { since, until }
}
