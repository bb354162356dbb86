// A member's rewards: redeeming one for points (a till or an app), cancelling an unused one, and
// what the member can redeem now.
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod'
import { programOf } from '../../plugins/auth.js'
import { bearer } from '../../plugins/openapi.js'
import { commonErrors, listOf, problemSchema } from '../../shared/schemas.js'
import { memberParamsSchema } from '../members/schemas.js'
import { sendStored } from '../idempotency/reply.js'
import { idempotencyHeaderSchema, requestHash, runIdempotentPlan } from '../idempotency/service.js'
import { cancelRedemption } from './cancel.js'
import { listMemberRewards, listRedemptions } from './reads.js'
import { redeemReward } from './redeem.js'
import {
  memberRewardParamsSchema,
  memberRewardsQuerySchema,
  memberRewardsSchema,
  redemptionParamsSchema,
  redemptionResultSchema,
  redemptionSchema,
  redemptionsQuerySchema,
} from './schemas.js'
import { redemptionView, rewardView } from './views.js'

const tags = ['rewards']
const WRITERS = ['pos', 'members:write'] as const
const CANCELLERS = ['pos', 'members:write', 'program:manage'] as const
const READERS = ['pos', 'members:read', 'balances:read'] as const
const writeErrors = { ...commonErrors, 409: problemSchema, 422: problemSchema }

const memberRewardsRoutes: FastifyPluginAsyncZod = async (app) => {
  const database = app.db

  app.get('/v1/members/:memberId/rewards', {
    schema: {
      operationId: 'listMemberRewards',
      description:
        'The rewards the member can redeem now, cheapest first: active, within their validity, in stock, within the limit per member and affordable with the available points. ' +
        'With `all=true`, every active reward with the first reason a redemption would be refused (`availability`) and the points the member lacks. An erased member has none.',
      'x-problems': { 404: ['MEMBER_NOT_FOUND'] },
      tags,
      summary: 'What the member can redeem now',
      security: bearer,
      params: memberParamsSchema,
      querystring: memberRewardsQuerySchema,
      response: { 200: memberRewardsSchema, ...commonErrors },
    },
    preHandler: app.authorize(READERS),
    handler: async (request) => {
      const program = programOf(request)
      const { memberId } = request.params
      const { pointsAvailable, rewards } = await listMemberRewards(database.db, program, memberId, request.query.all === 'true')
      return {
        memberId,
        pointsAvailable: Number(pointsAvailable),
        data: rewards.map((r) => ({ reward: rewardView(r.reward), availability: r.availability, pointsShort: Number(r.pointsShort), memberRedemptionsLeft: r.memberRedemptionsLeft })),
      }
    },
  })

  app.get('/v1/members/:memberId/rewards/redemptions', {
    schema: {
      operationId: 'listRewardRedemptions',
      description: 'The member’s reward redemptions, newest first, active and cancelled (or one status); paged by cursor.',
      'x-problems': { 404: ['MEMBER_NOT_FOUND'] },
      tags,
      summary: 'The member’s reward redemptions',
      security: bearer,
      params: memberParamsSchema,
      querystring: redemptionsQuerySchema,
      response: { 200: listOf(redemptionSchema), ...commonErrors },
    },
    preHandler: app.authorize(READERS),
    handler: async (request) => {
      const { data, nextCursor } = await listRedemptions(database.db, programOf(request).id, request.params.memberId, request.query)
      return { data: data.map(redemptionView), nextCursor }
    },
  })

  app.post('/v1/members/:memberId/rewards/:rewardId/redemptions', {
    schema: {
      operationId: 'redeemReward',
      description:
        'Redeems a reward for the member: in one transaction the points leave the member’s wallet (a `reward_redemption` ledger entry to points redeemed), the reward’s stock and the member’s count take one, and a coupon reward issues a unique code of its campaign to the member. ' +
        'Concurrent redemptions of the last unit: one wins, the others are 409 REWARD_OUT_OF_STOCK.',
      'x-problems': { 404: ['MEMBER_NOT_FOUND', 'REWARD_NOT_FOUND'], 409: ['MEMBER_ERASED', 'REWARD_NOT_AVAILABLE', 'REWARD_OUT_OF_STOCK', 'REWARD_LIMIT_REACHED'], 422: ['INSUFFICIENT_FUNDS'] },
      tags,
      summary: 'Redeem a reward for points',
      security: bearer,
      params: memberRewardParamsSchema,
      headers: idempotencyHeaderSchema,
      response: { 201: redemptionResultSchema, ...writeErrors },
    },
    preHandler: app.authorize(WRITERS),
    handler: async (request, reply) => {
      const program = programOf(request)
      const { memberId, rewardId } = request.params
      const hash = requestHash(`redeem-reward:${memberId}:${rewardId}`, {})
      const stored = await runIdempotentPlan(database, program.id, request.headers['idempotency-key'], hash, (idempotency) =>
        redeemReward(database, program, { memberId, rewardId }, idempotency, request.principal!.clientId),
      )
      return sendStored(request, reply, stored)
    },
  })

  app.post('/v1/members/:memberId/rewards/redemptions/:redemptionId/cancellation', {
    schema: {
      operationId: 'cancelRewardRedemption',
      description:
        'Cancels a redemption whose coupon was not used (an item reward: one not handed over): a `reward_cancellation` entry reversing the redemption’s gives the points back to the lots they came from, the reward’s stock and the member’s count get their unit back, and the coupon is voided (a sale naming it is refused as COUPON_USED_UP). ' +
        'Once only: a second cancellation is 409 REWARD_ALREADY_CANCELLED; a used coupon 409 REWARD_ALREADY_USED.',
      'x-problems': { 404: ['REWARD_REDEMPTION_NOT_FOUND'], 409: ['REWARD_ALREADY_CANCELLED', 'REWARD_ALREADY_USED'] },
      tags,
      summary: 'Cancel an unused reward: the points back, the coupon voided',
      security: bearer,
      params: redemptionParamsSchema,
      headers: idempotencyHeaderSchema,
      response: { 200: redemptionResultSchema, ...writeErrors },
    },
    preHandler: app.authorize(CANCELLERS),
    handler: async (request, reply) => {
      const program = programOf(request)
      const { memberId, redemptionId } = request.params
      const hash = requestHash(`cancel-reward:${memberId}:${redemptionId}`, {})
      const stored = await runIdempotentPlan(database, program.id, request.headers['idempotency-key'], hash, (idempotency) =>
        cancelRedemption(database, program, { memberId, redemptionId }, idempotency, request.principal!.clientId),
      )
      return sendStored(request, reply, stored)
    },
  })
}

export default memberRewardsRoutes
