// What every operation of the document has in common, added once to the generated document instead
// of in each of the ~60 routes: the error statuses the edge can answer (with their problem codes),
// the standard headers, the scopes and idempotency paragraph of each description, and the pruning
// of the component schemas no operation uses. A route adds its own codes with `x-problems`.
import type { Scope } from '../shared/scopes.js'

type Json = Record<string, any>

/** Problem codes a route can answer beyond the standard ones, by status: `{ 409: ['MEMBER_ERASED'] }`. */
export type ProblemCodes = Partial<Record<number, readonly string[]>>

declare module 'fastify' {
  interface FastifySchema {
    /** Route-specific problem codes by status, merged with the standard ones into the document. */
    'x-problems'?: ProblemCodes
  }
}

export const SECURITY_SCHEME = 'oauth2'

export const SCOPE_DESCRIPTIONS: Record<Scope, string> = {
  admin: 'The platform operator: create and list programs and their clients (the admin client only)',
  'program:manage': 'Manage the caller’s program: rules, clients, webhooks, campaigns, jobs, erasure',
  pos: 'A point of sale: enrol and look members up, post purchases, returns, top-ups and coupons',
  'members:read': 'Read members, their balances, activity and tier',
  'members:write': 'Enrol, update and erase members, adjust points',
  'balances:read': 'Read members’ balances and activity',
  'finance:read': 'Read the ledger, exports and analytics',
}

const STATUS_TEXT: Record<number, string> = {
  400: 'Bad request',
  401: 'Missing or invalid access token (WWW-Authenticate says why)',
  403: 'The token lacks every accepted scope, or the caller cannot act on this resource',
  404: 'Not found',
  406: 'None of the accepted media types can be produced',
  409: 'Conflict with the current state',
  413: 'The body is larger than the limit',
  414: 'A path parameter is longer than the router accepts',
  415: 'The body’s Content-Type is not accepted',
  422: 'Understood but refused by a business rule',
  429: 'Too many requests from this client; wait for Retry-After seconds',
  500: 'A fault of the service (logged with the request id); nothing was written',
  503: 'The database is unavailable or the request collided with another; nothing was written, retry (with the same Idempotency-Key)',
}

/** The problem codes every operation with that trait can answer, by status. */
function standardCodes(op: Json, path: string, rateLimited: boolean, databaseFree: boolean): Record<number, string[]> {
  const codes: Record<number, string[]> = { 400: ['VALIDATION_FAILED', 'MALFORMED_REQUEST', 'BAD_REQUEST'] }
  if (op.requestBody) {
    codes[400]!.push('MALFORMED_BODY')
    codes[413] = ['PAYLOAD_TOO_LARGE']
    codes[415] = ['UNSUPPORTED_MEDIA_TYPE']
  }
  if (path.includes('{')) codes[414] = ['URI_TOO_LONG']
  if (op.security?.length) {
    codes[401] = ['UNAUTHORIZED']
    codes[403] = ['FORBIDDEN']
  }
  if (isIdempotent(op)) {
    codes[409] = ['IDEMPOTENCY_CONFLICT']
    codes[422] = ['IDEMPOTENCY_KEY_REUSED']
  }
  if (rateLimited) codes[429] = ['RATE_LIMITED']
  if (!databaseFree) codes[503] = ['SERVICE_UNAVAILABLE', 'RETRY_LATER']
  // A fault of the service itself (a bug, a failure no rule foresaw): logged with the request id, never caused by input.
  codes[500] = ['INTERNAL_ERROR']
  return codes
}

/** Codes a declared status always carries: the generic helpers (notFound, conflict, a unique violation) answer them beside the route's own. */
const FALLBACK_CODES: Record<number, string[]> = { 404: ['NOT_FOUND'], 409: ['CONFLICT'], 406: ['NOT_ACCEPTABLE'] }

const isProblemResponse = (response: Json) =>
  !response.content || Object.values<Json>(response.content).some((media) => media.schema?.$ref === '#/components/schemas/Problem')

const isIdempotent = (op: Json) => (op.parameters ?? []).some((p: Json) => p.in === 'header' && p.name.toLowerCase() === 'idempotency-key')

const ref = (kind: string, name: string) => ({ $ref: `#/components/${kind}/${name}` })

export const STANDARD_HEADERS: Json = {
  XRequestId: { description: 'The request id (the caller’s `x-request-id` if it was 1-64 of `A-Za-z0-9._-`, else a new UUID); quote it when reporting a problem', required: true, schema: { type: 'string' } },
  IdempotentReplayed: { description: '`true` when this is the stored answer of an earlier request with the same Idempotency-Key', schema: { type: 'string', enum: ['true'] } },
  RetryAfter: { description: 'Seconds to wait before retrying', schema: { type: 'integer', minimum: 0 } },
  RateLimit: { description: 'Remaining quota of the current window (draft-ietf-httpapi-ratelimit-headers), e.g. `"default";r=598;t=60`', schema: { type: 'string' } },
  RateLimitPolicy: { description: 'The quota policy (draft-ietf-httpapi-ratelimit-headers), e.g. `"default";q=600;w=60`', schema: { type: 'string' } },
  ContentDisposition: { description: '`attachment` with the file name of the export', schema: { type: 'string' } },
  WWWAuthenticate: { description: 'The Bearer challenge (RFC 6750)', schema: { type: 'string' } },
  Location: { description: 'The path of the resource created', schema: { type: 'string' } },
}

/** Operations whose 201 names what they created in `Location`. */
const LOCATED = new Set(['createMemberImport', 'createSegment', 'createSegmentCampaign'])

export const IDEMPOTENCY_KEY_PARAMETER = {
  description:
    'A unique key per logical request (1-255 printable characters; a UUID is a good choice). A retry with the same key and body answers the stored response with `Idempotent-Replayed: true`; the same key with another body is 422 IDEMPOTENCY_KEY_REUSED; while the first is still running, 409 IDEMPOTENCY_CONFLICT.',
}

function headersFor(status: number, op: Json, rateLimited: boolean, tags: string[]): Json {
  const headers: Json = { 'x-request-id': ref('headers', 'XRequestId') }
  if (rateLimited) {
    headers.RateLimit = ref('headers', 'RateLimit')
    headers['RateLimit-Policy'] = ref('headers', 'RateLimitPolicy')
  }
  if (status === 429 || status === 503) headers['Retry-After'] = ref('headers', 'RetryAfter')
  if (status === 401) headers['WWW-Authenticate'] = ref('headers', 'WWWAuthenticate')
  // A business refusal (404, 409, 422) is stored and replayed like a success.
  if ((status < 300 || status === 404 || status === 409 || status === 422) && isIdempotent(op)) headers['Idempotent-Replayed'] = ref('headers', 'IdempotentReplayed')
  // A batch upload answers 200 with each sale's own status; when one was refused for the service's sake (503), Retry-After says when to resend it.
  if (status === 200 && op.operationId === 'createPurchaseBatch') headers['Retry-After'] = ref('headers', 'RetryAfter')
  if (status === 201 && LOCATED.has(op.operationId)) headers.Location = ref('headers', 'Location')
  if (status === 200 && tags.includes('exports') && op.responses?.['200']?.content?.['text/csv']) headers['Content-Disposition'] = ref('headers', 'ContentDisposition')
  return headers
}

function problemResponse(status: number, codes: string[]): Json {
  const unique = [...new Set(codes)]
  return {
    description: `${STATUS_TEXT[status] ?? 'Refused'}. Problem codes: ${unique.map((c) => `\`${c}\``).join(', ')}`,
    content: {
      'application/problem+json': {
        schema: { allOf: [ref('schemas', 'Problem'), { type: 'object', properties: { code: { type: 'string', enum: unique } } }] },
      },
    },
  }
}

const SUCCESS_TEXT: Record<string, string> = { '200': 'OK', '201': 'Created', '202': 'Accepted', '204': 'No content' }

function describe(op: Json): string {
  const parts = op.description ? [op.description] : op.summary ? [`${op.summary}.`] : []
  const scopes = (op.security ?? []).flatMap((s: Json) => Object.values(s).flat()) as string[]
  if (scopes.length) parts.push(`Scopes (any one): ${scopes.map((s) => `\`${s}\``).join(', ')}.`)
  else parts.push('No authentication.')
  if (isIdempotent(op)) parts.push('Idempotent: send an `Idempotency-Key`; a retry with the same key and body replays the stored answer with `Idempotent-Replayed: true`.')
  return parts.join('\n\n')
}

/** The operation completed with the standard errors, headers and description. */
export function standardizeOperation(op: Json, path: string, rateLimited: boolean, databaseFree = false): Json {
  const extra: ProblemCodes = op['x-problems'] ?? {}
  delete op['x-problems']
  const tags: string[] = op.tags ?? []
  const codes = standardCodes(op, path, rateLimited, databaseFree)
  // A status the route names carries the generic code of that status too (notFound(), a unique violation answer them anywhere).
  for (const [status, list] of Object.entries(extra)) codes[Number(status)] = [...(FALLBACK_CODES[Number(status)] ?? []), ...(codes[Number(status)] ?? []), ...(list ?? [])]
  const responses: Json = {}
  for (const [status, response] of Object.entries<Json>(op.responses ?? {})) {
    const n = Number(status)
    if (n >= 400) {
      // A route that declares another body for an error (a page for people, the OAuth token errors of
      // RFC 6749) keeps it; one declaring the Problem schema gets the problem+json response with its codes.
      if (!isProblemResponse(response)) responses[status] = response
      else codes[n] = [...(FALLBACK_CODES[n] ?? (codes[n]?.length ? [] : ['BAD_REQUEST'])), ...(codes[n] ?? [])]
      continue
    }
    responses[status] = { ...response, description: response.description === 'Default Response' ? (SUCCESS_TEXT[status] ?? 'Success') : response.description }
  }
  for (const [status, list] of Object.entries(codes)) if (!responses[status]) responses[status] = problemResponse(Number(status), list)
  for (const [status, response] of Object.entries<Json>(responses)) response.headers = { ...headersFor(Number(status), op, rateLimited, tags), ...response.headers }
  op.responses = Object.fromEntries(Object.entries(responses).sort(([a], [b]) => a.localeCompare(b)))
  for (const p of op.parameters ?? []) if (p.in === 'header' && p.name.toLowerCase() === 'idempotency-key') Object.assign(p, { name: 'Idempotency-Key' }, IDEMPOTENCY_KEY_PARAMETER)
  op.description = describe(op)
  // Public operations say so (an empty requirement) rather than leave a reader to guess.
  op.security ??= []
  return op
}

const METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace']

/** Every `#/components/schemas/X` reachable from the paths and webhooks (the transform emits an input and an output copy of each registered schema, most of them unused). */
function usedSchemas(doc: Json): Set<string> {
  const used = new Set<string>()
  const walk = (node: unknown): void => {
    if (Array.isArray(node)) return node.forEach(walk)
    if (!node || typeof node !== 'object') return
    for (const [k, v] of Object.entries(node)) {
      if (k === '$ref' && typeof v === 'string' && v.startsWith('#/components/schemas/')) {
        const name = v.slice('#/components/schemas/'.length)
        if (!used.has(name)) {
          used.add(name)
          walk(doc.components?.schemas?.[name])
        }
      } else walk(v)
    }
  }
  walk(doc.paths)
  walk(doc.webhooks)
  walk(doc.components?.responses)
  walk(doc.components?.callbacks)
  return used
}

export interface StandardizeOptions {
  /** Paths the rate limit never counts (probes); it is on by default and declared on every other operation. */
  unlimited: (path: string) => boolean
  /** Paths answered without the database (no 503 for them). */
  databaseFree: (path: string) => boolean
}

/** The generated document completed; pure, so it is tested on a small document. */
/**
 * A request schema's defaults move into its description: generators read `default` as "always
 * present" (openapi-typescript's default `defaultNonNullable`), which would make a caller send every
 * defaulted field. The server applies the default; the reader still sees it.
 */
export function defaultsDescribed(schema: unknown): void {
  if (Array.isArray(schema)) return schema.forEach(defaultsDescribed)
  if (!schema || typeof schema !== 'object') return
  const node = schema as Json
  if ('default' in node) {
    const note = `Default: \`${JSON.stringify(node.default)}\`.`
    node.description = node.description ? `${node.description}. ${note}`.replace(/\.\. /, '. ') : note
    delete node.default
  }
  for (const value of Object.values(node)) defaultsDescribed(value)
}

export function standardizeDocument(doc: Json, options: StandardizeOptions): Json {
  for (const [path, item] of Object.entries<Json>(doc.paths ?? {})) {
    for (const method of METHODS) if (item[method]) standardizeOperation(item[method], path, !options.unlimited(path), options.databaseFree(path))
    for (const method of METHODS) if (item[method]?.requestBody) defaultsDescribed(item[method].requestBody)
  }
  for (const [name, schema] of Object.entries<Json>(doc.components?.schemas ?? {})) if (name.endsWith('Input')) defaultsDescribed(schema)
  doc.components = { ...doc.components, headers: { ...doc.components?.headers, ...STANDARD_HEADERS } }
  const used = usedSchemas(doc)
  if (doc.components.schemas) {
    doc.components.schemas = Object.fromEntries(Object.entries(doc.components.schemas).filter(([name]) => used.has(name)).sort(([a], [b]) => a.localeCompare(b)))
  }
  // Fresh objects throughout: shared ones (a route file's `tags` array) would be YAML anchors and aliases.
  return JSON.parse(JSON.stringify(doc))
}
