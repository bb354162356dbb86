// The `type` URI of every problem answers: a page for a browser, the catalog entry as JSON.
import t from 'tap'
import { startTestApp } from './../helpers/app.js'
import { PROBLEM_CODES, PROBLEMS } from '../../src/modules/problems/catalog.js'

const ctx = await startTestApp(t)

t.test('a refusal\'s type URI answers the page of its code, without a token', async (t) => {
  const refused = await ctx.inject({ method: 'GET', url: '/v1/members' })
  t.equal(refused.statusCode, 401)
  const type = refused.json().type as string
  t.equal(type, '/problems/unauthorized')
  const html = await ctx.inject({ method: 'GET', url: type, headers: { accept: 'text/html,application/xhtml+xml,*/*;q=0.8' } })
  t.equal(html.statusCode, 200)
  t.match(html.headers['content-type'], /^text\/html/)
  t.match(html.body, /<h1>Unauthorized<\/h1>/)
  t.match(html.body, /What to do/)
  const json = await ctx.inject({ method: 'GET', url: type, headers: { accept: 'application/json' } })
  t.equal(json.statusCode, 200)
  t.match(json.headers['content-type'], /^application\/json/)
  t.same(json.json(), { type, code: 'UNAUTHORIZED', ...PROBLEMS.UNAUTHORIZED, status: [401] })
})

t.test('the list names every code, as JSON and as a page linking each', async (t) => {
  const json = await ctx.inject({ method: 'GET', url: '/problems', headers: { accept: 'application/json' } })
  t.equal(json.statusCode, 200)
  t.same(json.json().data.map((p: { code: string }) => p.code), PROBLEM_CODES)
  const html = await ctx.inject({ method: 'GET', url: '/problems' })
  t.match(html.headers['content-type'], /^text\/html/)
  for (const code of PROBLEM_CODES) t.ok(html.body.includes(`href="/problems/${code.toLowerCase().replace(/_/g, '-')}"`), `links ${code}`)
})

t.test('an unknown slug is a 404 problem document', async (t) => {
  const res = await ctx.inject({ method: 'GET', url: '/problems/no-such-thing', headers: { accept: 'application/json' } })
  t.equal(res.statusCode, 404)
  t.match(res.headers['content-type'], /^application\/problem\+json/)
  t.equal(res.json().code, 'NOT_FOUND')
})
