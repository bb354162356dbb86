import type { FastifyReply, FastifyRequest } from 'fastify'
import { PROBLEM_CONTENT_TYPE, problemType } from '../../plugins/errors.js'
import type { StoredResponse } from './service.js'

/** Sends a fresh or replayed idempotent response; a replay says so in `Idempotent-Replayed`. */
export function sendStored(request: FastifyRequest, reply: FastifyReply, stored: StoredResponse) {
  if (stored.replayed) reply.header('idempotent-replayed', 'true')
  if (stored.status >= 400) {
    const body = stored.body as { code: string }
    return reply
      .code(stored.status)
      .type(PROBLEM_CONTENT_TYPE)
      .serializer(JSON.stringify)
      .send({ ...body, type: problemType(body.code), requestId: request.id })
  }
  return reply.code(stored.status).send(stored.body)
}
