import fp from 'fastify-plugin'
import swagger from '@fastify/swagger'
import swaggerUi from '@fastify/swagger-ui'
import { jsonSchemaTransform, jsonSchemaTransformObject } from 'fastify-type-provider-zod'
import { SCOPES } from '../shared/scopes.js'
import { SCOPE_DESCRIPTIONS, SECURITY_SCHEME, standardizeDocument } from './openapi-standard.js'
import { webhooksDocument } from '../modules/events/webhooks-document.js'

/** Route-level security requirement for the OpenAPI document; the auth plugin fills in each route's scopes. */
export const bearer = [{ [SECURITY_SCHEME]: [] as string[] }]

/** The scopes an operation accepts, as alternatives (any one of them is enough). */
export const securityFor = (scopes: readonly string[]) => scopes.map((s) => ({ [SECURITY_SCHEME]: [s] }))

/** Operations answered from memory: the process being up, the key ring loaded at start. */
const DATABASE_FREE = new Set(['/health/live', '/.well-known/jwks.json'])

const TAGS = [
  { name: 'auth', description: 'Access tokens (OAuth 2.0 client credentials) and the keys that verify tokens and signed receipts' },
  { name: 'programs', description: 'Programs (tenants), their rules and their API clients' },
  { name: 'members', description: 'Members: enrolment, lookup, update and erasure of personal data' },
  { name: 'ledger', description: 'The double-entry ledger: balances, activity, adjustments, reversals and verification' },
  { name: 'purchases', description: 'Sales and returns: quote, post (or hold and capture), void, return, batch upload' },
  { name: 'receipts', description: 'Receipts of purchases and returns: JSON, HTML, SMS text, signed JWS and public short links' },
  { name: 'coupons', description: 'Coupon campaigns, their codes and lookups' },
  { name: 'rewards', description: 'Rewards for points: the catalog, what a member can redeem now, redemptions and their cancellation' },
  { name: 'webhooks', description: 'Webhook endpoints and their delivery log (Standard Webhooks signatures)' },
  { name: 'exports', description: 'Accounting exports: journal, trial balance and liability roll-forward' },
  { name: 'analytics', description: 'Program analytics: summary, cohorts, RFM segments, lifecycle stages and NPS' },
  { name: 'surveys', description: 'Net Promoter Score answers' },
  { name: 'jobs', description: 'Scheduled jobs (expiry, birthdays, tiers, ...) run by hand or inspected' },
  { name: 'health', description: 'Liveness and readiness probes' },
  { name: 'problems', description: 'The catalog of problem types: what each error code means and what to do, served at each problem\'s `type` URI' },
]

export default fp(
  async (app) => {
    await app.register(swagger, {
      openapi: {
        openapi: '3.1.0',
        info: {
          title: 'Loyalty Ledger API',
          version: '0.1.0',
          description:
            'Loyalty points and stored value for retailers: members, a double-entry ledger, purchases and returns. ' +
            'Errors are RFC 9457 application/problem+json with a stable `code`; each response lists the codes its status can carry. ' +
            'Amounts are decimal strings in major units. Every answer carries `x-request-id`. ' +
            'Requests the HTTP parser refuses before routing (a control byte in a header, headers past 16 kB, a request not received in time) ' +
            'answer 400 MALFORMED_REQUEST, 431 HEADERS_TOO_LARGE or 408 REQUEST_TIMEOUT on any path. ' +
            'Requests are rate limited per client (RATE_LIMIT_PER_MINUTE, 0 turns it off): 429 RATE_LIMITED with Retry-After.',
          license: { name: 'Proprietary', identifier: 'LicenseRef-Proprietary' },
        },
        // Relative: the document is served by the instance it describes (/docs/json), and one build runs
        // at many origins (each retailer's deployment, local embedded mode), so no absolute URL is right for all.
        servers: [{ url: '/', description: 'The origin serving this document' }],
        tags: TAGS,
        webhooks: webhooksDocument() as never,
        components: {
          securitySchemes: {
            [SECURITY_SCHEME]: {
              type: 'oauth2',
              description: 'Access token from POST /v1/oauth/token (client credentials), sent as `Authorization: Bearer <token>`. Each operation lists the scopes it accepts; any one of them is enough.',
              flows: { clientCredentials: { tokenUrl: '/v1/oauth/token', scopes: Object.fromEntries(SCOPES.map((s) => [s, SCOPE_DESCRIPTIONS[s]])) } },
            },
          },
        },
      },
      transform: jsonSchemaTransform,
      transformObject: (input) => standardizeDocument(jsonSchemaTransformObject(input) as Record<string, any>, { unlimited: (path) => path.startsWith('/health/'), databaseFree: (path) => DATABASE_FREE.has(path) }) as ReturnType<typeof jsonSchemaTransformObject>,
    })
    await app.register(swaggerUi, { routePrefix: '/docs' })
  },
  { name: 'openapi' },
)
