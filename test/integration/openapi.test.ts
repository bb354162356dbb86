import t from 'tap'
import { readFile } from 'node:fs/promises'
import { parse } from 'yaml'
import { renderOpenApi } from '../../src/openapi-document.js'
import { startTestApp } from '../helpers/app.js'

// Rendered once for the file: each render builds an app on a fresh embedded database (initdb and every migration).
const generated = await renderOpenApi()

t.test('openapi/openapi.yaml is what the zod schemas generate (run `npm run openapi` after changing a route)', async (t) => {
  const committed = await readFile(new URL('../../openapi/openapi.yaml', import.meta.url), 'utf8')
  t.equal(committed, generated, 'the committed OpenAPI document has drifted from the code')
})

t.test('the document describes every public route with its security', async (t) => {
  const doc = parse(generated)
  t.equal(doc.openapi, '3.1.0')
  for (const path of ['/v1/oauth/token', '/v1/programs', '/v1/programs/{programId}/clients', '/v1/members', '/v1/members/{memberId}', '/health/ready']) {
    t.ok(doc.paths[path], `${path} is documented`)
  }
  t.same(doc.paths['/v1/members'].post.security, [{ oauth2: ['members:write'] }, { oauth2: ['pos'] }], 'each accepted scope is an alternative')
  t.ok(doc.paths['/v1/members'].post.requestBody.content['application/json'].schema, 'request bodies come from zod')
  t.notOk(doc.paths['/metrics'], 'operational endpoints stay out of the API document')
})

t.test('every operation is named and declares its errors, headers and scopes as the service answers them', async (t) => {
  const doc = parse(generated)
  const ops = Object.entries<any>(doc.paths).flatMap(([path, item]) => Object.entries<any>(item).map(([method, op]) => ({ id: `${method.toUpperCase()} ${path}`, op })))
  const ids = ops.map(({ op }) => op.operationId)
  t.equal(ids.filter(Boolean).length, ops.length, 'every operation has an operationId')
  t.equal(new Set(ids).size, ids.length, 'operationIds are unique')
  t.equal(doc.paths['/v1/purchases'].post.operationId, 'createPurchase')
  for (const status of ['400', '401', '413', '415', '429', '503']) {
    t.equal(doc.paths['/v1/oauth/token'].post.responses[status].content['application/json'].schema.$ref, '#/components/schemas/OAuthError', `token ${status} is an RFC 6749 error`)
  }
  for (const { id, op } of ops) {
    t.ok(op.summary && op.description, `${id} has a summary and a description`)
    for (const [status, response] of Object.entries<any>(op.responses)) {
      t.ok(response.headers?.['x-request-id'], `${id} ${status} declares x-request-id`)
      // The token endpoint answers RFC 6749 errors (OAuthError, application/json), checked below; pages for people stay HTML.
      if (Number(status) >= 400 && !response.content?.['text/html'] && op.operationId !== 'issueToken') {
        t.same(Object.keys(response.content), ['application/problem+json'], `${id} ${status} is problem+json`)
        t.equal(response.content['application/problem+json'].schema.allOf[0].$ref, '#/components/schemas/Problem')
      }
    }
  }
  const problem = doc.components.schemas.Problem
  t.not(problem.additionalProperties, false, 'Problem is open to extension members')
  for (const member of ['errors', 'field', 'total', 'tendered', 'asset', 'requiredScopes', 'retryAfterSeconds']) t.ok(problem.properties[member], `Problem documents ${member}`)
  const scheme = doc.components.securitySchemes.oauth2
  t.equal(scheme.type, 'oauth2')
  t.equal(scheme.flows.clientCredentials.tokenUrl, '/v1/oauth/token')
  t.ok(scheme.flows.clientCredentials.scopes.pos, 'scopes are described')
  const purchase = doc.paths['/v1/purchases'].post
  t.ok(purchase.parameters.some((p: any) => p.in === 'header' && p.name === 'Idempotency-Key' && p.required))
  t.ok(purchase.responses['201'].headers['Idempotent-Replayed'])
  t.ok(purchase.responses['429'].headers['Retry-After'] && purchase.responses['503'].headers['Retry-After'])
  t.ok(purchase.responses['201'].headers.RateLimit && purchase.responses['201'].headers['RateLimit-Policy'])
  t.ok(purchase.responses['413'] && purchase.responses['415'], 'a body can be too large or of the wrong type')
  t.ok(purchase.responses['422'].content['application/problem+json'].schema.allOf[1].properties.code.enum.includes('INSUFFICIENT_FUNDS'))
  t.ok(doc.paths['/v1/exports/journal'].get.responses['200'].headers['Content-Disposition'])
  t.same(doc.servers, [{ url: '/', description: 'The origin serving this document' }])
  t.ok(doc.tags.every((tag: any) => tag.description), 'tags are described')
})

t.test('request bodies are in zod input form, their defaults described rather than declared', async (t) => {
  const doc = parse(generated)
  const body = doc.paths['/v1/purchases'].post.requestBody.content['application/json'].schema
  t.equal(body.$ref, '#/components/schemas/PurchaseCreateInput')
  const schemas = doc.components.schemas
  t.notOk((schemas.PurchaseCreateInput.required ?? []).includes('capture'), 'a defaulted field is optional')
  t.match(schemas.PurchaseCreateInput.properties.capture.description, /Default: `true`/, 'the default is told in the description')
  // openapi-typescript (default options) types a property with `default` as always present: a request schema declares none.
  const inputs = Object.entries<any>(schemas).filter(([name]) => name.endsWith('Input'))
  t.ok(inputs.length > 10)
  for (const [name, schema] of inputs) t.notOk(JSON.stringify(schema).includes('"default":'), `${name} declares no default`)
  for (const item of Object.values<any>(doc.paths)) {
    for (const op of Object.values<any>(item)) if (op?.requestBody) t.notOk(JSON.stringify(op.requestBody).includes('"default":'), `${op.operationId}'s body declares no default`)
  }
})

t.test('interactive docs are served at /docs', async (t) => {
  const ctx = await startTestApp(t)
  const res = await ctx.inject({ method: 'GET', url: '/docs/' })
  t.equal(res.statusCode, 200)
  t.match(res.headers['content-type'], /text\/html/)
  const json = await ctx.inject({ method: 'GET', url: '/docs/json' })
  t.equal(json.json().info.title, 'Loyalty Ledger API')
})
