import t, { type Test } from 'tap'
import { startTestApp } from '../helpers/app.js'

const ctx = await startTestApp(t, { http: { bodyLimit: 64 * 1024, trustProxy: false } })
const program = await ctx.createProgram()

function assertProblem(t: Test, res: Awaited<ReturnType<typeof ctx.inject>>, status: number, code: string) {
  t.equal(res.statusCode, status, code)
  t.match(res.headers['content-type'], /^application\/problem\+json/, `${code}: problem+json`)
  const body = res.json()
  t.match(body, { type: String, title: String, status, detail: String, code, requestId: String }, `${code}: RFC 9457 shape`)
  t.equal(body.requestId, res.headers['x-request-id'], `${code}: the request id matches the header`)
}

t.test('malformed and oversized bodies are 4xx problems, never 5xx', async (t) => {
  const auth = { authorization: `Bearer ${program.token}` }
  assertProblem(t, await ctx.inject({ method: 'POST', url: '/v1/members', headers: { ...auth, 'content-type': 'application/json' }, payload: '{"name": "A",' }), 400, 'MALFORMED_BODY')
  assertProblem(t, await ctx.inject({ method: 'POST', url: '/v1/members', headers: { ...auth, 'content-type': 'application/json' }, payload: '' }), 400, 'VALIDATION_FAILED')
  assertProblem(t, await ctx.inject({ method: 'POST', url: '/v1/members', headers: { ...auth, 'content-type': 'text/csv' }, payload: 'a,b' }), 415, 'UNSUPPORTED_MEDIA_TYPE')
  assertProblem(
    t,
    await ctx.inject({ method: 'POST', url: '/v1/members', headers: { ...auth, 'content-type': 'application/json' }, payload: JSON.stringify({ name: 'x'.repeat(70_000) }) }),
    413,
    'PAYLOAD_TOO_LARGE',
  )
  assertProblem(t, await ctx.inject({ method: 'POST', url: '/v1/members', headers: { ...auth, 'content-type': 'application/json' }, payload: '[1,2,3]' }), 400, 'VALIDATION_FAILED')
  assertProblem(t, await ctx.inject({ method: 'POST', url: '/v1/members', headers: { ...auth, 'content-type': 'application/json' }, payload: '"just a string"' }), 400, 'VALIDATION_FAILED')
  const deep = '['.repeat(5000) + ']'.repeat(5000)
  const res = await ctx.inject({ method: 'POST', url: '/v1/members', headers: { ...auth, 'content-type': 'application/json' }, payload: deep })
  t.equal(res.statusCode, 400, 'deeply nested JSON is refused')
  const proto = await ctx.inject({ method: 'POST', url: '/v1/members', headers: { ...auth, 'content-type': 'application/json' }, payload: '{"name":"A","phone":"0912000111","__proto__":{"admin":true}}' })
  t.equal(proto.statusCode, 400, 'prototype pollution attempts are refused')
})

t.test('unknown routes, bad ids and bad query values are problems too', async (t) => {
  assertProblem(t, await ctx.inject({ method: 'GET', url: '/v1/nothing-here' }), 404, 'NOT_FOUND')
  assertProblem(t, await ctx.call(program.token, 'GET', '/v1/members/not-a-uuid'), 400, 'VALIDATION_FAILED')
  assertProblem(t, await ctx.call(program.token, 'GET', '/v1/members/00000000-0000-7000-8000-000000000000'), 404, 'NOT_FOUND')
  assertProblem(t, await ctx.call(program.token, 'GET', '/v1/members?limit=0'), 400, 'VALIDATION_FAILED')
  assertProblem(t, await ctx.call(program.token, 'GET', '/v1/members?limit=abc'), 400, 'VALIDATION_FAILED')
  assertProblem(t, await ctx.call(program.token, 'GET', '/v1/members?bogus=1'), 400, 'VALIDATION_FAILED')
  assertProblem(t, await ctx.inject({ method: 'GET', url: '/v1/members' }), 401, 'UNAUTHORIZED')
})

t.test('a request id given by the caller is echoed and kept; a hostile one is replaced', async (t) => {
  const mine = await ctx.inject({ method: 'GET', url: '/health/live', headers: { 'x-request-id': 'pos-42-abc' } })
  t.equal(mine.headers['x-request-id'], 'pos-42-abc')
  const hostile = await ctx.inject({ method: 'GET', url: '/health/live', headers: { 'x-request-id': 'a\nb {"level":60}' } })
  t.not(hostile.headers['x-request-id'], 'a\nb {"level":60}')
  t.match(hostile.headers['x-request-id'], /^[0-9a-f-]{36}$/)
})

t.test('health and metrics', async (t) => {
  t.same((await ctx.inject({ method: 'GET', url: '/health/live' })).json(), { status: 'ok' })
  t.same((await ctx.inject({ method: 'GET', url: '/health/ready' })).json(), { status: 'ok' })
  await ctx.call(program.token, 'GET', '/v1/members')
  const metrics = await ctx.inject({ method: 'GET', url: '/metrics' })
  t.equal(metrics.statusCode, 200)
  t.match(metrics.headers['content-type'], /text\/plain/)
  t.match(metrics.body, /http_requests_total\{method="GET",route="\/v1\/members",status_code="200"\} \d+/)
  t.match(metrics.body, /http_request_duration_seconds_bucket\{le="0.005",method="GET",route="\/v1\/members",status_code="200"\}/)
})

t.test('readiness reports 503 when the database is gone', async (t) => {
  const lone = await startTestApp(t)
  await lone.database.close()
  const res = await lone.inject({ method: 'GET', url: '/health/ready' })
  t.equal(res.statusCode, 503)
  t.equal(res.json().code, 'SERVICE_UNAVAILABLE')
  t.same((await lone.inject({ method: 'GET', url: '/health/live' })).json(), { status: 'ok' }, 'liveness does not depend on the database')
})
