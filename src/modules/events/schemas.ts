import { z } from 'zod'
import { SUBSCRIBABLE_EVENT_TYPES } from './catalog.js'

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
    createdAt: z.string(),
  })
  .meta({ id: 'WebhookEndpoint' })

export const webhookCreatedSchema = webhookSchema
  .extend({
    secret: z
      .string()
      .describe('whsec_…: verifies the webhook-signature header (Standard Webhooks, HMAC-SHA256). Shown once; store it now.'),
  })
  .meta({ id: 'WebhookEndpointCreated' })

export const webhookParamsSchema = z.object({ webhookId: z.uuid() })

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
