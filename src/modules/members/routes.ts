import { z } from 'zod'
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod'
import { programOf } from '../../plugins/auth.js'
import { bearer } from '../../plugins/openapi.js'
import { commonErrors, listOf, problemSchema } from '../../shared/schemas.js'
import { memberCreateSchema, memberParamsSchema, memberPatchSchema, memberQuerySchema, memberSchema } from './schemas.js'
import { createMembersService, toMemberView } from './service.js'

const tags = ['members']
const READ = ['members:read', 'members:write', 'pos'] as const
const WRITE = ['members:write', 'pos'] as const

const membersRoutes: FastifyPluginAsyncZod = async (app) => {
  const members = createMembersService(app.db)

  app.post('/v1/members', {
    schema: { tags, summary: 'Enrol a member', security: bearer, body: memberCreateSchema, response: { 201: memberSchema, ...commonErrors, 409: problemSchema } },
    preHandler: app.authorize(WRITE),
    handler: async (request, reply) => {
      const member = await members.enroll(programOf(request), request.body, request.principal!.clientId)
      return reply.code(201).send(toMemberView(member))
    },
  })

  app.get('/v1/members', {
    schema: {
      tags,
      summary: 'Find members by phone, external id or card number, or page through all of them',
      security: bearer,
      querystring: memberQuerySchema,
      response: { 200: listOf(memberSchema), ...commonErrors },
    },
    preHandler: app.authorize(READ),
    handler: async (request) => {
      const { data, nextCursor } = await members.list(programOf(request), request.query)
      return { data: data.map(toMemberView), nextCursor }
    },
  })

  app.get('/v1/members/:memberId', {
    schema: { tags, summary: 'Get a member', security: bearer, params: memberParamsSchema, response: { 200: memberSchema, ...commonErrors } },
    preHandler: app.authorize(READ),
    handler: async (request) => toMemberView(await members.getMember(programOf(request), request.params.memberId)),
  })

  app.patch('/v1/members/:memberId', {
    schema: {
      tags,
      summary: 'Update a member (null clears an optional field)',
      security: bearer,
      params: memberParamsSchema,
      body: memberPatchSchema,
      response: { 200: memberSchema, ...commonErrors, 409: problemSchema },
    },
    preHandler: app.authorize(WRITE),
    handler: async (request) => toMemberView(await members.update(programOf(request), request.params.memberId, request.body, request.principal!.clientId)),
  })

  app.delete('/v1/members/:memberId', {
    schema: {
      tags,
      summary: 'Erase a member’s personal data; the anonymous id and ledger history stay',
      security: bearer,
      params: memberParamsSchema,
      response: { 204: z.undefined(), ...commonErrors },
    },
    preHandler: app.authorize(['members:write', 'program:manage']),
    handler: async (request, reply) => {
      await members.erase(programOf(request), request.params.memberId, request.principal!.clientId)
      return reply.code(204).send()
    },
  })
}

export default membersRoutes
