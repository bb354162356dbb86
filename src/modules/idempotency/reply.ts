import type { FastifyReply, FastifyRequest } from 'fastify'
import { PROBLEM_CONTENT_TYPE, problemType } from '../../plugins/errors.js'
import type { StoredResponse } from './service.js'

/**
 * The body a stored response is answered with: a refusal is stored without its request (and with
 * an empty `type`), so it gets the `type` of its code and the id of the request it answers now.
 */
export function storedBody(stored: StoredResponse, requestId: string): unknown {
  if (stored.status < 400) return stored.body
  const body = stored.body as { code: string }
  return { ...body, type: problemType(body.code), requestId }
}

/** Sends a fresh or replayed idempotent response; a replay says so in `Idempotent-Replayed`. */
export function sendStored(request: FastifyRequest, reply: FastifyReply, stored: StoredResponse) {
  if (stored.replayed) reply.header('idempotent-replayed', 'true')
  if (stored.status >= 400) return reply.code(stored.status).type(PROBLEM_CONTENT_TYPE).serializer(JSON.stringify).send(storedBody(stored, request.id))
  return reply.code(stored.status).send(stored.body)
}
