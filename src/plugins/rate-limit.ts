import fp from 'fastify-plugin'
import rateLimit from '@fastify/rate-limit'
import type { FastifyRequest } from 'fastify'
import { AppError } from '../shared/errors.js'

const MINUTE_MS = 60_000

/** Probes and scrapes are never limited: an orchestrator must always see the instance. */
const UNLIMITED = (url: string | undefined) => url === '/metrics' || url?.startsWith('/health/') === true

export const rateLimited = (retryAfterSeconds: number, detail = 'Too many requests from this client; retry later') =>
  new AppError(429, 'RATE_LIMITED', 'Too many requests', detail, { retryAfterSeconds })

/**
 * Requests per minute per client. The counter runs after `authorize` (hook `preHandler`, appended
 * after each route's own preHandler), so it is keyed by the authenticated client id and a client
 * cannot spend another's budget by naming it in a forged token; routes without authentication
 * (the token endpoint) count per IP. Counters are per instance: behind a load balancer with N
 * instances a client gets up to N times the limit. The token endpoint's failure limit uses
 * `app.createRateLimit` from here too, registered whether or not the global limit is on.
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
  },
  { name: 'rate-limit', dependencies: ['auth'] },
)
