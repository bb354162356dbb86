import { z } from 'zod'
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod'
import type { FastifyRequest } from 'fastify'
import { AppError } from '../../shared/errors.js'
import { rateLimited } from '../../plugins/rate-limit.js'
import { named, problemSchema } from '../../shared/schemas.js'
import { findClient } from '../programs/repository.js'
import { parseScopeString } from '../../shared/scopes.js'
import { constantTimeEquals, verifySecret } from '../../shared/secrets.js'
import { issueAccessToken } from './tokens.js'

const tokenRequestSchema = z
  .object({
    grant_type: z.string().max(100),
    client_id: z.string().max(200).optional(),
    client_secret: z.string().max(500).optional(),
    scope: z.string().max(1000).optional().describe('Space-separated subset of the client scopes; default all of them'),
  })
  .strict()
  .meta({ id: 'TokenRequest' })

const tokenResponseSchema = z
  .object({
    access_token: z.string(),
    token_type: z.literal('Bearer'),
    expires_in: z.number().int(),
    scope: z.string(),
  })
  .meta({ id: 'TokenResponse' })

/** OAuth 2.0 errors keep RFC 6749's `error` member beside our problem fields, for OAuth client libraries. */
const oauthError = (status: number, error: string, code: string, detail: string) =>
  new AppError(status, code, status === 401 ? 'Unauthorized' : 'Bad request', detail, { error })

const invalidClient = () => oauthError(401, 'invalid_client', 'INVALID_CLIENT', 'Unknown client, wrong secret or revoked client')

/** RFC 6749 2.3.1: credentials may come as HTTP Basic instead of in the body. */
function basicCredentials(header: string | undefined): { id: string; secret: string } | undefined {
  const match = header?.match(/^Basic ([A-Za-z0-9+/=]+)$/)
  if (!match) return undefined
  const decoded = Buffer.from(match[1]!, 'base64').toString('utf8')
  const colon = decoded.indexOf(':')
  if (colon < 0) return undefined
  try {
    return { id: decodeURIComponent(decoded.slice(0, colon)), secret: decodeURIComponent(decoded.slice(colon + 1)) }
  } catch {
    return undefined // malformed percent-encoding: no credentials
  }
}

/** The client id and secret of a token request, from HTTP Basic or the body. */
function credentialsOf(request: FastifyRequest): { clientId?: string; clientSecret?: string } {
  const basic = basicCredentials(request.headers.authorization)
  const body = (request.body ?? {}) as { client_id?: string; client_secret?: string }
  return { clientId: basic?.id ?? body.client_id, clientSecret: basic?.secret ?? body.client_secret }
}

const authRoutes: FastifyPluginAsyncZod = async (app) => {
  const { config, keys } = app

  // Secret guessing: failed attempts are counted per client id and address; past the limit that
  // pair is refused until its minute ends, whatever secret it sends.
  const tokenFailures = app.createRateLimit({
    max: config.rateLimit.tokenFailuresPerMinute,
    timeWindow: 60_000,
    keyGenerator: (request) => `token-failure:${credentialsOf(request).clientId ?? ''}:${request.ip}`,
  })

  app.post('/v1/oauth/token', {
    schema: { operationId: 'issueToken', description: 'Exchanges a client id and secret (HTTP Basic or in the body, JSON or form-encoded) for a short-lived access token holding the requested scopes the client was granted. Writes nothing. Failed attempts are rate limited per client id and IP.', 'x-problems': { 400: ['UNSUPPORTED_GRANT_TYPE', 'INVALID_SCOPE'], 401: ['INVALID_CLIENT'] },
      tags: ['auth'],
      summary: 'OAuth 2.0 client-credentials grant (JSON or form body, or HTTP Basic credentials)',
      consumes: ['application/json', 'application/x-www-form-urlencoded'],
      body: tokenRequestSchema,
      response: { 200: tokenResponseSchema, 400: problemSchema, 401: problemSchema, 429: problemSchema },
    },
    handler: async (request, reply) => {
      const body = request.body
      if (body.grant_type !== 'client_credentials') {
        throw oauthError(400, 'unsupported_grant_type', 'UNSUPPORTED_GRANT_TYPE', 'Only grant_type=client_credentials is supported')
      }
      const { clientId, clientSecret } = credentialsOf(request)
      if (!clientId || !clientSecret) throw oauthError(400, 'invalid_request', 'VALIDATION_FAILED', 'client_id and client_secret are required')
      const attempts = await tokenFailures(request, { increment: false })
      if (!attempts.isAllowed && attempts.remaining === 0) {
        reply.header('retry-after', String(attempts.ttlInSeconds))
        throw rateLimited(attempts.ttlInSeconds, 'Too many failed token requests for this client from this address; retry later')
      }
      const refuse = async () => {
        await tokenFailures(request)
        return invalidClient()
      }
      const requested = body.scope === undefined ? undefined : parseScopeString(body.scope)

      let granted: string[]
      let programId: string | undefined
      if (clientId === config.admin.clientId) {
        if (!constantTimeEquals(clientSecret, config.admin.clientSecret)) throw await refuse()
        granted = ['admin']
      } else {
        const client = await findClient(app.db.db, clientId)
        // Hash even for unknown clients, so timing does not tell which ids exist.
        const ok = await verifySecret(clientSecret, client?.secretHash ?? DUMMY_HASH)
        if (!client || !ok || client.revokedAt) throw await refuse()
        granted = client.scopes
        programId = client.programId
      }
      const scopes = requested ?? granted
      const refused = scopes.filter((s) => !granted.includes(s))
      if (refused.length > 0 || scopes.length === 0) {
        throw oauthError(400, 'invalid_scope', 'INVALID_SCOPE', `Scopes not granted to this client: ${refused.join(' ') || '(none requested)'}`)
      }
      const accessToken = await issueAccessToken(keys, config.tokens, { clientId, scopes, programId })
      reply.header('cache-control', 'no-store').header('pragma', 'no-cache')
      return { access_token: accessToken, token_type: 'Bearer' as const, expires_in: config.tokens.ttlSeconds, scope: scopes.join(' ') }
    },
  })

  app.get('/.well-known/jwks.json', {
    schema: { operationId: 'getJwks', description: 'The public keys (JWK Set) that verify access tokens and signed receipts; cache it and refetch on an unknown `kid`.',
      tags: ['auth'],
      summary: 'Public keys that verify access tokens and signed receipts',
      response: { 200: named(z.object({ keys: z.array(z.record(z.string(), z.unknown())) }), 'JsonWebKeySet') },
    },
    handler: async (_request, reply) => {
      reply.header('cache-control', 'public, max-age=300')
      return keys.jwks
    },
  })
}

/** A well-formed scrypt hash of a random value nobody knows. */
const DUMMY_HASH = 'scrypt$16384$8$1$AAAAAAAAAAAAAAAAAAAAAA$' + 'A'.repeat(43)

export default authRoutes
