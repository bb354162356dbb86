import t from 'tap'
import fc from 'fast-check'
import { ADMIN, startTestApp, type TestApp } from '../helpers/app.js'
import { changedTables, fingerprint } from '../helpers/fingerprint.js'
import { documentOf, leavesOf, operationsOf, sample, satisfies, urlOf, withLeaf, withoutKey, type JsonSchema, type Known, type Operation } from '../helpers/openapi-requests.js'
import { inputClassCases, itemView, PER_ITEM_ARRAYS, unmetExpectation, type Case, type InputClass } from '../helpers/hostile-inputs.js'
import { idemKey, Till, VND_RULES } from '../helpers/pos.js'

// Hostile input, derived from the OpenAPI document: for every operation, malformed bodies (each
// field set to values its schema refuses, required fields missing, unknown fields), wrong
// content types, broken JSON, deep JSON, 10 MB bodies, bad path and query parameters, bad
// idempotency keys; and, in every position whatever the schema says, the input classes of
// test/helpers/hostile-inputs.ts (control characters, lone surrogates, numbers past 2^63, long
// path segments). Every answer must be a 4xx application/problem+json, none a 5xx, and the
// database must be exactly as before. Then fractional, negative and past-2^63 amounts in
// otherwise valid requests.
const TARGET = Number(process.env.FUZZ_REQUESTS ?? 10_500)
const SEED = Number(process.env.FUZZ_SEED ?? 20_260_101)
t.comment(`fuzz seed ${SEED} (FUZZ_SEED to replay), target ${TARGET} requests`)

const fuzzAdmin = { clientId: `fuzz-admin-${process.pid}`, clientSecret: ADMIN.clientSecret, usingDevDefaults: false }
const ctx = await startTestApp(t, { admin: fuzzAdmin })
const program = await ctx.createProgram({ rules: VND_RULES })
const till = new Till(ctx, program.token)
const member = await ctx.enrol(program.token, { email: 'fuzz@example.com', cardNumber: `C-${process.pid}` })
await till.topUp(member.id, '500000')
await till.grantPoints(member.id, 1000)
const purchase = (await till.purchase(member.id, [{ sku: 'A', quantity: 2, unitPrice: '50000' }], [{ type: 'cash', amount: '100000' }])).json()
const pending = (await till.purchase(member.id, [{ sku: 'B', quantity: 1, unitPrice: '10000' }], [{ type: 'storedValue', amount: '10000' }], { capture: false })).json()
const client = (await ctx.call(await ctx.adminToken(), 'POST', `/v1/programs/${program.id}/clients`, { name: 'fuzzed', scopes: ['pos'] }, { 'idempotency-key': idemKey() })).json()

const known: Known = {
  programId: program.id,
  memberId: member.id,
  purchaseId: purchase.id,
  entryId: purchase.entryId,
  clientId: client.clientId,
  currency: 'VND',
  storeId: 'S1',
  terminalId: 'T1',
  amount: '10000',
  tender: 'cash',
  reason: 'fuzz',
  name: 'Fuzz',
}

const doc = await documentOf(ctx.app)
const operations = operationsOf(doc).filter((op) => !op.path.startsWith('/docs'))
const adminToken = await ctx.adminToken()
/** A token the operation accepts: the admin's for admin-only operations, else the program's (every program scope). */
const tokenFor = (op: Operation) => (op.scopes === null ? undefined : op.scopes.every((s) => s === 'admin') ? adminToken : program.token)

const scope = { programIds: [program.id], actors: [fuzzAdmin.clientId, client.clientId] }
const snapshot = () => fingerprint(ctx.database, ctx.database.kind === 'postgres' ? scope : undefined)

const TEN_MB = `{"pad":"${'x'.repeat(10 * 1024 * 1024)}"}`
const DEEP_ARRAY = `${'['.repeat(50_000)}${']'.repeat(50_000)}`
const DEEP_OBJECT = `${'{"a":'.repeat(20_000)}1${'}'.repeat(20_000)}`

const HOSTILE: [string, unknown][] = [
  ['null', null],
  ['true', true],
  ['zero', 0],
  ['negative', -1],
  ['fraction', 0.5],
  ['1e308', 1e308],
  ['2^63', 2 ** 63],
  ['unsafe integer', 2 ** 53 + 1],
  ['empty string', ''],
  ['blank', '   '],
  ['negative money', '-1'],
  ['money with exponent', '1e5'],
  ['40 digits', '9'.repeat(40)],
  ['hex', '0x10'],
  ['NaN', 'NaN'],
  ['Infinity', 'Infinity'],
  ['arabic-indic digits', '١٢٣'],
  ['fullwidth digits', '１２３'],
  ['NUL', 'a\u0000b'],
  ['RTL override', '\u202Eabc'],
  ['zero-width space', '\u200B'],
  ['lone surrogate', '\uD800'],
  ['emoji', '💳💳💳'],
  ['combining marks', 'e\u0301'.repeat(300)],
  ['overlong', 'x'.repeat(100_000)],
  ['SQL', "' or 1=1; --"],
  ['markup', '<script>alert(1)</script>'],
  ['object', {}],
  ['array', []],
  ['nested', { a: { b: [1, { c: null }] } }],
  ['prototype key', JSON.parse('{"__proto__": {"polluted": true}}')],
  ['numeric string', '1'],
  ['impossible date', '2024-13-45T25:61:00Z'],
  ['not quite a uuid', '00000000-0000-4000-8000-00000000000g'],
]

/** Values the schema at a leaf refuses by its own bounds (one past each limit). */
function boundaryValues(s: JsonSchema): [string, unknown][] {
  const out: [string, unknown][] = []
  if (typeof s.maxLength === 'number') out.push([`maxLength+1`, 'x'.repeat(s.maxLength + 1)])
  if (typeof s.minLength === 'number' && s.minLength > 0) out.push([`minLength-1`, 'x'.repeat(s.minLength - 1)])
  if (typeof s.maximum === 'number') out.push([`maximum+1`, s.maximum + 1])
  if (typeof s.minimum === 'number') out.push([`minimum-1`, s.minimum - 1])
  if (Array.isArray(s.enum)) out.push(['not in enum', 'not-a-member'])
  if (typeof s.maxItems === 'number') out.push([`maxItems+1`, Array.from({ length: s.maxItems + 1 }, () => (s.items ? sample(s.items, known) : 1))])
  if (typeof s.minItems === 'number' && s.minItems > 0) out.push(['minItems-1', []])
  return out
}

const randomValue = fc.oneof(
  fc.string({ unit: 'grapheme', maxLength: 80 }),
  fc.string({ unit: 'binary', maxLength: 80 }),
  fc.integer(),
  fc.double(),
  fc.bigInt({ min: -(10n ** 40n), max: 10n ** 40n }).map(String),
  fc.constantFrom(...HOSTILE.map(([, v]) => v)),
  fc.jsonValue({ maxDepth: 3 }),
  fc.array(fc.anything({ maxDepth: 2 }), { maxLength: 5 }),
)

function baseHeaders(op: Operation): Record<string, string> {
  const token = tokenFor(op)
  return { ...(token ? { authorization: `Bearer ${token}` } : {}), ...(op.idempotent ? { 'idempotency-key': idemKey('fuzz') } : {}) }
}

function jsonCase(op: Operation, label: string, body: unknown, url = urlOf(op, known)): Case {
  return { op, label, url, payload: JSON.stringify(body), headers: { ...baseHeaders(op), 'content-type': 'application/json' } }
}

/** Every malformed request derived for one operation. */
function casesFor(op: Operation, budget: number, rng: number): Case[] {
  const cases: Case[] = inputClassCases(op, { known, headers: baseHeaders })
  const url = urlOf(op, known)
  const body = op.body ? sample(op.body.schema, known) : undefined
  const refusedBody = (candidate: unknown) => !op.body || !satisfies(op.body.schema, candidate)

  if (op.body) {
    const schema = op.body.schema
    // Each field set to each hostile value and one past each of its limits, when the schema refuses the result.
    for (const leaf of leavesOf(schema)) {
      for (const [label, value] of [...HOSTILE, ...boundaryValues(leaf.schema)]) {
        const candidate = withLeaf(body, leaf.path, value)
        if (refusedBody(candidate)) cases.push(jsonCase(op, `${leaf.path.join('.')} = ${label}`, candidate, url))
      }
      const without = withoutKey(body, leaf.path)
      if (refusedBody(without)) cases.push(jsonCase(op, `${leaf.path.join('.')} missing`, without, url))
    }
    const extra = { ...(body as object), unexpectedField: 1 }
    if (refusedBody(extra)) cases.push(jsonCase(op, 'unknown field', extra, url))
    for (const [label, value] of [['null', null], ['array', []], ['string', 'x'], ['number', 1], ['boolean', true]] as const) {
      if (refusedBody(value)) cases.push(jsonCase(op, `body is ${label}`, value, url))
    }
    const raw = (label: string, payload: string | Buffer, contentType?: string) =>
      cases.push({ op, label, url, payload, headers: { ...baseHeaders(op), ...(contentType ? { 'content-type': contentType } : {}) } })
    raw('10 MB body', TEN_MB, 'application/json')
    if (refusedBody([])) raw('deep array', DEEP_ARRAY, 'application/json')
    raw('deep object', DEEP_OBJECT, 'application/json')
    for (const broken of ['{', '{"a":', "{'a': 1}", 'undefined', '{"a": 1}}', '[1,]', '\u0000', '{"amount": 1e999999}']) raw(`broken JSON ${JSON.stringify(broken)}`, broken, 'application/json')
    const json = JSON.stringify(body)
    for (const type of ['text/plain', 'application/xml', 'multipart/form-data; boundary=x', 'application/octet-stream', 'image/png', 'application/json-patch+json']) raw(`content type ${type}`, json, type)
    raw('no content type', Buffer.from(json))
    raw('UTF-16 JSON', Buffer.from(`\uFEFF${json}`, 'utf16le'), 'application/json; charset=utf-16')
  }

  for (const p of op.parameters.filter((x) => x.in === 'path')) {
    for (const [label, value] of [...HOSTILE.filter(([, v]) => typeof v === 'string'), ['traversal', '../../etc/passwd'], ['encoded NUL', '%00']] as [string, string][]) {
      if (value === '' || satisfies(p.schema, value, true)) continue
      cases.push({ op, label: `path ${p.name} = ${label}`, url: urlOf(op, known, { [p.name]: value }), payload: body === undefined ? undefined : JSON.stringify(body), headers: { ...baseHeaders(op), ...(body === undefined ? {} : { 'content-type': 'application/json' }) } })
    }
  }
  for (const p of op.parameters.filter((x) => x.in === 'query')) {
    for (const [label, value] of [...HOSTILE, ['negative limit', '-1'], ['huge limit', '1e9'], ['fractional', '2.5']] as [string, unknown][]) {
      const text = typeof value === 'string' ? value : JSON.stringify(value)
      if (satisfies(p.schema, text, true)) continue
      cases.push({ op, label: `query ${p.name} = ${label}`, url: urlOf(op, known, {}, { [p.name]: text }), payload: body === undefined ? undefined : JSON.stringify(body), headers: { ...baseHeaders(op), ...(body === undefined ? {} : { 'content-type': 'application/json' }) } })
    }
  }
  if (op.idempotent) {
    const keySchema = op.parameters.find((p) => p.in === 'header' && p.name.toLowerCase() === 'idempotency-key')!.schema
    for (const [label, key] of [['empty', ''], ['too long', 'k'.repeat(256)], ['space', 'a b'], ['tab', 'a\tb'], ['latin-1', 'clé'], ['DEL', 'a\x7f']] as const) {
      if (satisfies(keySchema, key, true)) continue
      cases.push({ ...jsonCase(op, `Idempotency-Key ${label}`, body ?? {}, url), headers: { ...baseHeaders(op), 'content-type': 'application/json', 'idempotency-key': key } })
    }
    const { 'idempotency-key': _k, ...noKey } = baseHeaders(op)
    cases.push({ op, label: 'Idempotency-Key missing', url, payload: JSON.stringify(body ?? {}), headers: { ...noKey, 'content-type': 'application/json' } })
  }
  if (op.scopes !== null) {
    for (const [label, auth] of [['no token', ''], ['Bearer only', 'Bearer'], ['three dots', 'Bearer a.b.c'], ['10 kB token', `Bearer ${'a'.repeat(10_000)}`], ['Basic', 'Basic YTpi'], ['bearer of garbage', 'Bearer ☃']] as const) {
      const headers: Record<string, string> = { ...baseHeaders(op), ...(body === undefined ? {} : { 'content-type': 'application/json' }) }
      if (auth) headers.authorization = auth
      else delete headers.authorization
      cases.push({ op, label: `authorization: ${label}`, url, payload: body === undefined ? undefined : JSON.stringify(body), headers })
    }
  }

  // Random fill: a random field gets a random value the schema refuses.
  const leaves = op.body ? leavesOf(op.body.schema) : []
  if (op.body && leaves.length > 0 && cases.length < budget) {
    const picks = fc.sample(fc.tuple(fc.nat({ max: leaves.length - 1 }), randomValue), { numRuns: (budget - cases.length) * 3, seed: SEED + rng })
    for (const [i, value] of picks) {
      if (cases.length >= budget) break
      const candidate = withLeaf(body, leaves[i]!.path, value)
      if (refusedBody(candidate)) cases.push(jsonCase(op, `random ${leaves[i]!.path.join('.')}`, candidate, url))
    }
  }
  // Operations without a body: random path and query values.
  if (!op.body && cases.length < budget) {
    const params = op.parameters.filter((p) => p.in !== 'header')
    const strings = fc.sample(fc.oneof(fc.string({ unit: 'grapheme', maxLength: 60 }), fc.string({ unit: 'binary', maxLength: 60 })), { numRuns: (budget - cases.length) * 2, seed: SEED + rng })
    for (const [i, value] of strings.entries()) {
      if (cases.length >= budget || params.length === 0) break
      const p = params[i % params.length]!
      if (value === '' || satisfies(p.schema, value, true)) continue
      cases.push({ op, label: `random ${p.in} ${p.name}`, url: p.in === 'path' ? urlOf(op, known, { [p.name]: value }) : urlOf(op, known, {}, { [p.name]: value }), headers: baseHeaders(op) })
    }
  }
  return cases
}

/** What a refusal must look like; undefined when it does. */
function refusalProblem(res: { statusCode: number; headers: Record<string, unknown>; body: string }, path?: string): string | undefined {
  if (res.statusCode >= 500) return `${res.statusCode} server error`
  if (res.statusCode < 400) return `${res.statusCode}: the request was accepted`
  // The token endpoint answers RFC 6749 section 5.2 errors (JSON `error`, `error_description`), not problem documents.
  // (A longer path is no longer the token endpoint: its 404 is a problem document like any other.)
  if (path === '/v1/oauth/token' && !/^application\/problem\+json/.test(String(res.headers['content-type']))) return oauthErrorProblem(res)
  if (!/^application\/problem\+json/.test(String(res.headers['content-type']))) return `content type ${String(res.headers['content-type'])}`
  let p: Record<string, unknown>
  try {
    p = JSON.parse(res.body)
  } catch {
    return 'body is not JSON'
  }
  if (p.status !== res.statusCode || typeof p.code !== 'string' || typeof p.title !== 'string' || typeof p.requestId !== 'string' || !String(p.type).startsWith('/problems/')) {
    return `not a problem document: ${res.body.slice(0, 200)}`
  }
  return undefined
}

function oauthErrorProblem(res: { statusCode: number; headers: Record<string, unknown>; body: string }): string | undefined {
  if (!/^application\/json/.test(String(res.headers['content-type']))) return `content type ${String(res.headers['content-type'])}`
  try {
    const e = JSON.parse(res.body) as Record<string, unknown>
    return typeof e.error === 'string' && typeof e.error_description === 'string' ? undefined : `not an RFC 6749 error: ${res.body.slice(0, 200)}`
  } catch {
    return 'body is not JSON'
  }
}

async function send(app: TestApp, c: Case) {
  return app.inject({ method: c.op.method as 'GET', url: c.url, headers: c.headers, ...(c.payload === undefined ? {} : { payload: c.payload }) })
}

t.test(`malformed requests to every operation of the OpenAPI document: no 5xx, every refusal a problem, nothing written`, async (t) => {
  t.ok(operations.length >= 20, `${operations.length} operations in the document`)
  const budget = Math.ceil(TARGET / operations.length)
  const started = performance.now()
  const before = await snapshot()
  let sent = 0
  let serverErrors = 0
  const statuses = new Map<number, number>()
  const perOperation = new Map<string, number>()
  const perClass = new Map<InputClass, { sent: number; serverErrors: number }>()
  const failures: string[] = []
  for (const [i, op] of operations.entries()) {
    for (const c of casesFor(op, budget, i)) {
      const res = await send(ctx, c)
      sent += 1
      perOperation.set(op.id, (perOperation.get(op.id) ?? 0) + 1)
      statuses.set(res.statusCode, (statuses.get(res.statusCode) ?? 0) + 1)
      if (res.statusCode >= 500) serverErrors += 1
      if (c.inputClass) {
        const counts = perClass.get(c.inputClass) ?? perClass.set(c.inputClass, { sent: 0, serverErrors: 0 }).get(c.inputClass)!
        counts.sent += 1
        if (res.statusCode >= 500) counts.serverErrors += 1
      }
      // A batch refuses a malformed sale in that sale's result: it is held to the same rules.
      const { res: answer, expect } = itemView(op, res, c.expect)
      const mayAnswer = expect?.kind === 'answered' && answer.statusCode < 400
      const problem = mayAnswer ? undefined : (refusalProblem(answer, op.path) ?? unmetExpectation(expect, answer))
      if (problem && failures.length < 25) failures.push(`${op.id} [${c.label}]: ${problem}`)
      else if (problem) failures.push('')
    }
  }
  const after = await snapshot()
  t.comment(`${((performance.now() - started) / 1000).toFixed(1)} s: sent ${sent} malformed requests over ${operations.length} operations; statuses ${JSON.stringify(Object.fromEntries([...statuses].sort()))}; 5xx: ${serverErrors}`)
  t.ok(sent >= TARGET * 0.95 || sent >= 10_000, `at least 10,000 requests sent (${sent})`)
  t.equal(serverErrors, 0, '5xx answers')
  for (const inputClass of ['control text', 'beyond int64', 'long path segment'] as const) {
    const counts = perClass.get(inputClass) ?? { sent: 0, serverErrors: 0 }
    t.comment(`${inputClass}: ${counts.sent} requests, ${counts.serverErrors} answered 5xx`)
    t.ok(counts.sent >= 50, `${inputClass}: sent in every operation that has a place for it (${counts.sent})`)
  }
  t.same(failures.filter(Boolean), [], `${failures.length} answers were not 4xx problem documents`)
  t.same(changedTables(before, after), [], 'no table changed')
  // An operation with no parameters, body or token takes no input to malform (health, JWKS).
  for (const op of operations.filter((o) => o.parameters.length > 0 || o.body || o.scopes !== null)) {
    t.ok((perOperation.get(op.id) ?? 0) >= 5, `${op.id} was fuzzed (${perOperation.get(op.id) ?? 0} requests)`)
  }
})

t.test('fractional, negative and past-2^63 amounts in VND are refused wherever money is taken; nothing is posted', async (t) => {
  const MONEY = /^\^\(0\|\[1-9\]\[0-9\]\*\)/
  // Valid requests of the money-taking operations; each money field in turn gets a VND amount with a fraction.
  const valid: Record<string, unknown> = {
    'POST /v1/purchases': { memberId: member.id, storeId: 'S1', terminalId: 'T1', externalId: 'FRACTION-1', currency: 'VND', lines: [{ sku: 'A', name: 'A', quantity: 1, unitPrice: '10000', discount: '0' }], tenders: [{ type: 'cash', amount: '10000' }] },
    'POST /v1/members/{memberId}/stored-value/top-ups': { amount: '10000', tender: 'cash', storeId: 'S1' },
    'POST /v1/purchases/{purchaseId}/capture': { amount: '5000' },
    'POST /v1/purchases/{purchaseId}/returns': { amount: '10000' },
  }
  valid['POST /v1/purchases/batch'] = { purchases: [{ ...(valid['POST /v1/purchases'] as object), externalId: 'FRACTION-2', idempotencyKey: 'replaced per request' }] }
  /** Each sale of a batch gets a fresh key, as each single request does: a refusal is the amount's, not the key's reuse. */
  const freshItemKeys = (op: Operation, body: unknown) => {
    const array = PER_ITEM_ARRAYS[op.id]
    if (array === undefined) return body
    return { ...(body as object), [array]: ((body as Record<string, unknown[]>)[array] ?? []).map((item) => ({ ...(item as object), idempotencyKey: idemKey('fuzz') })) }
  }
  const ledgerTables = (f: Record<string, string>) => Object.fromEntries(Object.entries(f).filter(([k]) => k !== 'idempotency_keys'))
  const before = await snapshot()
  let checked = 0
  for (const op of operations.filter((o) => o.body)) {
    const body = valid[op.id] ?? sample(op.body!.schema, known)
    for (const leaf of leavesOf(op.body!.schema).filter((l) => l.schema.type === 'string' && MONEY.test(String(l.schema.pattern ?? '')))) {
      // 2^63 and 2^64 minor units: digits the schema accepts, past PostgreSQL's bigint.
      for (const amount of ['125000.5', '0.1', '-10000', '9223372036854775808', '18446744073709551616']) {
        const candidate = freshItemKeys(op, withLeaf(body, leaf.path, amount))
        const url = urlOf(op, known, op.path.includes('/capture') ? { purchaseId: pending.id } : {})
        const res = await send(ctx, { ...jsonCase(op, leaf.path.join('.'), candidate, url), url })
        checked += 1
        t.equal(refusalProblem(itemView(op, res).res), undefined, `${op.id} ${leaf.path.join('.')} = ${amount} -> ${res.statusCode} ${res.body.slice(0, 160)}`)
      }
    }
  }
  t.ok(checked >= 20, `${checked} fractional, negative or past-2^63 amounts sent`)
  const after = await snapshot()
  t.same(changedTables(ledgerTables(before), ledgerTables(after)), [], 'no ledger, purchase or member row changed (a refusal may be kept under its idempotency key)')
  t.equal((await till.verify()).ok, true, 'the ledger verifies')
})
