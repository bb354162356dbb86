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

t.test('interactive docs are served at /docs', async (t) => {
  const ctx = await startTestApp(t)
  const res = await ctx.inject({ method: 'GET', url: '/docs/' })
  t.equal(res.statusCode, 200)
  t.match(res.headers['content-type'], /text\/html/)
  const json = await ctx.inject({ method: 'GET', url: '/docs/json' })
  t.equal(json.json().info.title, 'Loyalty Ledger API')
})
