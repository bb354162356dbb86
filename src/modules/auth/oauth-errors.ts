// RFC 6749 section 5.2 error answers of the token endpoint. OAuth client libraries read
// `application/json` with `error` and `error_description`, not problem+json, so this one route
// translates every failure (validation, parsing, rate limits, database) into that shape.
import { z } from 'zod'
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify'
import { toAppError } from '../../plugins/errors.js'

/** RFC 6749 5.2's codes, plus the registered `slow_down` and `temporarily_unavailable` and `server_error`. */
export const OAUTH_ERROR_CODES = [
  'invalid_request',
  'invalid_client',
  'invalid_grant',
  'unauthorized_client',
  'unsupported_grant_type',
  'invalid_scope',
  'slow_down',
  'temporarily_unavailable',
  'server_error',
] as const
export type OAuthErrorCode = (typeof OAUTH_ERROR_CODES)[number]

export const oauthErrorSchema = z
  .object({
    error: z.enum(OAUTH_ERROR_CODES),
    error_description: z.string(),
  })
  .meta({ id: 'OAuthError', description: 'RFC 6749 section 5.2 error response' })

/** A failure of the token endpoint; `status` defaults per code. */
export class OAuthError extends Error {
  constructor(
    readonly error: OAuthErrorCode,
    description: string,
    readonly retryAfterSeconds?: number,
    /** The client authenticated with HTTP Basic: the 401 carries a Basic challenge. */
    readonly challenge = false,
  ) {
    super(description)
  }
}

/** The realm of `WWW-Authenticate: Basic` on client authentication failures. */
export const TOKEN_REALM = 'loyalty-ledger'

export interface OAuthAnswer {
  status: number
  headers: Record<string, string>
  body: { error: OAuthErrorCode; error_description: string }
}

/**
 * What the token endpoint answers for a failure, pure. Client authentication failures are 401
 * invalid_client; with `WWW-Authenticate: Basic` when the client sent HTTP Basic (RFC 6749 5.2: MUST),
 * without it for body credentials (client_secret_post), as common servers do: OAuth libraries
 * such as oauth4webapi read a challenge as "authenticate with that scheme" and not as the body's
 * invalid_client. Rate limits are 429 with `slow_down`: RFC 6749
 * has no code for it, `slow_down` is the one token-endpoint error the IANA OAuth registry has for
 * "back off" (RFC 8628), generic clients surface it as an error, and `Retry-After` says when.
 * Request problems of any kind (schema, JSON, media type, size) are `invalid_request` 400.
 */
export function oauthAnswerOf(err: unknown): OAuthAnswer {
  const headers: Record<string, string> = { 'cache-control': 'no-store', pragma: 'no-cache' }
  let error: OAuthErrorCode
  let description: string
  let retryAfter: number | undefined
  let challenge = false
  if (err instanceof OAuthError) {
    error = err.error
    description = err.message
    retryAfter = err.retryAfterSeconds
    challenge = err.challenge
  } else {
    const problem = toAppError(err as FastifyError)
    description = problem.message
    if (problem.status === 429) {
      error = 'slow_down'
      retryAfter = Number(problem.extensions.retryAfterSeconds ?? 60)
    } else if (problem.status === 503) {
      error = 'temporarily_unavailable'
      retryAfter = 1
    } else if (problem.status >= 500) {
      error = 'server_error'
    } else {
      error = 'invalid_request'
    }
  }
  const status = STATUS_OF[error]
  if (error === 'invalid_client' && challenge) headers['www-authenticate'] = `Basic realm="${TOKEN_REALM}", charset="UTF-8"`
  if (retryAfter !== undefined) headers['retry-after'] = String(retryAfter)
  return { status, headers, body: { error, error_description: description } }
}

const STATUS_OF: Record<OAuthErrorCode, number> = {
  invalid_request: 400,
  invalid_client: 401,
  invalid_grant: 400,
  unauthorized_client: 400,
  unsupported_grant_type: 400,
  invalid_scope: 400,
  slow_down: 429,
  temporarily_unavailable: 503,
  server_error: 500,
}

/** The route-level error handler of POST /v1/oauth/token. */
export function sendOAuthError(err: unknown, request: FastifyRequest, reply: FastifyReply): FastifyReply {
  const answer = oauthAnswerOf(err)
  if (answer.status >= 500) request.log.error({ err }, 'token request failed')
  else request.log.info({ oauthError: answer.body.error, status: answer.status }, 'token request refused')
  return reply.code(answer.status).headers(answer.headers).type('application/json').serializer(JSON.stringify).send(answer.body)
}
