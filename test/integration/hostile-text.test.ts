import t from 'tap'
import { connect } from 'node:net'
import type { AddressInfo } from 'node:net'
import { startTestApp } from '../helpers/app.js'
import { changedTables, fingerprint } from '../helpers/fingerprint.js'
import { idemKey, receiptNo, Till, VND_RULES } from '../helpers/pos.js'

// Text PostgreSQL cannot store (U+0000), lone surrogates and C0 control characters, in every place
// a request carries text: refused with 400 VALIDATION_FAILED naming the field, before anything is
// written (they used to reach PostgreSQL and answer 500, which a till retries forever).
const ctx = await startTestApp(t)
const program = await ctx.createProgram({ rules: VND_RULES })
const till = new Till(ctx, program.token)
const member = await ctx.enrol(program.token)
await till.topUp(member.id, '100000')
await till.grantPoints(member.id, 100)
const purchase = (await till.purchase(member.id, [{ sku: 'A', quantity: 1, unitPrice: '50000' }], [{ type: 'cash', amount: '50000' }])).json()
const admin = await ctx.adminToken()
const snapshot = () => fingerprint(ctx.database, ctx.database.kind === 'postgres' ? { programIds: [program.id] } : undefined)

const NUL = 'Lan\u0000'
const PHONE = '0912000111'
const RECEIPT = receiptNo()
const sale = (patch: Record<string, unknown> = {}, line: Record<string, unknown> = {}) => ({
  memberId: member.id,
  storeId: 'S1',
  terminalId: 'T1',
  externalId: RECEIPT,
  currency: 'VND',
  lines: [{ sku: 'A', name: 'A', quantity: 1, unitPrice: '10000', ...line }],
  tenders: [{ type: 'cash', amount: '10000' }],
  ...patch,
})

interface HostileCase {
  what: string
  method: 'GET' | 'POST' | 'PATCH'
  url: string
  body?: unknown
  headers?: Record<string, string>
  /** The field path the problem must name. */
  path: string
}

const cases: HostileCase[] = [
  { what: "an enrolling member's name", method: 'POST', url: '/v1/members', body: { name: NUL, phone: PHONE }, path: 'body/name' },
  { what: "a member's new name", method: 'PATCH', url: `/v1/members/${member.id}`, body: { name: NUL }, path: 'body/name' },
  { what: "a purchase line's sku", method: 'POST', url: '/v1/purchases', body: sale({}, { sku: 'A\u0000' }), path: 'body/lines/0/sku' },
  { what: "a purchase's externalId", method: 'POST', url: '/v1/purchases', body: sale({ externalId: `${RECEIPT}\u0000` }), path: 'body/externalId' },
  { what: "an adjustment's reason", method: 'POST', url: `/v1/members/${member.id}/points/adjustments`, body: { points: 5, reason: 'goodwill\u0000' }, path: 'body/reason' },
  { what: 'an NPS comment', method: 'POST', url: '/v1/surveys/nps/responses', body: { memberId: member.id, score: 9, comment: 'great\u0000', channel: 'pos' }, path: 'body/comment' },
  { what: 'a member lookup by externalId', method: 'GET', url: '/v1/members?externalId=X%00', path: 'querystring/externalId' },
  { what: 'a purchase list by store', method: 'GET', url: '/v1/purchases?storeId=S1%00', path: 'querystring/storeId' },
  { what: 'a coupon code in the path', method: 'GET', url: '/v1/coupons/SALE%00', path: 'params/code' },
  { what: 'a client id in a token request', method: 'POST', url: '/v1/oauth/token', body: 'grant_type=client_credentials&client_id=a%00b&client_secret=x', headers: { 'content-type': 'application/x-www-form-urlencoded' }, path: 'body/client_id' },
  { what: "a program's name", method: 'POST', url: '/v1/programs', body: { name: 'Cà phê\u0000', currency: 'VND' }, headers: { authorization: `Bearer ${admin}` }, path: 'body/name' },
  { what: 'an escape character in a sku', method: 'POST', url: '/v1/purchases', body: sale({}, { sku: '\u001b[31mA' }), path: 'body/lines/0/sku' },
  { what: 'a backspace in a name', method: 'POST', url: '/v1/members', body: { name: 'Lan\b', phone: PHONE }, path: 'body/name' },
  { what: 'a lone surrogate in a name', method: 'POST', url: '/v1/members', body: '{"name":"Lan\\ud800","phone":"0912000111"}', path: 'body/name' },
  { what: 'a lone low surrogate in a sku', method: 'POST', url: '/v1/purchases', body: JSON.stringify(sale({}, { sku: 'A' })).replace('"sku":"A"', '"sku":"\\udc00A"'), path: 'body/lines/0/sku' },
  { what: 'NUL in a property name', method: 'POST', url: '/v1/members', body: '{"name":"Lan","phone":"0912000111","x\\u0000":1}', path: 'body/x\\u0000' },
  { what: 'an Idempotency-Key with NUL', method: 'POST', url: `/v1/members/${member.id}/stored-value/top-ups`, body: { amount: '10000', tender: 'cash', storeId: 'S1' }, headers: { 'idempotency-key': 'k\u0000' }, path: 'headers/idempotency-key' },
]

t.test('NUL, lone surrogates and control characters anywhere answer 400 VALIDATION_FAILED naming the field, and nothing is written', async (t) => {
  const before = await snapshot()
  const balances = await till.balances(member.id)
  for (const c of cases) {
    const headers: Record<string, string> = { authorization: `Bearer ${program.token}`, 'idempotency-key': idemKey('text'), ...c.headers }
    if (typeof c.body === 'string' && !headers['content-type']) headers['content-type'] = 'application/json'
    const res = await ctx.call(undefined, c.method, c.url, c.body, headers)
    t.equal(res.statusCode, 400, `${c.what}: ${res.statusCode} ${res.body.slice(0, 200)}`)
    if (c.url === '/v1/oauth/token') {
      // The token endpoint answers RFC 6749 errors: invalid_request, the field named in the description.
      t.match(res.headers['content-type'], /^application\/json/, `${c.what}: an OAuth error`)
      t.equal(res.json().error, 'invalid_request', `${c.what}: error`)
      t.match(res.json().error_description, c.path, `${c.what}: names ${c.path}`)
    } else {
      t.match(res.headers['content-type'], /^application\/problem\+json/, `${c.what}: a problem document`)
      const problem = res.json()
      t.equal(problem.code, 'VALIDATION_FAILED', `${c.what}: code`)
      t.ok(
        problem.errors?.some((e: { path: string }) => e.path === c.path),
        `${c.what}: names ${c.path} (got ${JSON.stringify(problem.errors)})`,
      )
    }
    t.same(changedTables(before, await snapshot()), [], `${c.what}: no table changed`)
  }
  const found = await ctx.call(program.token, 'GET', `/v1/members?phone=${PHONE}`)
  t.same(found.json().data, [], 'the member was not enrolled')
  const sales = await ctx.call(program.token, 'GET', `/v1/purchases?memberId=${member.id}`)
  t.same(
    sales.json().data.map((p: { id: string }) => p.id),
    [purchase.id],
    'no purchase was recorded',
  )
  t.same(await till.balances(member.id), balances, 'balances unchanged')
})

t.test('TAB, LF and CR are ordinary text: an NPS comment over several lines is kept as sent', async (t) => {
  const comment = 'Nhân viên thân thiện.\r\nCà phê ngon\tlắm.\n'
  const res = await ctx.call(program.token, 'POST', '/v1/surveys/nps/responses', { memberId: member.id, score: 10, comment, channel: 'pos' }, { 'idempotency-key': idemKey('nps') })
  t.equal(res.statusCode, 201, res.body)
  t.equal(res.json().comment, comment.trim())
})

t.test('an x-request-id with a control character is not echoed: the request gets an id of its own', async (t) => {
  const res = await ctx.call(program.token, 'GET', `/v1/members/${member.id}`, undefined, { 'x-request-id': 'till-1\u0000' })
  t.equal(res.statusCode, 200)
  t.match(res.headers['x-request-id'], /^[0-9a-f-]{36}$/)
})

t.test('numbers past 2^63 in integer fields answer 400 problem documents', async (t) => {
  const tooBig = [
    { url: `/v1/members/${member.id}/points/adjustments`, body: '{"points": 9223372036854775808, "reason": "huge"}', path: 'body/points' },
    { url: '/v1/purchases', body: JSON.stringify(sale({ externalId: receiptNo() })).replace('"quantity":1', '"quantity":92233720368547758070'), path: 'body/lines/0/quantity' },
  ]
  for (const c of tooBig) {
    const res = await ctx.call(program.token, 'POST', c.url, c.body, { 'content-type': 'application/json', 'idempotency-key': idemKey('big') })
    t.equal(res.statusCode, 400, `${c.path}: ${res.body.slice(0, 200)}`)
    t.ok(res.json().errors?.some((e: { path: string }) => e.path === c.path), `names ${c.path}`)
  }
  const list = await ctx.call(program.token, 'GET', '/v1/purchases?limit=9223372036854775808')
  t.equal(list.statusCode, 400, list.body)
  t.equal(list.json().errors?.[0]?.path, 'querystring/limit')
})

/** One raw HTTP exchange over a socket: what a till whose bytes Node's HTTP parser refuses gets back. */
async function rawExchange(port: number, request: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => socket.write(request))
    let answer = ''
    socket.on('data', (chunk) => (answer += chunk.toString('latin1')))
    socket.on('close', () => resolve(answer))
    socket.on('error', (err) => (answer ? resolve(answer) : reject(err)))
  })
}

t.test('bytes refused by the HTTP parser itself (NUL in a header, oversized headers) answer a problem document', async (t) => {
  await ctx.app.listen({ port: 0, host: '127.0.0.1' })
  const { port } = ctx.app.server.address() as AddressInfo
  const exchanges = [
    { what: 'NUL in a header', request: `GET /v1/purchases HTTP/1.1\r\nHost: x\r\nIdempotency-Key: k\u0000\r\n\r\n`, status: 400, code: 'MALFORMED_REQUEST' },
    { what: 'a control character in the request line', request: `GET /v1/coupons/A\u0001 HTTP/1.1\r\nHost: x\r\n\r\n`, status: 400, code: 'MALFORMED_REQUEST' },
    { what: '100 kB of headers', request: `GET /v1/purchases HTTP/1.1\r\nHost: x\r\nX-Pad: ${'a'.repeat(100_000)}\r\n\r\n`, status: 431, code: 'HEADERS_TOO_LARGE' },
  ]
  for (const e of exchanges) {
    const answer = await rawExchange(port, e.request)
    const [head = '', body = ''] = answer.split('\r\n\r\n')
    t.match(head, new RegExp(`^HTTP/1.1 ${e.status} `), `${e.what}: status ${head.split('\r\n')[0]}`)
    t.match(head, /\r\ncontent-type: application\/problem\+json/i, `${e.what}: a problem document`)
    const problem = JSON.parse(body)
    t.match(problem, { status: e.status, code: e.code, type: `/problems/${e.code.toLowerCase().replace(/_/g, '-')}` }, e.what)
    t.type(problem.requestId, 'string', `${e.what}: a request id to quote`)
  }
})
