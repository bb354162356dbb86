import { z } from 'zod'
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod'
import { programOf } from '../../plugins/auth.js'
import { bearer } from '../../plugins/openapi.js'
import { notFound, validationFailed } from '../../shared/errors.js'
import { newId } from '../../shared/ids.js'
import { decodeCursor, page } from '../../shared/pagination.js'
import { commonErrors, isoTimestamp, listOf, named } from '../../shared/schemas.js'
import { webhookUrlProblem } from './http.js'
import * as repo from './repository.js'
import { deliveryQuerySchema, deliverySchema, testResultSchema, webhookCreatedSchema, webhookCreateSchema, webhookParamsSchema, webhookSchema } from './schemas.js'
import { newWebhookSecret } from './signing.js'
import type { WebhookEndpointRow } from './tables.js'

const tags = ['webhooks']
const MANAGE = ['program:manage'] as const

const endpointView = (w: WebhookEndpointRow) => ({ id: w.id, url: w.url, description: w.description, eventTypes: w.eventTypes, createdAt: isoTimestamp(w.createdAt) })
const at = (d: Date | null) => (d ? isoTimestamp(d) : null)

const webhooksRoutes: FastifyPluginAsyncZod = async (app) => {
  const db = app.db.db
  const { allowPrivateUrls } = app.config.webhooks

  app.post('/v1/webhooks', {
    schema: { operationId: 'createWebhook', description: 'Registers a webhook endpoint for some event types; its signing secret (whsec_…) is in this answer only.',
      tags,
      summary: 'Register a webhook endpoint; its signing secret (whsec_…) is shown once',
      security: bearer,
      body: named(webhookCreateSchema, 'WebhookCreate'),
      response: { 201: webhookCreatedSchema, ...commonErrors },
    },
    preHandler: app.authorize(MANAGE),
    handler: async (request, reply) => {
      const program = programOf(request)
      const problem = webhookUrlProblem(request.body.url, allowPrivateUrls)
      if (problem) throw validationFailed(`url: ${problem}`, [{ path: 'body/url', message: problem }])
      const secret = newWebhookSecret()
      const row = await repo.insertEndpoint(db, {
        programId: program.id,
        id: newId(),
        url: request.body.url,
        description: request.body.description ?? null,
        eventTypes: [...new Set(request.body.eventTypes)],
        secret,
        createdBy: request.principal!.clientId,
      })
      reply.header('cache-control', 'no-store')
      return reply.code(201).send({ ...endpointView(row), secret })
    },
  })

  app.get('/v1/webhooks', {
    schema: { operationId: 'listWebhooks', description: 'The program’s webhook endpoints; secrets are never shown again.', tags, summary: 'List webhook endpoints (secrets are never shown again)', security: bearer, response: { 200: listOf(webhookSchema), ...commonErrors } },
    preHandler: app.authorize(MANAGE),
    handler: async (request) => ({ data: (await repo.listEndpoints(db, programOf(request).id)).map(endpointView), nextCursor: null }),
  })

  app.delete('/v1/webhooks/:webhookId', {
    schema: { operationId: 'deleteWebhook', description: 'Deletes an endpoint: nothing more is sent to it; its delivery log stays.',
      tags,
      summary: 'Delete a webhook endpoint: nothing more is sent to it; its delivery log stays',
      security: bearer,
      params: webhookParamsSchema,
      response: { 204: z.undefined(), ...commonErrors },
    },
    preHandler: app.authorize(MANAGE),
    handler: async (request, reply) => {
      const deleted = await app.db.transaction((tx) => repo.deleteEndpoint(tx, programOf(request).id, request.params.webhookId, request.principal!.clientId))
      if (!deleted) throw notFound('Webhook endpoint')
      return reply.code(204).send()
    },
  })

  app.get('/v1/webhooks/:webhookId/deliveries', {
    schema: { operationId: 'listWebhookDeliveries', description: 'The delivery log of an endpoint, newest first: every event sent, its status and each attempt.',
      tags,
      summary: 'The delivery log of an endpoint, newest first: every event sent, its status and each attempt',
      security: bearer,
      params: webhookParamsSchema,
      querystring: deliveryQuerySchema,
      response: { 200: listOf(deliverySchema), ...commonErrors },
    },
    preHandler: app.authorize(MANAGE),
    handler: async (request) => {
      const program = programOf(request)
      const endpoint = await repo.findEndpoint(db, program.id, request.params.webhookId)
      if (!endpoint) throw notFound('Webhook endpoint')
      const q = request.query
      const before = decodeCursor(q.cursor, (k) => z.uuid().safeParse(k).success)
      const rows = await repo.listDeliveries(db, program.id, endpoint.id, { status: q.status }, q.limit, before)
      const { data, nextCursor } = page(rows, q.limit, (d) => d.id)
      return {
        data: data.map((d) => ({
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
        })),
        nextCursor,
      }
    },
  })

  app.post('/v1/webhooks/:webhookId/test', {
    schema: { operationId: 'testWebhook', description: 'Sends a signed webhook.test event to the endpoint now and reports what it answered; a failure is retried later like any delivery.',
      tags,
      summary: 'Send a signed webhook.test event to the endpoint now and report what it answered (retried later if it failed)',
      security: bearer,
      params: webhookParamsSchema,
      body: named(z.object({}).strict(), 'WebhookTestRequest').nullish(),
      response: { 200: testResultSchema, ...commonErrors },
    },
    preHandler: app.authorize(MANAGE),
    handler: async (request) => {
      const program = programOf(request)
      const endpoint = await repo.findEndpoint(db, program.id, request.params.webhookId)
      if (!endpoint) throw notFound('Webhook endpoint')
      const ids = { eventId: newId(), deliveryId: newId() }
      const now = new Date()
      await app.db.transaction((tx) => repo.insertTestEvent(tx, program.id, endpoint.id, ids, now))
      const result = await app.dispatcher.deliverNow(program.id, ids.deliveryId, now)
      const ok = result?.statusCode !== undefined && result.statusCode >= 200 && result.statusCode < 300
      return { ...ids, delivered: ok, statusCode: result?.statusCode ?? null, error: result?.error ?? null, durationMs: result?.durationMs ?? 0 }
    },
  })
}

export default webhooksRoutes
