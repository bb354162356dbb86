import { z } from 'zod'
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod'
import { programOf } from '../../plugins/auth.js'
import { bearer } from '../../plugins/openapi.js'
import { notFound, validationFailed } from '../../shared/errors.js'
import { newId } from '../../shared/ids.js'
import { decodeCursor, page } from '../../shared/pagination.js'
import { commonErrors, listOf, named } from '../../shared/schemas.js'
import type { Executor } from '../../db/client.js'
import { requestHash, runIdempotent } from '../idempotency/service.js'
import { sendStored } from '../idempotency/reply.js'
import { webhookUrlProblem } from './http.js'
import * as repo from './repository.js'
import { optionalIdempotencyHeaderSchema } from './endpoint-routes.js'
import { deliveryQuerySchema, deliverySchema, testResultSchema, webhookCreatedSchema, webhookCreateSchema, webhookParamsSchema, webhookSchema } from './schemas.js'
import { newWebhookSecret } from './signing.js'

const tags = ['webhooks']
const MANAGE = ['program:manage'] as const

import { endpointView, endpointRoutes } from './endpoint-routes.js'
import { redeliveryRoutes } from './redelivery-routes.js'
import { deliveryView } from './views.js'

const webhooksRoutes: FastifyPluginAsyncZod = async (app) => {
  const db = app.db.db
  const { allowPrivateUrls } = app.config.webhooks

  app.post('/v1/webhooks', {
    schema: { operationId: 'createWebhook', description: 'Registers a webhook endpoint for some event types; its signing secret (whsec_…) is in this answer only.',
      tags,
      summary: 'Register a webhook endpoint; its signing secret (whsec_…) is shown once',
      security: bearer,
      headers: optionalIdempotencyHeaderSchema,
      body: named(webhookCreateSchema, 'WebhookCreate'),
      response: { 201: webhookCreatedSchema, ...commonErrors },
    },
    preHandler: app.authorize(MANAGE),
    handler: async (request, reply) => {
      const program = programOf(request)
      const problem = webhookUrlProblem(request.body.url, allowPrivateUrls)
      if (problem) throw validationFailed(`url: ${problem}`, [{ path: 'body/url', message: problem }])
      reply.header('cache-control', 'no-store')
      const create = async (ex: Executor) => ({ status: 201, body: await createEndpointFor(ex, request, program.id) })
      const key = request.headers['idempotency-key']
      // With an Idempotency-Key a retry answers the endpoint (and secret) the first request made.
      if (key) return sendStored(request, reply, await runIdempotent(app.db, program.id, key, requestHash('create-webhook', request.body), create))
      return reply.code(201).send((await create(db)).body)
    },
  })

  async function createEndpointFor(ex: Executor, request: { body: z.output<typeof webhookCreateSchema>; principal?: { clientId: string } | null }, programId: string) {
      const secret = newWebhookSecret()
      const row = await repo.insertEndpoint(ex, {
        programId,
        id: newId(),
        url: request.body.url,
        description: request.body.description ?? null,
        eventTypes: [...new Set(request.body.eventTypes)],
        secret,
        createdBy: request.principal!.clientId,
      })
      return { ...endpointView(row), secret }
  }

  app.get('/v1/webhooks', {
    schema: { operationId: 'listWebhooks', description: 'The program’s webhook endpoints; secrets are never shown again.', tags, summary: 'List webhook endpoints (secrets are never shown again)', security: bearer, response: { 200: listOf(webhookSchema), ...commonErrors } },
    preHandler: app.authorize(MANAGE),
    handler: async (request) => ({ data: (await repo.listEndpoints(db, programOf(request).id)).map((w) => endpointView(w)), nextCursor: null }),
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
        data: data.map(deliveryView),
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

  await endpointRoutes(app)
  await redeliveryRoutes(app)
}

export default webhooksRoutes
