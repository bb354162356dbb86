// Saved segments (program:manage; members:read may read them and their members).
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod'
import { programOf } from '../../plugins/auth.js'
import { bearer } from '../../plugins/openapi.js'
import { decodeCursor, page } from '../../shared/pagination.js'
import { commonErrors, listOf, named, problemSchema } from '../../shared/schemas.js'
import { sendStored } from '../idempotency/reply.js'
import { idempotencyHeaderSchema, requestHash, runIdempotent } from '../idempotency/service.js'
import { memberSchema } from '../members/schemas.js'
import { toMemberView } from '../members/service.js'
import { lifecycleStages } from '../segments/lifecycle.js'
import { archiveSegment, countSegmentMembers, createSegment, findSegment, listSegments, segmentMembersPage } from './repository.js'
import { segmentCountSchema, segmentCreateSchema, segmentMembersQuerySchema, segmentParamsSchema, segmentQuerySchema, segmentSchema } from './schemas.js'
import { segmentPath, segmentView } from './views.js'

const tags = ['segments']
const MANAGE = ['program:manage'] as const
const READERS = ['program:manage', 'members:read'] as const
const isId = (k: string) => /^[0-9a-f-]{36}$/.test(k)

const savedSegmentsRoutes: FastifyPluginAsyncZod = async (app) => {
  const db = app.db.db

  app.post('/v1/segments', {
    schema: {
      operationId: 'createSegment',
      description:
        'Saves a segment: a named filter over the program’s members (RFM segment, lifecycle stage, tier, days since the last purchase, birthday month, spend in a window, consent), every criterion given must hold. ' +
        'The segment is evaluated whenever it is read, so its members change with the members’ purchases; a campaign to it takes the members it has when the campaign is created.',
      'x-problems': { 400: ['SEGMENT_FILTER_INVALID'] },
      tags,
      summary: 'Save a segment',
      security: bearer,
      headers: idempotencyHeaderSchema,
      body: named(segmentCreateSchema, 'SegmentCreate'),
      response: { 201: segmentSchema, ...commonErrors, 422: problemSchema },
    },
    preHandler: app.authorize(MANAGE),
    handler: async (request, reply) => {
      const program = programOf(request)
      const stored = await runIdempotent(app.db, program.id, request.headers['idempotency-key'], requestHash('create-segment', request.body), async (tx) => {
        const segment = await createSegment(tx, program, request.body, request.principal!.clientId)
        return { status: 201, body: segmentView(segment) }
      })
      if (stored.status === 201) reply.header('location', segmentPath((stored.body as { id: string }).id))
      return sendStored(request, reply, stored)
    },
  })

  app.get('/v1/segments', {
    schema: { operationId: 'listSegments', description: 'The program’s saved segments, by id; paged by cursor.', tags, summary: 'List saved segments', security: bearer, querystring: segmentQuerySchema, response: { 200: listOf(segmentSchema), ...commonErrors } },
    preHandler: app.authorize(READERS),
    handler: async (request) => {
      const rows = await listSegments(db, programOf(request).id, request.query, decodeCursor(request.query.cursor, isId))
      const { data, nextCursor } = page(rows, request.query.limit, (s) => s.id)
      return { data: data.map(segmentView), nextCursor }
    },
  })

  app.get('/v1/segments/:segmentId', {
    schema: { operationId: 'getSegment', description: 'A saved segment and its filter.', 'x-problems': { 404: ['SEGMENT_NOT_FOUND'] }, tags, summary: 'Get a saved segment', security: bearer, params: segmentParamsSchema, response: { 200: segmentSchema, ...commonErrors } },
    preHandler: app.authorize(READERS),
    handler: async (request) => segmentView(await findSegment(db, programOf(request).id, request.params.segmentId)),
  })

  app.delete('/v1/segments/:segmentId', {
    schema: {
      operationId: 'archiveSegment',
      description: 'Archives a segment: it stays readable, with its members and its campaigns (which run on), but takes no new campaign. Archiving it again changes nothing.',
      'x-problems': { 404: ['SEGMENT_NOT_FOUND'] },
      tags,
      summary: 'Archive a saved segment',
      security: bearer,
      params: segmentParamsSchema,
      response: { 200: segmentSchema, ...commonErrors },
    },
    preHandler: app.authorize(MANAGE),
    handler: async (request) => segmentView(await archiveSegment(db, programOf(request).id, request.params.segmentId)),
  })

  app.get('/v1/segments/:segmentId/members', {
    schema: {
      operationId: 'listSegmentMembers',
      description: 'The segment’s members now, by id, each as GET /v1/members/{memberId} shows it; paged by cursor (a page is evaluated when it is read).',
      'x-problems': { 404: ['SEGMENT_NOT_FOUND'] },
      tags,
      summary: 'List the members of a saved segment',
      security: bearer,
      params: segmentParamsSchema,
      querystring: segmentMembersQuerySchema,
      response: { 200: listOf(memberSchema), ...commonErrors },
    },
    preHandler: app.authorize(READERS),
    handler: async (request) => {
      const program = programOf(request)
      const segment = await findSegment(db, program.id, request.params.segmentId)
      const now = new Date()
      const rows = await segmentMembersPage(db, program, segment.filter, now, request.query.limit, decodeCursor(request.query.cursor, isId))
      const { data, nextCursor } = page(rows, request.query.limit, (m) => m.id)
      const stages = await lifecycleStages(db, program.id, data, now)
      return { data: data.map((m) => ({ ...toMemberView(m), lifecycleStage: stages.get(m.id)! })), nextCursor }
    },
  })

  app.get('/v1/segments/:segmentId/count', {
    schema: {
      operationId: 'countSegmentMembers',
      description: 'How many members the segment has now: one query, without reading them.',
      'x-problems': { 404: ['SEGMENT_NOT_FOUND'] },
      tags,
      summary: 'Count the members of a saved segment',
      security: bearer,
      params: segmentParamsSchema,
      response: { 200: segmentCountSchema, ...commonErrors },
    },
    preHandler: app.authorize(READERS),
    handler: async (request) => {
      const program = programOf(request)
      const segment = await findSegment(db, program.id, request.params.segmentId)
      const asOf = new Date()
      return { segmentId: segment.id, members: await countSegmentMembers(db, program, segment.filter, asOf), asOf: asOf.toISOString() }
    },
  })
}

export default savedSegmentsRoutes
