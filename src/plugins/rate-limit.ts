import fp from 'fastify-plugin'
import rateLimit from '@fastify/rate-limit'
import type { FastifyRequest } from 'fastify'
import { AppError } from '../shared/errors.js'

const MINUTE_MS = 60_000

/** Probes and scrapes are never limited: an orchestrator must always see the instance. */
const UNLIMITED = (url: string | undefined) => url === '/metrics' || url?.startsWith('/health/') === true

/** The plugin's own headers, which the IETF fields replace (rateLimitFields). */
const PLUGIN_HEADERS = ['x-ratelimit-limit', 'x-ratelimit-remaining', 'x-ratelimit-reset'] as const

/**
 * Pure: the IETF fields (draft-ietf-httpapi-ratelimit-headers) for a quota of `limit` requests per
 * `windowSeconds`, `remaining` of them left for `resetSeconds` more seconds.
 */
export function rateLimitFields(limit: number, windowSeconds: number, remaining: number, resetSeconds: number): { RateLimit: string; 'RateLimit-Policy': string } {
  return { RateLimit: `"default";r=${remaining};t=${resetSeconds}`, 'RateLimit-Policy': `"default";q=${limit};w=${windowSeconds}` }
}

export const rateLimited = (retryAfterSeconds: number, detail = 'Too many requests from this client; retry later') =>
  new AppError(429, 'RATE_LIMITED', 'Too many requests', detail, { retryAfterSeconds })

/**
 * Requests per minute per client. The counter runs after `authorize` (hook `preHandler`, appended
 * after each route's own preHandler), so it is keyed by the authenticated client id and a client
 * cannot spend another's budget by naming it in a forged token; routes without authentication
 * (the token endpoint) count per IP. Counters are per instance: behind a load balancer with N
 * instances a client gets up to N times the limit. The token endpoint's failure limit uses
 * `app.createRateLimit` from here too, registered whether or not the global limit is on.
 *
 * Each limited answer says its quota in the IETF fields, `RateLimit: "default";r=<left>;t=<seconds
 * to the window's end>` and `RateLimit-Policy: "default";q=<limit>;w=60`, with `Retry-After` on a
 * 429. The plugin counts and writes its x-ratelimit-* headers; onSend rewrites them as those fields.
 */
export default fp(
  async (app) => {
    const perMinute = app.config.rateLimit.perMinute
    await app.register(rateLimit, {
      global: perMinute > 0,
      max: perMinute,
      timeWindow: MINUTE_MS,
      hook: 'preHandler',
      cache: 50_000,
      keyGenerator: (request: FastifyRequest) => (request.principal ? `client:${request.principal.clientId}` : `ip:${request.ip}`),
      allowList: (request: FastifyRequest) => UNLIMITED(request.routeOptions.url),
      errorResponseBuilder: (_request, context) => rateLimited(Math.ceil(context.ttl / 1000)),
    })
    if (perMinute === 0) return
    app.addHook('onSend', async (_request, reply, payload) => {
      const [limit, remaining, reset] = PLUGIN_HEADERS.map((name) => reply.getHeader(name))
      if (limit === undefined) return payload
      for (const name of PLUGIN_HEADERS) reply.removeHeader(name)
      reply.headers(rateLimitFields(Number(limit), MINUTE_MS / 1000, Number(remaining), Number(reset)))
      return payload
    })
  },
  { name: 'rate-limit', dependencies: ['auth'] },
)
