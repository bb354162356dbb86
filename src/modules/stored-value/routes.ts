import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod'
import { programOf } from '../../plugins/auth.js'
import { bearer } from '../../plugins/openapi.js'
import { commonErrors, problemSchema, named } from '../../shared/schemas.js'
import { idempotencyHeaderSchema } from '../idempotency/service.js'
import { sendStored } from '../idempotency/reply.js'
import { memberParamsSchema } from '../members/schemas.js'
import { topUpResultSchema, topUpSchema } from './schemas.js'
import { topUpStoredValue } from './top-up.js'

const storedValueRoutes: FastifyPluginAsyncZod = async (app) => {
  const database = app.db

  app.post('/v1/members/:memberId/stored-value/top-ups', {
    schema: { operationId: 'createTopUp', description: 'Loads prepaid stored value onto the member (tender clearing to member wallet); writes one ledger entry.', 'x-problems': { 404: ['MEMBER_NOT_FOUND'], 409: ['MEMBER_ERASED'] },
      tags: ['stored value'],
      summary: 'Load prepaid stored value onto a member (tender clearing to member wallet)',
      security: bearer,
      params: memberParamsSchema,
      headers: idempotencyHeaderSchema,
      body: named(topUpSchema, 'TopUpCreate'),
      response: { 201: topUpResultSchema, ...commonErrors, 409: problemSchema, 422: problemSchema },
    },
    preHandler: app.authorize(['pos']),
    handler: async (request, reply) => {
      const stored = await topUpStoredValue(database, programOf(request), request.params.memberId, request.body, {
        idempotencyKey: request.headers['idempotency-key'],
        actor: request.principal!.clientId,
        publicBaseUrl: app.config.publicBaseUrl,
      })
      return sendStored(request, reply, stored)
    },
  })
}

export default storedValueRoutes
