// The catalog of rewards for points (program:manage; a till may read it).
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod'
import { programOf } from '../../plugins/auth.js'
import { bearer } from '../../plugins/openapi.js'
import { commonErrors, listOf, named, problemSchema } from '../../shared/schemas.js'
import { sendStored } from '../idempotency/reply.js'
import { idempotencyHeaderSchema, requestHash, runIdempotent } from '../idempotency/service.js'
import { createRewardCatalog } from './catalog.js'
import { rewardCreateSchema, rewardParamsSchema, rewardQuerySchema, rewardSchema, rewardUpdateSchema } from './schemas.js'
import { rewardView } from './views.js'

const tags = ['rewards']
const MANAGE = ['program:manage'] as const
const READERS = ['program:manage', 'pos'] as const

const rewardsRoutes: FastifyPluginAsyncZod = async (app) => {
  const catalog = createRewardCatalog(app.db)

  app.post('/v1/rewards', {
    schema: {
      operationId: 'createReward',
      description:
        'Adds a reward to the catalog: its points price, stock (null: unlimited), validity, limit per member, and what it gives: a coupon of a unique-code campaign issued to the member, or a free item by sku. Price and what it gives are fixed once created.',
      'x-problems': { 404: ['CAMPAIGN_NOT_FOUND'], 422: ['REWARD_CAMPAIGN_UNUSABLE'] },
      tags,
      summary: 'Add a reward to the catalog',
      security: bearer,
      headers: idempotencyHeaderSchema,
      body: named(rewardCreateSchema, 'RewardCreate'),
      response: { 201: rewardSchema, ...commonErrors, 422: problemSchema },
    },
    preHandler: app.authorize(MANAGE),
    handler: async (request, reply) => {
      const program = programOf(request)
      const stored = await runIdempotent(app.db, program.id, request.headers['idempotency-key'], requestHash('create-reward', request.body), async (tx) => ({
        status: 201,
        body: rewardView(await catalog.create(tx, program.id, request.body, request.principal!.clientId)),
      }))
      return sendStored(request, reply, stored)
    },
  })

  app.get('/v1/rewards', {
    schema: {
      operationId: 'listRewards',
      description: 'The program’s catalog of rewards, active and inactive; paged by cursor.',
      tags,
      summary: 'List the catalog of rewards',
      security: bearer,
      querystring: rewardQuerySchema,
      response: { 200: listOf(rewardSchema), ...commonErrors },
    },
    preHandler: app.authorize(READERS),
    handler: async (request) => {
      const { data, nextCursor } = await catalog.list(programOf(request).id, request.query)
      return { data: data.map(rewardView), nextCursor }
    },
  })

  app.get('/v1/rewards/:rewardId', {
    schema: {
      operationId: 'getReward',
      description: 'A reward of the catalog with its stock left and active redemptions.',
      'x-problems': { 404: ['REWARD_NOT_FOUND'] },
      tags,
      summary: 'Get a reward',
      security: bearer,
      params: rewardParamsSchema,
      response: { 200: rewardSchema, ...commonErrors },
    },
    preHandler: app.authorize(READERS),
    handler: async (request) => rewardView(await catalog.get(programOf(request).id, request.params.rewardId)),
  })

  app.patch('/v1/rewards/:rewardId', {
    schema: {
      operationId: 'updateReward',
      description:
        'Changes a reward: name, stock left (null: unlimited), validity, active. Only the fields sent change; an empty body is 400. active: false stops redemptions (retire or pause it); redemptions already made stay and can still be cancelled.',
      'x-problems': { 404: ['REWARD_NOT_FOUND'] },
      tags,
      summary: 'Change a reward: name, stock, validity, active',
      security: bearer,
      params: rewardParamsSchema,
      body: named(rewardUpdateSchema, 'RewardUpdate'),
      response: { 200: rewardSchema, ...commonErrors },
    },
    preHandler: app.authorize(MANAGE),
    handler: async (request) => rewardView(await catalog.update(programOf(request).id, request.params.rewardId, request.body)),
  })
}

export default rewardsRoutes
