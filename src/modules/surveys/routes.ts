import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod'
import { programOf } from '../../plugins/auth.js'
import { bearer } from '../../plugins/openapi.js'
import { AppError, notFound, validationFailed } from '../../shared/errors.js'
import { newId } from '../../shared/ids.js'
import { commonErrors, isoTimestamp, problemSchema, named } from '../../shared/schemas.js'
import { idempotencyHeaderSchema, requestHash, runIdempotent } from '../idempotency/service.js'
import { sendStored } from '../idempotency/reply.js'
import { findMember } from '../members/repository.js'
import { npsCategory } from './nps.js'
import { insertNpsResponse } from './repository.js'
import { npsResponseBodySchema, npsResponseSchema } from './schemas.js'

const FUTURE_TOLERANCE_MS = 5 * 60_000

const surveysRoutes: FastifyPluginAsyncZod = async (app) => {
  const database = app.db

  app.post('/v1/surveys/nps/responses', {
    schema: { operationId: 'createNpsResponse', description: 'Records a member’s Net Promoter Score answer (0-10) with an optional comment (personal data, erased with the member).', 'x-problems': { 404: ['NOT_FOUND'], 409: ['MEMBER_ERASED'] },
      tags: ['surveys'],
      summary: 'Record a member’s Net Promoter Score answer (0-10)',
      security: bearer,
      headers: idempotencyHeaderSchema,
      body: named(npsResponseBodySchema, 'NpsResponseCreate'),
      response: { 201: npsResponseSchema, ...commonErrors, 409: problemSchema, 422: problemSchema },
    },
    preHandler: app.authorize(['pos', 'members:write']),
    handler: async (request, reply) => {
      const program = programOf(request)
      const body = request.body
      const now = new Date()
      const respondedAt = body.respondedAt ? new Date(body.respondedAt) : now
      if (respondedAt.getTime() > now.getTime() + FUTURE_TOLERANCE_MS) {
        throw validationFailed('respondedAt: in the future', [{ path: 'body/respondedAt', message: 'in the future' }])
      }
      const stored = await runIdempotent(database, program.id, request.headers['idempotency-key'], requestHash('nps-response', body), async (tx) => {
        const member = await findMember(tx, program.id, body.memberId)
        if (!member) throw notFound('Member')
        if (member.erasedAt) throw new AppError(409, 'MEMBER_ERASED', 'Member erased', 'This member’s personal data was erased; no new survey answers')
        const row = await insertNpsResponse(tx, {
          programId: program.id,
          id: newId(),
          memberId: body.memberId,
          score: body.score,
          comment: body.comment ?? null,
          channel: body.channel,
          respondedAt,
          recordedBy: request.principal!.clientId,
        })
        return {
          status: 201,
          body: {
            id: row.id,
            memberId: row.memberId,
            score: row.score,
            category: npsCategory(row.score),
            comment: row.comment,
            channel: row.channel,
            respondedAt: isoTimestamp(row.respondedAt),
            recordedAt: isoTimestamp(row.recordedAt),
          },
        }
      })
      return sendStored(request, reply, stored)
    },
  })
}

export default surveysRoutes
