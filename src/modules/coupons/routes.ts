import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod'
import { programOf } from '../../plugins/auth.js'
import { bearer } from '../../plugins/openapi.js'
import { commonErrors, listOf, problemSchema, named } from '../../shared/schemas.js'
import { campaignView, codeView, createCouponCampaigns } from './campaigns.js'
import { idempotencyHeaderSchema, requestHash, runIdempotent } from '../idempotency/service.js'
import { sendStored } from '../idempotency/reply.js'
import {
  campaignCreateSchema,
  campaignParamsSchema,
  campaignQuerySchema,
  campaignSchema,
  codesCreateSchema,
  codesCreatedSchema,
  codesQuerySchema,
  couponCodeSchema,
  couponLookupSchema,
  lookupParamsSchema,
  lookupQuerySchema,
} from './schemas.js'

const tags = ['coupons']
const MANAGE = ['program:manage'] as const

const couponsRoutes: FastifyPluginAsyncZod = async (app) => {
  const campaigns = createCouponCampaigns(app.db)

  app.post('/v1/coupons/campaigns', {
    schema: { operationId: 'createCampaign', description: 'Creates a coupon campaign (percent or fixed discount, minimum spend, validity, limits, budget; one shared code or generated unique codes).', 'x-problems': { 409: ['COUPON_CODE_TAKEN'] },
      tags,
      summary: 'Create a coupon campaign (percent or fixed, minimum spend, validity, limits, budget; one shared code or generated codes)',
      security: bearer,
      headers: idempotencyHeaderSchema,
      body: named(campaignCreateSchema, 'CampaignCreate'),
      response: { 201: campaignSchema, ...commonErrors, 409: problemSchema },
    },
    preHandler: app.authorize(MANAGE),
    handler: async (request, reply) => {
      const program = programOf(request)
      const stored = await runIdempotent(
        app.db,
        program.id,
        request.headers['idempotency-key'],
        requestHash('create-coupon-campaign', request.body),
        async (tx) => ({ status: 201, body: campaignView(program, await campaigns.create(tx, program, request.body, request.principal!.clientId)) }),
        { mapError: campaigns.createdError(request.body) },
      )
      return sendStored(request, reply, stored)
    },
  })

  app.get('/v1/coupons/campaigns', {
    schema: { operationId: 'listCampaigns', description: 'The program’s coupon campaigns; paged by cursor.', tags, summary: 'List coupon campaigns', security: bearer, querystring: campaignQuerySchema, response: { 200: listOf(campaignSchema), ...commonErrors } },
    preHandler: app.authorize(MANAGE),
    handler: async (request) => {
      const program = programOf(request)
      const { data, nextCursor } = await campaigns.list(program, request.query)
      return { data: data.map((c) => campaignView(program, c)), nextCursor }
    },
  })

  app.get('/v1/coupons/campaigns/:campaignId', {
    schema: { operationId: 'getCampaign', description: 'A coupon campaign with its budget used and its redemptions.', 'x-problems': { 404: ['CAMPAIGN_NOT_FOUND'] }, tags, summary: 'Get a coupon campaign, with its budget used and redemptions', security: bearer, params: campaignParamsSchema, response: { 200: campaignSchema, ...commonErrors } },
    preHandler: app.authorize(MANAGE),
    handler: async (request) => {
      const program = programOf(request)
      return campaignView(program, await campaigns.get(program, request.params.campaignId))
    },
  })

  app.post('/v1/coupons/campaigns/:campaignId/archive', {
    schema: { operationId: 'archiveCampaign', description: 'Archives a campaign: its codes are refused from now on; redemptions already made stay. Archiving again is harmless.', 'x-problems': { 404: ['CAMPAIGN_NOT_FOUND'] },
      tags,
      summary: 'Archive a campaign: its codes are refused from now on; redemptions already made stay',
      security: bearer,
      params: campaignParamsSchema,
      response: { 200: campaignSchema, ...commonErrors },
    },
    preHandler: app.authorize(MANAGE),
    handler: async (request) => {
      const program = programOf(request)
      return campaignView(program, await campaigns.archive(program, request.params.campaignId))
    },
  })

  app.post('/v1/coupons/campaigns/:campaignId/codes', {
    schema: { operationId: 'createCouponCodes', description: 'Generates unique codes for a campaign (10 characters, Crockford base32, unguessable), optionally issued to one member.', 'x-problems': { 404: ['CAMPAIGN_NOT_FOUND', 'MEMBER_NOT_FOUND'], 409: ['CAMPAIGN_ARCHIVED', 'CAMPAIGN_ENDED', 'CAMPAIGN_SHARED_CODE'] },
      tags,
      summary: 'Generate unique codes for a campaign (10 characters, Crockford base32, unguessable), optionally issued to one member',
      security: bearer,
      params: campaignParamsSchema,
      headers: idempotencyHeaderSchema,
      body: named(codesCreateSchema, 'CouponCodesCreate'),
      response: { 201: codesCreatedSchema, ...commonErrors, 409: problemSchema },
    },
    preHandler: app.authorize(MANAGE),
    handler: async (request, reply) => {
      const program = programOf(request)
      const { campaignId } = request.params
      const stored = await runIdempotent(app.db, program.id, request.headers['idempotency-key'], requestHash(`generate-coupon-codes:${campaignId}`, request.body), async (tx) => ({
        status: 201,
        body: { campaignId, codes: await campaigns.generateCodes(tx, program, campaignId, request.body, request.principal!.clientId) },
      }))
      return sendStored(request, reply, stored)
    },
  })

  app.get('/v1/coupons/campaigns/:campaignId/codes', {
    schema: { operationId: 'listCouponCodes', description: 'The codes of a campaign with their uses; paged by cursor.', 'x-problems': { 404: ['CAMPAIGN_NOT_FOUND'] },
      tags,
      summary: 'The codes of a campaign, with their uses',
      security: bearer,
      params: campaignParamsSchema,
      querystring: codesQuerySchema,
      response: { 200: listOf(couponCodeSchema), ...commonErrors },
    },
    preHandler: app.authorize(MANAGE),
    handler: async (request) => {
      const { data, nextCursor } = await campaigns.listCodes(programOf(request), request.params.campaignId, request.query)
      return { data: data.map(codeView), nextCursor }
    },
  })

  app.get('/v1/coupons/:code', {
    schema: { operationId: 'getCoupon', description: 'Looks a coupon code up (case-insensitive): its campaign, whether it can be used now and how many uses are left.', 'x-problems': { 404: ['COUPON_NOT_FOUND'] },
      tags,
      summary: 'Look a coupon code up (case-insensitive): its campaign, whether it can be used now and how many uses are left',
      security: bearer,
      params: lookupParamsSchema,
      querystring: lookupQuerySchema,
      response: { 200: couponLookupSchema, ...commonErrors },
    },
    preHandler: app.authorize(['program:manage', 'pos']),
    handler: async (request) => campaigns.lookup(programOf(request), request.params.code, request.query.memberId),
  })
}

export default couponsRoutes
