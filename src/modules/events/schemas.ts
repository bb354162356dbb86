import { z } from 'zod'
import { timestampSchema } from '../../shared/schemas.js'
import { SUBSCRIBABLE_EVENT_TYPES } from './catalog.js'
import { MAX_REDELIVERY_WINDOW_DAYS } from './redelivery.js'

const eventTypeSchema = z.enum(SUBSCRIBABLE_EVENT_TYPES as [string, ...string[]])

export const webhookCreateSchema = z
  .object({
    url: z.url().max(2000).describe('Where events are POSTed: https, public address (http and local addresses only in development)'),
    description: z.string().trim().min(1).max(200).optional(),
    eventTypes: z.array(eventTypeSchema).max(50).default([]).describe('Event types to receive; empty: all of them'),
  })
  .strict()

export const webhookSchema = z
  .object({
    id: z.uuid(),
    url: z.string(),
    description: z.string().nullable(),
    eventTypes: z.array(z.string()),
    enabled: z.boolean().describe('false: nothing is delivered; events meanwhile are not delivered later either'),
    previousSecretExpiresAt: z.string().nullable().describe('During a secret rotation’s overlap: until when the previous secret signs too'),
    createdAt: z.string(),
  })
  .meta({ id: 'WebhookEndpoint' })

export const webhookUpdateSchema = z
  .object({
    url: webhookCreateSchema.shape.url.optional(),
    description: z.string().trim().min(1).max(200).nullable().optional().describe('null removes it'),
    eventTypes: z.array(eventTypeSchema).max(50).optional().describe('Replaces the list; empty: all of them'),
    enabled: z.boolean().optional().describe('false stops deliveries (pending retries wait); true resumes them'),
  })
  .strict()
  .meta({ id: 'WebhookEndpointUpdate', description: 'At least one of url, description, eventTypes, enabled (checked after authorization, so a caller without the scope learns nothing)' })

export const MAX_OVERLAP_SECONDS = 7 * 86_400

export const secretRotationSchema = z
  .object({
    overlapSeconds: z
      .number()
      .int()
      .min(0)
      .max(MAX_OVERLAP_SECONDS)
      .default(86_400)
      .describe('How long the previous secret keeps signing (a second signature); 0: it stops at once. Default 24 h, at most 7 days'),
  })
  .strict()
  .meta({ id: 'WebhookSecretRotationRequest' })

export const secretRotatedSchema = z
  .object({
    id: z.uuid(),
    secret: z.string().describe('The new whsec_… secret. Shown once; store it now.'),
    rotatedAt: z.string(),
    previousSecretExpiresAt: z.string().nullable().describe('Until when deliveries carry the previous secret’s signature too; null: not at all'),
  })
  .meta({ id: 'WebhookSecretRotation' })

export const webhookCreatedSchema = webhookSchema
  .extend({
    secret: z
      .string()
      .describe('whsec_…: verifies the webhook-signature header (Standard Webhooks, HMAC-SHA256). Shown once; store it now.'),
  })
  .meta({ id: 'WebhookEndpointCreated' })

export const webhookParamsSchema = z.object({ webhookId: z.uuid() })

export const webhookDeliveryParamsSchema = z.object({ webhookId: z.uuid(), deliveryId: z.uuid() })

export const redeliveryWindowSchema = z
  .object({
    since: timestampSchema.describe('Failed deliveries created at or after this instant (their `createdAt` in the delivery log)'),
    until: timestampSchema.optional().describe(`...and before this instant; default now. At most ${MAX_REDELIVERY_WINDOW_DAYS} days after since`),
  })
  .strict()
  .meta({ id: 'WebhookRedeliveryWindow' })

export const redeliveryCountSchema = z
  .object({ count: z.number().int().describe('How many failed deliveries went back to pending, due now') })
  .meta({ id: 'WebhookRedeliveries' })

export const deliveryQuerySchema = z
  .object({
    status: z.enum(['pending', 'succeeded', 'failed', 'cancelled']).optional(),
    limit: z.coerce.number().int().min(1).max(200).default(50),
    cursor: z.string().max(200).optional(),
  })
  .strict()

export const deliverySchema = z
  .object({
    id: z.uuid(),
    eventId: z.uuid().describe('Also the webhook-id header: receivers deduplicate by it'),
    eventType: z.string(),
    status: z.enum(['pending', 'succeeded', 'failed', 'cancelled']),
    attempts: z.number().int(),
    nextAttemptAt: z.string().nullable().describe('When the next retry is due (pending only)'),
    lastStatusCode: z.number().int().nullable(),
    lastError: z.string().nullable(),
    succeededAt: z.string().nullable(),
    createdAt: z.string(),
    log: z.array(
      z.object({
        attempt: z.number().int(),
        at: z.string(),
        durationMs: z.number().int(),
        statusCode: z.number().int().nullable(),
        error: z.string().nullable(),
        responseBody: z.string().nullable(),
      }),
    ),
  })
  .meta({ id: 'WebhookDelivery' })

export const testResultSchema = z
  .object({
    eventId: z.uuid(),
    deliveryId: z.uuid(),
    delivered: z.boolean(),
    statusCode: z.number().int().nullable(),
    error: z.string().nullable(),
    durationMs: z.number().int(),
  })
  .meta({ id: 'WebhookTestResult' })
