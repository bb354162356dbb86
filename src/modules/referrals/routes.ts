import { z } from 'zod'
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod'
import { programOf } from '../../plugins/auth.js'
import { bearer } from '../../plugins/openapi.js'
import { commonErrors, problemSchema, named } from '../../shared/schemas.js'
import { memberParamsSchema } from '../members/schemas.js'
import { nameReferrer } from './service.js'
import { idempotencyHeaderSchema, requestHash, runIdempotent } from '../idempotency/service.js'
import { sendStored } from '../idempotency/reply.js'

const referrerBodySchema = z.object({ referralCode: z.string().trim().min(1).max(32).describe('The referrer’s referral code (case-insensitive)') }).strict()

const referrerSchema = z
  .object({ memberId: z.uuid(), referredBy: z.uuid().describe('The referrer’s member id') })
  .meta({ id: 'Referrer' })

const referralsRoutes: FastifyPluginAsyncZod = async (app) => {
  app.post('/v1/members/:memberId/referrer', {
    schema: { operationId: 'setReferrer', description: 'Names the member who referred this one, before this one’s first purchase; that purchase then rewards both.', 'x-problems': { 404: ['MEMBER_NOT_FOUND'], 409: ['ALREADY_REFERRED', 'MEMBER_ERASED', 'REFERRAL_TOO_LATE'], 422: ['REFERRAL_CODE_NOT_FOUND', 'REFERRAL_LOOP', 'SELF_REFERRAL'] },
      tags: ['members'],
      summary: 'Name the member who referred this one (before the first purchase); the first purchase then rewards both',
      security: bearer,
      params: memberParamsSchema,
      headers: idempotencyHeaderSchema,
      body: named(referrerBodySchema, 'ReferrerSet'),
      response: { 200: referrerSchema, ...commonErrors, 409: problemSchema, 422: problemSchema },
    },
    preHandler: app.authorize(['members:write', 'pos']),
    handler: async (request, reply) => {
      const program = programOf(request)
      const { memberId } = request.params
      const stored = await runIdempotent(app.db, program.id, request.headers['idempotency-key'], requestHash(`name-referrer:${memberId}`, request.body), async (tx) => ({
        status: 200,
        body: await nameReferrer(tx, program, memberId, request.body.referralCode),
      }))
      return sendStored(request, reply, stored)
    },
  })
}

export default referralsRoutes
