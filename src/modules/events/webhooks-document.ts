import { EVENT_CATEGORIES, type EventType } from './catalog.js'
import { eventSchemaName } from './payloads.js'
import { DEFAULT_MAX_ATTEMPTS } from './deliver.js'
import { MAX_REDELIVERY_WINDOW_DAYS } from './redelivery.js'

// The OpenAPI 3.1 `webhooks` of the document: one POST per event type, its body the component
// generated from payloads.ts (deliveredEventSchemas, registered by its meta id), the Standard
// Webhooks headers and what the service makes of the receiver's answer.

const header = (name: string, description: string) => ({ name, in: 'header', required: true, description, schema: { type: 'string' } })

const HEADERS = [
  header('webhook-id', 'The event id: the same on every attempt and redelivery of this event to this endpoint; deduplicate by it'),
  header('webhook-timestamp', 'Unix seconds when this attempt was signed; refuse it when far from your clock (Standard Webhooks: 5 minutes)'),
  header(
    'webhook-signature',
    'Space-separated `v1,<base64 HMAC-SHA256>` signatures of `{webhook-id}.{webhook-timestamp}.{body}` keyed with the base64 part of the endpoint secret (whsec_…). During a secret rotation\'s overlap there are two, one per secret: accept the request when any one verifies.',
  ),
]

const RETRIED = `Not delivered: retried with exponential backoff (30 s doubling to 12 h, ${DEFAULT_MAX_ATTEMPTS} attempts in all, about two days), then given up (failed). Sent again by hand with the whole schedule anew: one delivery with POST /v1/webhooks/{webhookId}/deliveries/{deliveryId}/redeliveries, every failed one of a window (up to ${MAX_REDELIVERY_WINDOW_DAYS} days) with POST /v1/webhooks/{webhookId}/redeliveries. No answer within 10 s and redirects count as failures too.`

export function webhooksDocument(): Record<string, unknown> {
  return Object.fromEntries(
    (Object.keys(EVENT_CATEGORIES) as EventType[]).map((type) => [
      type,
      {
        post: {
          operationId: `${eventSchemaName(type)[0]!.toLowerCase()}${eventSchemaName(type).slice(1)}Webhook`,
          summary: `The ${type} event`,
          description:
            `${EVENT_CATEGORIES[type] === 'marketing' ? 'Marketing: sent only to members with SMS marketing consent, not on Do-Not-Call, inside the program\'s sending window and daily cap. ' : ''}` +
            'POSTed to every enabled endpoint subscribed to this type (an empty list subscribes to all) as `{ type, timestamp, data }`, signed per Standard Webhooks. At least once: deduplicate by `webhook-id`.',
          tags: ['webhooks'],
          // No OAuth: the receiver authenticates the call by its webhook-signature (the endpoint's secret).
          security: [],
          parameters: HEADERS,
          requestBody: { required: true, content: { 'application/json': { schema: { $ref: `#/components/schemas/${eventSchemaName(type)}` } } } },
          responses: {
            '2XX': { description: 'Delivered: any 2xx status; the body is ignored (its first 500 characters are kept in the delivery log)' },
            '4XX': { description: RETRIED },
            default: { description: RETRIED },
          },
        },
      },
    ]),
  )
}
