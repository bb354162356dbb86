import { z } from 'zod'
import type { FastifyInstance } from 'fastify'
import type { ZodTypeProvider } from 'fastify-type-provider-zod'
import { programOf } from '../../plugins/auth.js'
import { bearer } from '../../plugins/openapi.js'
import { notFound, validationFailed } from '../../shared/errors.js'
import { commonErrors, isoTimestamp, problemSchema } from '../../shared/schemas.js'
import { idempotencyHeaderSchema, idempotencyKeySchema, requestHash, runIdempotent } from '../idempotency/service.js'
import { sendStored } from '../idempotency/reply.js'
import { webhookUrlProblem } from './http.js'
import * as repo from './repository.js'
import { secretRotatedSchema, secretRotationSchema, webhookParamsSchema, webhookSchema, webhookUpdateSchema } from './schemas.js'
import { newWebhookSecret } from './signing.js'
import { at } from './views.js'
import type { WebhookEndpointRow } from './tables.js'

// Managing an endpoint after its creation (issue 17): PATCH it (URL, event types, enabled) and
// rotate its secret with an overlap during which deliveries carry both signatures.

export const endpointView = (w: WebhookEndpointRow, now = new Date()) => ({
  id: w.id,
  url: w.url,
  description: w.description,
  eventTypes: w.eventTypes,
  enabled: w.enabled,
  previousSecretExpiresAt: w.previousSecret && w.previousSecretUntil && w.previousSecretUntil > now ? isoTimestamp(w.previousSecretUntil) : null,
  createdAt: isoTimestamp(w.createdAt),
})

/** Idempotency-Key where it is accepted but not required (endpoint creation, kept compatible). */
export const optionalIdempotencyHeaderSchema = z.object({ 'idempotency-key': idempotencyKeySchema.optional() })

const tags = ['webhooks']
const MANAGE = ['program:manage'] as const

export async function endpointRoutes(app: FastifyInstance) {
  const r = app.withTypeProvider<ZodTypeProvider>()
  const { allowPrivateUrls } = app.config.webhooks

  r.patch('/v1/webhooks/:webhookId', {
    schema: {
      operationId: 'updateWebhook',
      tags,
      summary: 'Change a webhook endpoint: URL, description, event types, enabled',
      description:
        'Scope `program:manage`. Only the fields sent change (eventTypes replaces the list). The URL follows the rules of creation (https, public address). ' +
        'enabled: false stops deliveries: events meanwhile are not delivered to it, not even once it is enabled again, and its pending retries wait; enabled: true resumes those retries. ' +
        'Answers 400 VALIDATION_FAILED for a bad URL or an empty body, 404 NOT_FOUND for an endpoint of another program or deleted.',
      security: bearer,
      params: webhookParamsSchema,
      body: webhookUpdateSchema,
      response: { 200: webhookSchema, ...commonErrors },
    },
    preHandler: app.authorize(MANAGE),
    handler: async (request) => {
      const b = request.body
      if (Object.values(b).every((v) => v === undefined)) {
        throw validationFailed('at least one of url, description, eventTypes, enabled', [{ path: 'body', message: 'at least one of url, description, eventTypes, enabled' }])
      }
      if (b.url !== undefined) {
        const problem = webhookUrlProblem(b.url, allowPrivateUrls)
        if (problem) throw validationFailed(`url: ${problem}`, [{ path: 'body/url', message: problem }])
      }
      const set = {
        ...(b.url !== undefined ? { url: b.url } : {}),
        ...(b.description !== undefined ? { description: b.description } : {}),
        ...(b.eventTypes !== undefined ? { eventTypes: [...new Set(b.eventTypes)] } : {}),
        ...(b.enabled !== undefined ? { enabled: b.enabled } : {}),
      }
      const row = await repo.updateEndpoint(app.db.db, programOf(request).id, request.params.webhookId, set)
      if (!row) throw notFound('Webhook endpoint')
      return endpointView(row)
    },
  })

  r.post('/v1/webhooks/:webhookId/secret/rotations', {
    schema: {
      operationId: 'rotateWebhookSecret',
      tags,
      summary: 'Rotate an endpoint’s signing secret; the new secret is shown once',
      description:
        'Scope `program:manage`. Idempotency-Key required: a retry answers the same new secret. The previous secret keeps signing for `overlapSeconds` ' +
        '(default 24 h, 0 to 7 days): meanwhile every delivery carries two `v1,` signatures in webhook-signature, one per secret, so a receiver holding either verifies it; afterwards only the new one. ' +
        'Rotating again during an overlap drops the oldest secret at once (at most two sign). Answers 404 NOT_FOUND for an endpoint of another program or deleted.',
      security: bearer,
      headers: idempotencyHeaderSchema,
      params: webhookParamsSchema,
      body: secretRotationSchema.nullish(),
      response: { 201: secretRotatedSchema, ...commonErrors, 409: problemSchema, 422: problemSchema },
    },
    preHandler: app.authorize(MANAGE),
    handler: async (request, reply) => {
      const program = programOf(request)
      const overlapSeconds = request.body?.overlapSeconds ?? 86_400
      const { webhookId } = request.params
      reply.header('cache-control', 'no-store')
      const stored = await runIdempotent(app.db, program.id, request.headers['idempotency-key'], requestHash(`rotate-webhook-secret:${webhookId}`, { overlapSeconds }), async (tx) => {
        const now = new Date()
        const secret = newWebhookSecret()
        const until = overlapSeconds > 0 ? new Date(now.getTime() + overlapSeconds * 1000) : null
        const row = await repo.rotateSecret(tx, program.id, webhookId, secret, now, until)
        if (!row) throw notFound('Webhook endpoint')
        return { status: 201, body: { id: row.id, secret, rotatedAt: isoTimestamp(now), previousSecretExpiresAt: at(until) } }
      })
      return sendStored(request, reply, stored)
    },
  })
}
