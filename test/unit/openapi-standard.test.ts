import t from 'tap'
import { standardizeDocument, standardizeOperation } from '../../src/plugins/openapi-standard.js'
import { rateLimitFields } from '../../src/plugins/rate-limit.js'

const opts = { unlimited: (p: string) => p.startsWith('/health/'), databaseFree: (p: string) => p === '/health/live' }

t.test('an authenticated idempotent write gets every standard status, its own codes and the standard headers', async (t) => {
  const op = standardizeOperation(
    {
      summary: 'Post a thing',
      security: [{ oauth2: ['pos'] }, { oauth2: ['members:write'] }],
      parameters: [{ in: 'header', name: 'idempotency-key', required: true, schema: { type: 'string' } }],
      requestBody: { required: true, content: { 'application/json': { schema: { type: 'object' } } } },
      responses: { '201': { description: 'Default Response', content: { 'application/json': { schema: {} } } }, '404': { description: 'Default Response', content: { 'application/json': { schema: { $ref: '#/components/schemas/Problem' } } } } },
      'x-problems': { 422: ['INSUFFICIENT_FUNDS'] },
    },
    '/v1/things/{thingId}',
    true,
  )
  t.same(Object.keys(op.responses), ['201', '400', '401', '403', '404', '409', '413', '414', '415', '422', '429', '500', '503'])
  t.notOk('x-problems' in op, 'the route-specific codes are consumed')
  const enumOf = (status: string) => op.responses[status].content['application/problem+json'].schema.allOf[1].properties.code.enum
  t.same(enumOf('422'), ['IDEMPOTENCY_KEY_REUSED', 'INSUFFICIENT_FUNDS'])
  t.same(enumOf('409'), ['IDEMPOTENCY_CONFLICT'], 'a 409 only the idempotency trait adds carries its code alone')
  t.same(enumOf('404'), ['NOT_FOUND'], 'a declared 404 carries the generic NOT_FOUND')
  t.same(enumOf('500'), ['INTERNAL_ERROR'], 'a fault of the service is declared everywhere')
  t.ok(op.responses['422'].headers['Idempotent-Replayed'], 'a business refusal may be a replay')
  t.match(op.responses['422'].description, /`INSUFFICIENT_FUNDS`/)
  t.equal(op.responses['201'].description, 'Created')
  t.ok(op.responses['201'].headers['Idempotent-Replayed'], 'a success may be a replay')
  t.notOk(op.responses['400'].headers['Idempotent-Replayed'])
  t.ok(op.responses['429'].headers['Retry-After'])
  t.ok(op.responses['503'].headers['Retry-After'])
  t.ok(op.responses['401'].headers['WWW-Authenticate'])
  for (const r of Object.values<any>(op.responses)) t.ok(r.headers['x-request-id'] && r.headers.RateLimit)
  t.equal(op.parameters[0].name, 'Idempotency-Key')
  t.match(op.description, /Scopes \(any one\): `pos`, `members:write`\.[\s\S]*Idempotent/)
})

t.test('a public probe has no auth, rate-limit or database statuses; an HTML page for people stays as it is', async (t) => {
  const doc = standardizeDocument(
    {
      paths: {
        '/health/live': { get: { summary: 'Up', responses: { '200': { description: 'Default Response' } } } },
        '/r/{token}': { get: { description: 'A page', responses: { '200': { description: 'Page' }, '404': { description: 'Unknown link', content: { 'text/html': { schema: { type: 'string' } } } } } } },
      },
      components: { schemas: { Problem: { type: 'object' }, Unused: { type: 'object' } } },
    },
    opts,
  )
  const live = doc.paths['/health/live'].get
  t.same(Object.keys(live.responses), ['200', '400', '500'])
  t.same(live.security, [], 'public operations say so')
  t.notOk(live.responses['200'].headers.RateLimit)
  t.match(live.description, /No authentication/)
  const page = doc.paths['/r/{token}'].get
  t.ok(page.responses['404'].content['text/html'])
  t.ok(page.responses['503'])
  t.same(Object.keys(doc.components.schemas), ['Problem'], 'unused schemas are pruned')
  t.ok(doc.components.headers.XRequestId)
})

t.test('an error a route declares with another body keeps it (OAuth token errors are RFC 6749 JSON)', async (t) => {
  const oauth = { description: 'RFC 6749 error', content: { 'application/json': { schema: { $ref: '#/components/schemas/OAuthError' } } } }
  const op = standardizeOperation(
    { responses: { '200': { description: 'Token' }, '400': structuredClone(oauth), '429': { description: 'x', content: { 'application/json': { schema: { $ref: '#/components/schemas/Problem' } } } } } },
    '/v1/oauth/token',
    true,
  )
  t.same(op.responses['400'].content, oauth.content)
  t.ok(op.responses['400'].headers['x-request-id'])
  t.ok(op.responses['429'].content['application/problem+json'], 'a Problem declared as JSON is problem+json')
})

t.test('the rate-limit fields are the IETF structured fields', async (t) => {
  t.same(rateLimitFields(600, 60, 598, 17), { RateLimit: '"default";r=598;t=17', 'RateLimit-Policy': '"default";q=600;w=60' })
  t.same(rateLimitFields(5, 60, 0, 60), { RateLimit: '"default";r=0;t=60', 'RateLimit-Policy': '"default";q=5;w=60' })
})
