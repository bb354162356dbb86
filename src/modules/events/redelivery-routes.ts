import { z } from 'zod'
import type { FastifyInstance } from 'fastify'
import type { ZodTypeProvider } from 'fastify-type-provider-zod'
import type { Executor } from '../../db/client.js'
import { programOf } from '../../plugins/auth.js'
import { bearer } from '../../plugins/openapi.js'
import { notFound } from '../../shared/errors.js'
import { commonErrors, named, problemSchema } from '../../shared/schemas.js'
import { requestHash, runIdempotent, type StoredResponse } from '../idempotency/service.js'
import { sendStored } from '../idempotency/reply.js'
import { optionalIdempotencyHeaderSchema } from './endpoint-routes.js'
import { deliveryPending, MAX_REDELIVERY_WINDOW_DAYS, redeliveryRefusal, redeliveryWindow } from './redelivery.js'
import * as repo from './repository.js'
import { deliverySchema, redeliveryCountSchema, redeliveryWindowSchema, webhookDeliveryParamsSchema, webhookParamsSchema } from './schemas.js'
import { nudgeDispatchers } from './signal.js'
import { deliveryView } from './views.js'

// Redelivery by hand (issue 17): one finished delivery, or every failed one of an endpoint in a
// window, back to pending and due now; the dispatcher sends them with the whole retry schedule.
//
// Idempotency-Key: accepted, not required. A redelivery creates nothing and its effect is a state
// (pending, due now), so a plain retry is harmless: at worst the event is sent once more, which
// receivers drop by webhook-id. With a key, a retry whose answer was lost gets the first answer
// (the delivery as it was, the count) instead of 409 WEBHOOK_DELIVERY_PENDING or a count of 0.

const tags = ['webhooks']
const MANAGE = ['program:manage'] as const

/** Runs `work` under the Idempotency-Key when one is sent, else once as is. */
async function maybeIdempotent(app: FastifyInstance, programId: string, key: string | undefined, hash: () => string, work: (ex: Executor) => Promise<{ status: number; body: unknown }>): Promise<StoredResponse> {
  if (key) return runIdempotent(app.db, programId, key, hash(), work)
  return { ...(await work(app.db.db)), replayed: false }
}

export async function redeliveryRoutes(app: FastifyInstance) {
  const r = app.withTypeProvider<ZodTypeProvider>()

  r.post('/v1/webhooks/:webhookId/deliveries/:deliveryId/redeliveries', {
    schema: {
      operationId: 'redeliverWebhookDelivery',
      tags,
      summary: 'Send one finished delivery again, now, with the whole retry schedule',
      description:
        'Scope `program:manage`. The delivery (succeeded, or failed after its last attempt) goes back to pending, due now: the dispatcher sends the same event (same webhook-id, signed anew), ' +
        'and a failure is retried with the whole backoff again (30 s doubling, as many attempts as a new delivery); the log keeps numbering attempts. Answers 202 with the delivery as the delivery log shows it. ' +
        'Repeating it is harmless (Idempotency-Key optional: with one, a retry answers the first answer). ' +
        'Answers 409 WEBHOOK_DELIVERY_PENDING for a delivery not finished yet, 409 WEBHOOK_DISABLED when the endpoint is disabled or deleted, 404 NOT_FOUND for a delivery of another endpoint or program.',
      'x-problems': { 409: ['WEBHOOK_DELIVERY_PENDING', 'WEBHOOK_DISABLED'] },
      security: bearer,
      headers: optionalIdempotencyHeaderSchema,
      params: webhookDeliveryParamsSchema,
      body: named(z.object({}).strict(), 'WebhookRedeliveryRequest').nullish(),
      response: { 202: deliverySchema, ...commonErrors, 409: problemSchema },
    },
    preHandler: app.authorize(MANAGE),
    handler: async (request, reply) => {
      const program = programOf(request)
      const { webhookId, deliveryId } = request.params
      const stored = await maybeIdempotent(app, program.id, request.headers['idempotency-key'], () => requestHash(`redeliver-webhook-delivery:${webhookId}:${deliveryId}`, {}), async (ex) => {
        // Decided on what was read, applied guarded by the same conditions; a change in between (a
        // concurrent redelivery, the endpoint disabled) is decided again on what it left.
        for (let round = 0; round < 2; round++) {
          const endpoint = await repo.findEndpointWithDeleted(ex, program.id, webhookId)
          const delivery = endpoint && (await repo.findDelivery(ex, program.id, webhookId, deliveryId))
          if (!endpoint || !delivery) throw notFound('Webhook delivery')
          const refusal = redeliveryRefusal(endpoint, delivery)
          if (refusal) throw refusal
          if ((await repo.redeliver(ex, program.id, webhookId, { id: deliveryId }, app.now())).length) {
            return { status: 202, body: deliveryView((await repo.findDelivery(ex, program.id, webhookId, deliveryId))!) }
          }
        }
        throw deliveryPending()
      })
      if (!stored.replayed && stored.status === 202) nudgeDispatchers()
      return sendStored(request, reply, stored)
    },
  })

  r.post('/v1/webhooks/:webhookId/redeliveries', {
    schema: {
      operationId: 'redeliverFailedWebhookDeliveries',
      tags,
      summary: `Send again every failed delivery of an endpoint created in a window (at most ${MAX_REDELIVERY_WINDOW_DAYS} days)`,
      description:
        'Scope `program:manage`. After an outage of the receiver: every delivery of this endpoint that failed (gave up after its last attempt) and was created at or after `since` and before `until` (default now) ' +
        'goes back to pending, due now, with the whole retry schedule again, as POST …/deliveries/{deliveryId}/redeliveries does for one; succeeded and pending deliveries are left as they are. ' +
        `Answers 202 with how many. Repeating it is harmless: what it redelivered is pending, so a repeat counts only what failed since (Idempotency-Key optional: with one, a retry answers the first count). ` +
        `Answers 400 VALIDATION_FAILED for a window that is empty or longer than ${MAX_REDELIVERY_WINDOW_DAYS} days, 409 WEBHOOK_DISABLED when the endpoint is disabled or deleted, 404 NOT_FOUND for an endpoint of another program.`,
      'x-problems': { 409: ['WEBHOOK_DISABLED'] },
      security: bearer,
      headers: optionalIdempotencyHeaderSchema,
      params: webhookParamsSchema,
      body: redeliveryWindowSchema,
      response: { 202: redeliveryCountSchema, ...commonErrors, 409: problemSchema },
    },
    preHandler: app.authorize(MANAGE),
    handler: async (request, reply) => {
      const program = programOf(request)
      const { webhookId } = request.params
      const now = app.now()
      const window = redeliveryWindow(request.body, now)
      // The body as sent (until left out stays left out), so a retry with the key matches its first request.
      const stored = await maybeIdempotent(app, program.id, request.headers['idempotency-key'], () => requestHash(`redeliver-failed-webhook-deliveries:${webhookId}`, request.body), async (ex) => {
        const endpoint = await repo.findEndpointWithDeleted(ex, program.id, webhookId)
        if (!endpoint) throw notFound('Webhook endpoint')
        const refusal = redeliveryRefusal(endpoint)
        if (refusal) throw refusal
        const ids = await repo.redeliver(ex, program.id, webhookId, { failedSince: window.since, failedUntil: window.until }, now)
        return { status: 202, body: { count: ids.length } }
      })
      if (!stored.replayed && stored.status === 202) nudgeDispatchers()
      return sendStored(request, reply, stored)
    },
  })
}
