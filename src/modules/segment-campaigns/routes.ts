// Segment campaigns (program:manage): created on a saved segment, read with their progress, resumed.
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod'
import { programOf } from '../../plugins/auth.js'
import { bearer } from '../../plugins/openapi.js'
import { AppError } from '../../shared/errors.js'
import { decodeCursor, page } from '../../shared/pagination.js'
import { commonErrors, listOf, named, problemSchema } from '../../shared/schemas.js'
import { sendStored } from '../idempotency/reply.js'
import { idempotencyHeaderSchema, requestHash, runIdempotent } from '../idempotency/service.js'
import { segmentParamsSchema } from '../saved-segments/schemas.js'
import { campaignProgress, findCampaign, listCampaigns } from './repository.js'
import { campaignCreateSchema, campaignParamsSchema, campaignQuerySchema, campaignSchema } from './schemas.js'
import { campaignRunsOf, createCampaign } from './service.js'
import { campaignPath, campaignView } from './views.js'

const tags = ['segments']
const MANAGE = ['program:manage'] as const
const isId = (k: string) => /^[0-9a-f-]{36}$/.test(k)
const campaignNotFound = () => new AppError(404, 'SEGMENT_CAMPAIGN_NOT_FOUND', 'Segment campaign not found', 'No segment campaign of this program has this id')

const segmentCampaignsRoutes: FastifyPluginAsyncZod = async (app) => {
  const db = app.db.db
  const runs = campaignRunsOf(app.db, app.log)
  app.addHook('onClose', () => runs.close())

  const viewOf = async (programId: string, campaignId: string) => {
    const campaign = await findCampaign(db, programId, campaignId)
    if (!campaign) throw campaignNotFound()
    return campaignView(campaign, (await campaignProgress(db, programId, [campaignId])).get(campaignId))
  }

  app.post('/v1/segments/:segmentId/campaigns', {
    schema: {
      operationId: 'createSegmentCampaign',
      description:
        'Starts a campaign to the segment’s members as they are now: each gets the grant once (points as a bonus entry, or a code of a unique-code coupon campaign) and a campaign.granted marketing event ' +
        '(queued inside the sending window for members with consent, recorded as suppressed otherwise). Answers at once with the campaign and its total; the grants run in the background (GET the campaign for `progress`). ' +
        'The same request with the same Idempotency-Key answers the same and resumes a run that stopped.',
      'x-problems': { 404: ['SEGMENT_NOT_FOUND', 'CAMPAIGN_NOT_FOUND'], 409: ['SEGMENT_ARCHIVED', 'CAMPAIGN_ARCHIVED', 'CAMPAIGN_ENDED', 'CAMPAIGN_SHARED_CODE'] },
      tags,
      summary: 'Start a campaign to a saved segment',
      security: bearer,
      headers: idempotencyHeaderSchema,
      params: segmentParamsSchema,
      body: named(campaignCreateSchema, 'SegmentCampaignCreate'),
      response: { 201: campaignSchema, ...commonErrors, 409: problemSchema, 422: problemSchema },
    },
    preHandler: app.authorize(MANAGE),
    handler: async (request, reply) => {
      const program = programOf(request)
      const { segmentId } = request.params
      const stored = await runIdempotent(app.db, program.id, request.headers['idempotency-key'], requestHash('create-segment-campaign', { segmentId, ...request.body }), async (tx) => ({
        status: 201,
        body: campaignView(await createCampaign(tx, program, segmentId, request.body, request.principal!.clientId)),
      }))
      if (stored.status === 201) {
        const id = (stored.body as { id: string }).id
        reply.header('location', campaignPath(id))
        runs.start(program, id)
      }
      return sendStored(request, reply, stored)
    },
  })

  app.get('/v1/segment-campaigns', {
    schema: {
      operationId: 'listSegmentCampaigns',
      description: 'The program’s segment campaigns with their progress, by id; paged by cursor.',
      tags,
      summary: 'List segment campaigns',
      security: bearer,
      querystring: campaignQuerySchema,
      response: { 200: listOf(campaignSchema), ...commonErrors },
    },
    preHandler: app.authorize(MANAGE),
    handler: async (request) => {
      const programId = programOf(request).id
      const rows = await listCampaigns(db, programId, request.query, decodeCursor(request.query.cursor, isId))
      const { data, nextCursor } = page(rows, request.query.limit, (c) => c.id)
      const progress = await campaignProgress(db, programId, data.map((c) => c.id))
      return { data: data.map((c) => campaignView(c, progress.get(c.id))), nextCursor }
    },
  })

  app.get('/v1/segment-campaigns/:campaignId', {
    schema: {
      operationId: 'getSegmentCampaign',
      description: 'A segment campaign: its status and progress (`done` of `total` members), what it gave so far and the events it queued or suppressed; readable while it runs.',
      'x-problems': { 404: ['SEGMENT_CAMPAIGN_NOT_FOUND'] },
      tags,
      summary: 'Get a segment campaign',
      security: bearer,
      params: campaignParamsSchema,
      response: { 200: campaignSchema, ...commonErrors },
    },
    preHandler: app.authorize(MANAGE),
    handler: async (request) => viewOf(programOf(request).id, request.params.campaignId),
  })

  app.post('/v1/segment-campaigns/:campaignId/runs', {
    schema: {
      operationId: 'resumeSegmentCampaign',
      description:
        'Runs the campaign here again: after a failure, or when the instance that ran it stopped. Members already granted are not granted again, whoever runs it and however often; runs on two instances share the work. ' +
        'No Idempotency-Key: a run is idempotent by the campaign’s members. Answers at once with the campaign (a completed one is only read).',
      'x-problems': { 404: ['SEGMENT_CAMPAIGN_NOT_FOUND'] },
      tags,
      summary: 'Resume a segment campaign',
      security: bearer,
      params: campaignParamsSchema,
      response: { 202: campaignSchema, ...commonErrors },
    },
    preHandler: app.authorize(MANAGE),
    handler: async (request, reply) => {
      const program = programOf(request)
      const view = await viewOf(program.id, request.params.campaignId)
      if (view.status !== 'completed') runs.start(program, view.id)
      return reply.code(202).send(view)
    },
  })
}

export default segmentCampaignsRoutes
