import { z } from 'zod'
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod'
import { cursorSchema, decodeCursor, limitSchema, page } from '../../shared/pagination.js'
import { commonErrors, listOf, problemSchema, named } from '../../shared/schemas.js'
import { bearer } from '../../plugins/openapi.js'
import * as repo from './repository.js'
import * as service from './service.js'
import { PLATFORM_SCOPE, idempotencyHeaderSchema, requestHash, runIdempotent } from '../idempotency/service.js'
import { sendStored } from '../idempotency/reply.js'
import { clientSecretNotReplayed } from './replay.js'
import {
  clientCreateSchema,
  clientCreatedSchema,
  clientSchema,
  programCreateSchema,
  programParamsSchema,
  programPatchSchema,
  programSchema,
} from './schemas.js'

const tags = ['programs']

const programsRoutes: FastifyPluginAsyncZod = async (app) => {
  const db = app.db.db

  app.post('/v1/programs', {
    schema: { operationId: 'createProgram', description: 'Creates a program (a tenant) with its currency, time zone and rules. Platform admin only.', 'x-problems': { 409: ['CONFLICT'] }, tags, summary: 'Create a program (tenant)', security: bearer, headers: idempotencyHeaderSchema, body: named(programCreateSchema, 'ProgramCreate'), response: { 201: programSchema, ...commonErrors } },
    preHandler: app.authorize(['admin']),
    handler: async (request, reply) => {
      // The admin's keys belong to no program: they share the platform's key space.
      const stored = await runIdempotent(app.db, PLATFORM_SCOPE, request.headers['idempotency-key'], requestHash('create-program', request.body), async (tx) => ({
        status: 201,
        body: service.toProgramView(await service.createProgram(tx, request.body, request.principal!.clientId)),
      }))
      return sendStored(request, reply, stored)
    },
  })

  app.get('/v1/programs', {
    schema: { operationId: 'listPrograms', description: 'Pages through every program. Platform admin only.',
      tags,
      summary: 'List programs',
      security: bearer,
      querystring: z.object({ limit: limitSchema, cursor: cursorSchema }).strict(),
      response: { 200: listOf(programSchema), ...commonErrors },
    },
    preHandler: app.authorize(['admin']),
    handler: async (request) => {
      const after = decodeCursor(request.query.cursor, (k) => z.uuid().safeParse(k).success)
      const rows = await repo.listPrograms(db, request.query.limit, after)
      const { data, nextCursor } = page(rows, request.query.limit, (p) => p.id)
      return { data: data.map(service.toProgramView), nextCursor }
    },
  })

  app.get('/v1/programs/:programId', {
    schema: { operationId: 'getProgram', description: 'A program with its rules. A program client sees only its own program (others are 404).', tags, summary: 'Get a program', security: bearer, params: programParamsSchema, response: { 200: programSchema, ...commonErrors } },
    preHandler: app.authorize(['admin', 'program:manage']),
    handler: async (request) => service.toProgramView(await service.loadManagedProgram(db, request.principal!, request.params.programId)),
  })

  app.patch('/v1/programs/:programId', {
    schema: { operationId: 'updateProgram', description: 'Changes a program’s name, rules or notification rules; fields left out stay as they are. Effective for the next request on every instance within seconds.', 'x-problems': { 409: ['CONFLICT'] }, tags, summary: 'Update a program', security: bearer, params: programParamsSchema, body: named(programPatchSchema, 'ProgramPatch'), response: { 200: programSchema, ...commonErrors } },
    preHandler: app.authorize(['admin', 'program:manage']),
    handler: async (request) => {
      const program = await service.loadManagedProgram(db, request.principal!, request.params.programId)
      const updated = await service.patchProgram(app.db, program, request.body, request.principal!.clientId)
      app.forgetProgramClients(program.id)
      return service.toProgramView(updated)
    },
  })

  app.post('/v1/programs/:programId/clients', {
    schema: { operationId: 'createClient', description: 'Creates an API client of the program with the given scopes; its secret is in this answer only (stored hashed); a replay with the same Idempotency-Key answers 409 CLIENT_SECRET_NOT_REPLAYED with the clientId, never the secret.', 'x-problems': { 409: ['CONFLICT', 'CLIENT_SECRET_NOT_REPLAYED'] },
      tags,
      summary: 'Create an API client; its secret is shown once',
      security: bearer,
      params: programParamsSchema,
      headers: idempotencyHeaderSchema,
      body: named(clientCreateSchema, 'ApiClientCreate'),
      response: { 201: clientCreatedSchema, ...commonErrors },
    },
    preHandler: app.authorize(['admin', 'program:manage']),
    handler: async (request, reply) => {
      const program = await service.loadManagedProgram(db, request.principal!, request.params.programId)
      reply.header('cache-control', 'no-store')
      // Only the secret's hash is kept, in the client and in the stored answer alike (replay.ts).
      let secret: string | undefined
      const stored = await runIdempotent(app.db, program.id, request.headers['idempotency-key'], requestHash('create-client', request.body), async (tx) => {
        const created = await service.createClient(tx, program, request.body, request.principal!.clientId)
        secret = created.secret
        return { status: 201, body: service.toClientView(created.client) }
      })
      if (stored.status !== 201) return sendStored(request, reply, stored)
      if (stored.replayed || secret === undefined) {
        reply.header('idempotent-replayed', 'true')
        throw clientSecretNotReplayed((stored.body as { clientId: string }).clientId)
      }
      return reply.code(201).send({ ...(stored.body as ReturnType<typeof service.toClientView>), clientSecret: secret })
    },
  })

  app.get('/v1/programs/:programId/clients', {
    schema: { operationId: 'listClients', description: 'The program’s API clients with their scopes and status; secrets are never returned.', tags, summary: 'List API clients (secrets are never returned)', security: bearer, params: programParamsSchema, response: { 200: listOf(clientSchema), ...commonErrors } },
    preHandler: app.authorize(['admin', 'program:manage']),
    handler: async (request) => {
      const program = await service.loadManagedProgram(db, request.principal!, request.params.programId)
      const clients = await repo.listClients(db, program.id)
      return { data: clients.map(service.toClientView), nextCursor: null }
    },
  })

  app.delete('/v1/programs/:programId/clients/:clientId', {
    schema: { operationId: 'revokeClient', description: 'Revokes a client: its tokens stop working at once on this instance and within seconds on the others.',
      tags,
      summary: 'Revoke an API client; its tokens stop working at once',
      security: bearer,
      params: programParamsSchema.extend({ clientId: z.string().max(100) }),
      response: { 204: z.undefined(), ...commonErrors, 409: problemSchema },
    },
    preHandler: app.authorize(['admin', 'program:manage']),
    handler: async (request, reply) => {
      const program = await service.loadManagedProgram(db, request.principal!, request.params.programId)
      await service.revokeClient(db, program, request.params.clientId, request.principal!.clientId)
      app.forgetProgramClients(program.id)
      return reply.code(204).send()
    },
  })
}

export default programsRoutes
