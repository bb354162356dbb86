import { sql } from 'drizzle-orm'
import { z } from 'zod'
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod'
import { programOf } from '../../plugins/auth.js'
import { bearer } from '../../plugins/openapi.js'
import { validationFailed } from '../../shared/errors.js'
import { decodeCursor, page } from '../../shared/pagination.js'
import { commonErrors, listOf, problemSchema, named } from '../../shared/schemas.js'
import { lifecycleStages, membersInStageSql } from '../segments/lifecycle.js'
import { membersInSegmentSql } from '../segments/rfm.js'
import { snapshotGroup, snapshotMembersSql } from '../segments/snapshots.js'
import type { ProgramRow } from '../programs/tables.js'
import { listMembers } from './repository.js'
import { memberCreateSchema, memberParamsSchema, memberPatchSchema, memberQuerySchema, memberSchema } from './schemas.js'
import { createMembersService, duplicateAsConflict, toMemberView, type PersonalDataEraser } from './service.js'
import type { Executor } from '../../db/client.js'
import { idempotencyHeaderSchema, requestHash, runIdempotent } from '../idempotency/service.js'
import { sendStored } from '../idempotency/reply.js'
import type { MemberRow } from './tables.js'

const tags = ['members']
const READ = ['members:read', 'members:write', 'pos'] as const
const WRITE = ['members:write', 'pos'] as const

export interface MembersRoutesOptions {
  /** What the other modules holding a member's personal data erase with the member (app.ts lists them). */
  erasers: readonly PersonalDataEraser[]
}

const membersRoutes: FastifyPluginAsyncZod<MembersRoutesOptions> = async (app, options) => {
  const members = createMembersService(app.db, options.erasers)
  const db = app.db.db

  /** Member views with their lifecycle stage (one query for the whole page). */
  async function views(program: ProgramRow, rows: MemberRow[], ex: Executor = db) {
    const stages = await lifecycleStages(ex, program.id, rows)
    return rows.map((m) => ({ ...toMemberView(m), lifecycleStage: stages.get(m.id)! }))
  }
  const view = async (program: ProgramRow, row: MemberRow, ex: Executor = db) => (await views(program, [row], ex))[0]!

  /**
   * `?segment=` / `?stage=`: members of an analytics group, paged by id like every list. From the
   * latest nightly analytics snapshot when the program has one (large programs, docs/finance.md:
   * `asOf` says its moment), else now.
   */
  async function listByGroup(program: ProgramRow, query: z.output<typeof memberQuerySchema>) {
    if (query.phone !== undefined || query.externalId !== undefined || query.cardNumber !== undefined) {
      throw validationFailed('segment and stage cannot be combined with phone, externalId or cardNumber', [{ path: 'querystring', message: 'segment/stage with a lookup' }])
    }
    const snapshot = await snapshotGroup(db, program.id)
    const now = new Date()
    const sets = snapshot
      ? [snapshotMembersSql(program.id, snapshot.id, { segment: query.segment, stage: query.stage })]
      : [
          query.segment ? membersInSegmentSql(program.id, program.timezone, now, query.segment) : undefined,
          query.stage ? membersInStageSql(program.id, now, query.stage) : undefined,
        ].filter((s) => s !== undefined)
    const after = decodeCursor(query.cursor, (k) => /^[0-9a-f-]{36}$/.test(k))
    const rows = await listMembers(db, program.id, { idIn: sets.length === 2 ? sql`${sets[0]} intersect ${sets[1]}` : sets[0] }, query.limit, after)
    return { ...page(rows, query.limit, (m) => m.id), asOf: snapshot?.asOf }
  }

  app.post('/v1/members', {
    schema: { operationId: 'createMember', description: 'Enrols a member. Phone, email, external id and card number are unique in the program (409 CONFLICT with `field`); a referral code names the referrer.', 'x-problems': { 409: ['CONFLICT'], 422: ['REFERRAL_CODE_NOT_FOUND'] }, tags, summary: 'Enrol a member', security: bearer, headers: idempotencyHeaderSchema, body: named(memberCreateSchema, 'MemberCreate'), response: { 201: memberSchema, ...commonErrors, 409: problemSchema } },
    preHandler: app.authorize(WRITE),
    handler: async (request, reply) => {
      const program = programOf(request)
      const hash = requestHash('enrol-member', request.body)
      const stored = await runIdempotent(
        app.db,
        program.id,
        request.headers['idempotency-key'],
        hash,
        async (tx) => ({ status: 201, body: await view(program, await members.enroll(tx, program, request.body, request.principal!.clientId), tx) }),
        { mapError: duplicateAsConflict },
      )
      return sendStored(request, reply, stored)
    },
  })

  app.get('/v1/members', {
    schema: { operationId: 'listMembers', description: 'Looks members up by phone (any form of the program region), external id or card number, lists the members of an RFM segment or lifecycle stage (from the nightly analytics snapshot when the program has one: the `Analytics-As-Of` header then gives its moment), or pages through all of them.',
      tags,
      summary: 'Find members by phone, external id or card number, list an RFM segment or lifecycle stage, or page through all of them',
      security: bearer,
      querystring: memberQuerySchema,
      response: { 200: listOf(memberSchema), ...commonErrors },
    },
    preHandler: app.authorize(READ),
    handler: async (request, reply) => {
      const program = programOf(request)
      const query = request.query
      const { data, nextCursor, asOf } = query.segment || query.stage ? await listByGroup(program, query) : { ...(await members.list(program, query)), asOf: undefined }
      if (asOf) reply.header('analytics-as-of', asOf.toISOString())
      return { data: await views(program, data), nextCursor }
    },
  })

  app.get('/v1/members/:memberId', {
    schema: { operationId: 'getMember', description: 'A member with their lifecycle stage.', tags, summary: 'Get a member', security: bearer, params: memberParamsSchema, response: { 200: memberSchema, ...commonErrors } },
    preHandler: app.authorize(READ),
    handler: async (request) => {
      const program = programOf(request)
      return view(program, await members.getMember(program, request.params.memberId))
    },
  })

  app.patch('/v1/members/:memberId', {
    schema: { operationId: 'updateMember', description: 'Changes the fields sent; null clears an optional one. An erased member cannot change (409 MEMBER_ERASED).', 'x-problems': { 409: ['CONFLICT', 'MEMBER_ERASED'] },
      tags,
      summary: 'Update a member (null clears an optional field)',
      security: bearer,
      params: memberParamsSchema,
      body: named(memberPatchSchema, 'MemberPatch'),
      response: { 200: memberSchema, ...commonErrors, 409: problemSchema },
    },
    preHandler: app.authorize(WRITE),
    handler: async (request) => {
      const program = programOf(request)
      return view(program, await members.update(program, request.params.memberId, request.body, request.principal!.clientId))
    },
  })

  app.delete('/v1/members/:memberId', {
    schema: { operationId: 'deleteMember', description: 'Erases the member’s personal data (name, phone, email, birthday, survey comments); the anonymous id and the ledger history stay. Repeating it is harmless.',
      tags,
      summary: 'Erase a member’s personal data; the anonymous id and ledger history stay',
      security: bearer,
      params: memberParamsSchema,
      response: { 204: z.undefined(), ...commonErrors },
    },
    preHandler: app.authorize(['members:write', 'program:manage']),
    handler: async (request, reply) => {
      const program = programOf(request)
      await members.erase(program, request.params.memberId, request.principal!.clientId)
      return reply.code(204).send()
    },
  })
}

export default membersRoutes
