import { z } from 'zod'
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod'
import { programOf } from '../../plugins/auth.js'
import { bearer } from '../../plugins/openapi.js'
import { commonErrors, problemSchema, named } from '../../shared/schemas.js'
import { memberParamsSchema } from '../members/schemas.js'
import { nameReferrer } from './service.js'

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
      body: named(referrerBodySchema, 'ReferrerSet'),
      response: { 200: referrerSchema, ...commonErrors, 409: problemSchema, 422: problemSchema },
    },
    preHandler: app.authorize(['members:write', 'pos']),
    handler: async (request) => nameReferrer(app.db, programOf(request), request.params.memberId, request.body.referralCode),
  })
}

export default referralsRoutes
