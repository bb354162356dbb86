import { randomUUID } from 'node:crypto'
import { STATUS_CODES } from 'node:http'
import type { Socket } from 'node:net'
import fp from 'fastify-plugin'
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { hasZodFastifySchemaValidationErrors } from 'fastify-type-provider-zod'
import type { ProblemCode } from '../modules/problems/catalog.js'
import { AppError, causesOf, invalidFields, pgErrorOf, type FieldProblem } from '../shared/errors.js'

export const PROBLEM_CONTENT_TYPE = 'application/problem+json'

/** A problem as a document, without the request it answers (the quote lists refusals so). */
export interface ProblemDocument {
  type: string
  title: string
  status: number
  detail: string
  code: string
  [extension: string]: unknown
}

export interface Problem extends ProblemDocument {
  requestId: string
}

/** A stable `type` URI per error code: `/problems/validation-failed`. */
export function problemType(code: string): string {
  return `/problems/${code.toLowerCase().replace(/_/g, '-')}`
}

/** The problem document of an error, without the request it answers. */
export function problemOf(error: AppError): ProblemDocument {
  return { ...error.extensions, type: problemType(error.code), title: error.title, status: error.status, detail: error.message, code: error.code }
}

/** The problem code each answered problem had, by reply: the metrics count refusals by code. */
export const problemCodes = new WeakMap<FastifyReply, string>()

export function sendProblem(reply: FastifyReply, request: FastifyRequest, error: AppError): FastifyReply {
  const body: Problem = { ...problemOf(error), requestId: request.id }
  problemCodes.set(reply, error.code)
  // Bypass the route's response schema: a problem is never the success shape.
  return reply.code(error.status).type(PROBLEM_CONTENT_TYPE).serializer(JSON.stringify).send(body)
}

/** Fastify's own client errors, by code, translated into ours. */
const FASTIFY_CLIENT_ERRORS: Record<string, [number, ProblemCode, string]> = {
  FST_ERR_CTP_INVALID_MEDIA_TYPE: [415, 'UNSUPPORTED_MEDIA_TYPE', 'Unsupported media type'],
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: [400, 'MALFORMED_REQUEST', 'Malformed request'],
  FST_ERR_CTP_BODY_TOO_LARGE: [413, 'PAYLOAD_TOO_LARGE', 'Payload too large'],
  FST_ERR_CTP_EMPTY_JSON_BODY: [400, 'MALFORMED_BODY', 'Malformed body'],
  FST_ERR_CTP_INVALID_JSON_BODY: [400, 'MALFORMED_BODY', 'Malformed body'],
  FST_ERR_CTP_EMPTY_TYPE: [415, 'UNSUPPORTED_MEDIA_TYPE', 'Unsupported media type'],
  FST_ERR_CTP_INVALID_TYPE: [415, 'UNSUPPORTED_MEDIA_TYPE', 'Unsupported media type'],
  FST_ERR_BAD_URL: [400, 'MALFORMED_REQUEST', 'Malformed request'],
  FST_ERR_MAX_PARAM_LENGTH: [414, 'URI_TOO_LONG', 'URI too long'],
}

/** Node's HTTP parser errors, by code: anything else it refuses is a malformed request. */
const PARSER_ERRORS: Record<string, [number, ProblemCode, string, string]> = {
  HPE_HEADER_OVERFLOW: [431, 'HEADERS_TOO_LARGE', 'Request headers too large', 'The request line and headers exceed the 16 kB the server reads'],
  ERR_HTTP_REQUEST_TIMEOUT: [408, 'REQUEST_TIMEOUT', 'Request timeout', 'The request was not received in time'],
}

/**
 * The `clientErrorHandler` server option: requests Node's HTTP parser refuses (a NUL or control
 * byte in the request line or a header, headers past 16 kB) never reach fastify's hooks, so the
 * problem document is written on the socket here, with a fresh request id, before it closes.
 */
export function sendClientErrorProblem(this: FastifyInstance, err: NodeJS.ErrnoException, socket: Socket): void {
  if (err.code === 'ECONNRESET' || socket.destroyed) return
  const [status, code, title, detail] = PARSER_ERRORS[err.code ?? ''] ?? [400, 'MALFORMED_REQUEST', 'Malformed request', 'The HTTP request could not be parsed (for example a control character in the request line or a header)']
  const requestId = randomUUID()
  const body = JSON.stringify({ type: problemType(code), title, status, detail, code, requestId })
  this.log.info({ reqId: requestId, code, status, parserError: err.code }, 'request rejected by the HTTP parser')
  if (socket.writable) {
    socket.write(
      `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\ncontent-type: ${PROBLEM_CONTENT_TYPE}\r\ncontent-length: ${Buffer.byteLength(body)}\r\n` +
        `x-request-id: ${requestId}\r\nconnection: close\r\n\r\n${body}`,
    )
  }
  socket.destroy(err)
}

/** SQLSTATE classes meaning "the database is not there right now", and driver-level connection failures. */
const UNAVAILABLE_CODES = new Set(['57P01', '57P02', '57P03', '53300', '08000', '08001', '08003', '08006', '08004'])
const UNAVAILABLE_DRIVER_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'CONNECTION_CLOSED', 'CONNECTION_ENDED', 'CONNECTION_DESTROYED', 'CONNECT_TIMEOUT', 'ETIMEDOUT', 'EPIPE'])

function driverCode(err: unknown): string | undefined {
  for (const e of causesOf(err)) if (typeof e.code === 'string') return e.code
  return undefined
}

export function toAppError(err: FastifyError | Error): AppError {
  if (err instanceof AppError) return err
  const fe = err as FastifyError
  if (hasZodFastifySchemaValidationErrors(fe)) {
    const errors: FieldProblem[] = fe.validation.map((v) => ({
      path: `${fe.validationContext ?? ''}${v.instancePath === '/' ? '' : v.instancePath}`,
      message: v.message ?? 'invalid',
    }))
    return invalidFields(errors)
  }
  if (fe.code && FASTIFY_CLIENT_ERRORS[fe.code]) {
    const [status, code, title] = FASTIFY_CLIENT_ERRORS[fe.code]!
    return new AppError(status, code, title, fe.message)
  }
  if (err instanceof SyntaxError || fe.code === 'FST_ERR_CTP_INVALID_JSON_BODY') {
    return new AppError(400, 'MALFORMED_BODY', 'Malformed body', 'The body is not valid JSON')
  }
  const pg = pgErrorOf(err)
  if (pg.code === '23505') return new AppError(409, 'CONFLICT', 'Conflict', 'A resource with the same unique value already exists')
  if (pg.code === '40001' || pg.code === '40P01' || pg.code === 'LL300')
    return new AppError(503, 'RETRY_LATER', 'Transient conflict', 'The request collided with another; retry it with the same Idempotency-Key', {})
  const dc = driverCode(err)
  if (dc === 'TRANSACTION_TIMEOUT') {
    return new AppError(503, 'SERVICE_UNAVAILABLE', 'Service unavailable', 'The database did not finish the transaction in time; nothing was committed, retry later')
  }
  if ((pg.code && UNAVAILABLE_CODES.has(pg.code)) || (dc && UNAVAILABLE_DRIVER_CODES.has(dc))) {
    return new AppError(503, 'SERVICE_UNAVAILABLE', 'Service unavailable', 'The database is unavailable; retry later')
  }
  if (typeof fe.statusCode === 'number' && fe.statusCode >= 400 && fe.statusCode < 500) {
    return new AppError(fe.statusCode, 'BAD_REQUEST', 'Bad request', fe.message)
  }
  return new AppError(500, 'INTERNAL_ERROR', 'Internal error', 'An unexpected error occurred; it has been logged with the request id')
}

export default fp(
  async (app) => {
    app.setErrorHandler((err, request, reply) => {
      const problem = toAppError(err as FastifyError)
      if (problem.status >= 500) request.log.error({ err }, 'request failed')
      else request.log.info({ code: problem.code, status: problem.status }, 'request rejected')
      if (problem.status === 503) reply.header('retry-after', '1')
      return sendProblem(reply, request, problem)
    })
    app.setNotFoundHandler((request, reply) =>
      sendProblem(reply, request, new AppError(404, 'NOT_FOUND', 'Not found', `No route ${request.method} ${request.url.split('?')[0]}`)),
    )
  },
  { name: 'errors' },
)
