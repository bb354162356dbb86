// POST /v1/purchases/batch: a till back online uploads its offline queue.
//
// Expected behaviour: 200 with one result per sale in the order sent, each what POST /v1/purchases
// would answer for it (201 and the purchase, or its own 4xx problem, which does not stop the
// others); sales post in order, so a later one may spend what an earlier one earned; a retried
// batch replays every sale and writes nothing; a sale's key is an Idempotency-Key (shared with
// single calls, the same key twice in a batch is two calls with it); 0 or 501 sales, or a body
// that is not `{ purchases: [...] }`, refuse the whole batch; a 5xx of one sale stops the batch
// there (that sale 503, every later one 503 NOT_ATTEMPTED), and the retried batch finishes it.
import t from 'tap'
import { sql } from 'drizzle-orm'
import { buildCheckedApp } from '../../helpers/contract-hooks.js'
import { queryRows, type Database } from '../../../src/db/client.js'
import { openTestDatabase, startTestApp, testConfig, TestApp } from '../../helpers/app.js'
import { changedTables, fingerprint } from '../../helpers/fingerprint.js'
import { documentOf, satisfies } from '../../helpers/openapi-requests.js'
import { idemKey, receiptNo, Till, VND_RULES, type Line } from '../../helpers/pos.js'

const ctx = await startTestApp(t)
const program = await ctx.createProgram({ rules: VND_RULES })
const till = new Till(ctx, program.token)
const cash = (amount: string) => [{ type: 'cash', amount }]
const one = (unitPrice: string): Line[] => [{ sku: 'A', quantity: 1, unitPrice }]

/** A POST /v1/purchases body and its key, as a till queues it. */
const sale = (memberId: string, lines: Line[], tenders: unknown[], extra: Record<string, unknown> = {}) => ({
  memberId,
  storeId: 'S1',
  terminalId: 'T1',
  externalId: receiptNo(),
  currency: 'VND',
  lines: lines.map((l) => ({ name: l.sku, ...l })),
  tenders,
  idempotencyKey: idemKey('b'),
  ...extra,
})
type Sale = ReturnType<typeof sale>
const upload = (token: string, purchases: unknown, headers: Record<string, string> = {}, app: TestApp = ctx) => app.call(token, 'POST', '/v1/purchases/batch', { purchases }, headers)
/** The same sale sent alone to POST /v1/purchases. */
const single = ({ idempotencyKey, ...body }: Sale, token = program.token) => ctx.call(token, 'POST', '/v1/purchases', body, { 'idempotency-key': idempotencyKey })
const withoutRequest = (b: Record<string, unknown>) => {
  const { requestId: _, ...rest } = b
  return rest
}
async function count(table: string, programId: string): Promise<number> {
  const [row] = await queryRows<{ n: string }>(ctx.database.db, sql`select count(*) as n from ${sql.identifier(table)} where program_id = ${programId}`)
  return Number(row!.n)
}

t.afterEach(async () => {
  const report = await till.verify()
  if (!report.ok) throw new Error(`ledger verify failed: ${JSON.stringify(report.discrepancies)}`)
})

t.test('refused sales in the middle get their own problem; the others post and the balances add up', async (t) => {
  const m = await ctx.enrol(program.token)
  await till.topUp(m.id, '30000')
  const sales = [
    sale(m.id, one('100000'), cash('100000')),
    sale('00000000-0000-7000-8000-000000000000', one('10000'), cash('10000')),
    sale(m.id, one('50000'), [{ type: 'storedValue', amount: '50000' }]),
    sale(m.id, [{ sku: 'A', quantity: 1, unitPrice: '12,50' }], cash('12,50')),
    sale(m.id, one('50000'), [{ type: 'storedValue', amount: '20000' }, { type: 'cash', amount: '30000' }]),
    sale(m.id, [{ sku: 'A', name: 'Bánh\u0000mì', quantity: 1, unitPrice: '10000' }], cash('10000')),
  ]
  const res = await upload(program.token, sales)
  t.equal(res.statusCode, 200, res.body.slice(0, 300))
  const { results } = res.json()
  t.same(results.map((r: { index: number }) => r.index), [0, 1, 2, 3, 4, 5], 'one result per sale, in the order sent')
  t.same(results.map((r: { idempotencyKey: string }) => r.idempotencyKey), sales.map((s) => s.idempotencyKey))
  t.same(results.map((r: { status: number }) => r.status), [201, 404, 422, 400, 201, 400])
  t.same(results.map((r: { body: { code?: string } }) => r.body.code), [undefined, 'MEMBER_NOT_FOUND', 'INSUFFICIENT_FUNDS', 'VALIDATION_FAILED', undefined, 'VALIDATION_FAILED'])
  t.ok(results.every((r: { replayed: boolean }) => r.replayed === false))
  const documented = (await documentOf(ctx.app)).paths['/v1/purchases/batch'].post.responses['200'].content['application/json'].schema
  t.ok(satisfies(documented, res.json()), 'the answer is what the OpenAPI document describes')
  t.notOk(satisfies(documented, { results: [{ ...results[0], body: { id: results[0].body.id } }] }), 'which is no empty check')
  for (const r of results.filter((x: { status: number }) => x.status >= 400)) {
    t.match(r.body, { type: `/problems/${r.body.code.toLowerCase().replace(/_/g, '-')}`, status: r.status, title: String, detail: String, requestId: res.headers['x-request-id'] }, `sale ${r.index}: a problem document of this request`)
  }
  t.same(results[3].body.errors, [{ path: 'body/lines/0/unitPrice', message: 'a non-negative decimal string in major units, e.g. "125000" or "12.34"' }, { path: 'body/tenders/0/amount', message: 'a non-negative decimal string in major units, e.g. "125000" or "12.34"' }], 'error paths relative to the sale')
  t.same(results[5].body.errors.map((e: { path: string }) => e.path), ['body/lines/0/name'], 'refused text in one sale refuses that sale only')
  t.match(results[0].body, { memberId: m.id, total: '100000', pointsEarned: 10, balances: { points: { balance: 10 } } })
  t.match(results[4].body, { storedValueUsed: '20000', pointsEarned: 5, balances: { points: { balance: 15 }, storedValue: { balance: '10000' } } })

  // Each answer is POST /v1/purchases's: the refusals as it refuses (a fresh key: these were stored), the malformed sale as it is refused.
  for (const i of [1, 2, 3, 5]) {
    const alone = await single({ ...sales[i]!, externalId: receiptNo(), idempotencyKey: idemKey('alone') })
    t.equal(alone.statusCode, results[i].status, `sale ${i} alone: ${alone.statusCode}`)
    t.same(withoutRequest(alone.json()), withoutRequest(results[i].body), `sale ${i}: the problem POST /v1/purchases gives`)
  }
  const balances = await till.balances(m.id)
  t.same(balances.points, { balance: 15, available: 15, pending: 0 }, 'earned by the two posted sales')
  t.equal(balances.storedValue.balance, '10000', 'paid by the one posted sale that used it')
  const listed = (await ctx.call(program.token, 'GET', `/v1/purchases?memberId=${m.id}`)).json().data
  t.same(listed.map((p: { id: string }) => p.id).sort(), [results[0].body.id, results[4].body.id].sort(), 'two purchases posted')
})

t.test('a retried batch replays every sale: same answers, nothing written', async (t) => {
  const m = await ctx.enrol(program.token)
  await till.topUp(m.id, '10000')
  const payload = JSON.stringify({ purchases: [sale(m.id, one('40000'), cash('40000')), sale(m.id, one('20000'), [{ type: 'storedValue', amount: '20000' }]), sale(m.id, one('30000'), [{ type: 'storedValue', amount: '10000' }, { type: 'cash', amount: '20000' }])] })
  const send = () => ctx.inject({ method: 'POST', url: '/v1/purchases/batch', headers: { authorization: `Bearer ${program.token}`, 'content-type': 'application/json' }, payload })
  const first = await send()
  t.same(first.json().results.map((r: { status: number }) => r.status), [201, 422, 201], 'posted, refused (10,000 of stored value for 20,000), posted')
  const before = await fingerprint(ctx.database, { programIds: [program.id] })
  const counts = { purchases: await count('purchases', program.id), journal: await count('journal_entries', program.id) }
  const again = await send()
  t.equal(again.statusCode, 200)
  const [was, now] = [first.json().results, again.json().results]
  t.same(now.map((r: { replayed: boolean }) => r.replayed), [true, true, true], 'every sale replayed')
  t.same(now.map((r: { status: number }) => r.status), was.map((r: { status: number }) => r.status))
  t.same(now[0].body, was[0].body, 'the purchase as answered then, balances of then included')
  t.same(now[2].body, was[2].body)
  t.same(withoutRequest(now[1].body), withoutRequest(was[1].body), 'the refusal as answered then')
  t.equal(now[1].body.requestId, again.headers['x-request-id'], 'a replayed problem names the request it answers')
  t.same(changedTables(before, await fingerprint(ctx.database, { programIds: [program.id] })), [], 'no row of the program changed')
  t.same({ purchases: await count('purchases', program.id), journal: await count('journal_entries', program.id) }, counts, 'purchases and journal entries as before')
  t.same((await till.balances(m.id)).points.balance, 7, 'earned once: 4 + 3')
})

t.test('a sale key is an Idempotency-Key: shared with single calls; the same key twice in a batch is two calls with it', async (t) => {
  const m = await ctx.enrol(program.token)
  const posted = sale(m.id, one('50000'), cash('50000'))
  const alone = await single(posted)
  t.equal(alone.statusCode, 201)
  const first = sale(m.id, one('70000'), cash('70000'))
  const res = await upload(program.token, [posted, first, first, { ...first, lines: [{ sku: 'B', name: 'B', quantity: 1, unitPrice: '70000' }] }])
  const results = res.json().results
  t.same(results.map((r: { status: number; replayed: boolean }) => [r.status, r.replayed]), [[201, true], [201, false], [201, true], [422, false]])
  t.same(results[0].body, alone.json(), 'a sale already posted alone under its key is replayed, not posted again')
  t.same(results[2].body, results[1].body, 'the second sale with the key and the same body replays the first')
  t.equal(results[3].body.code, 'IDEMPOTENCY_KEY_REUSED', 'the same key with another body')
  const listed = (await ctx.call(program.token, 'GET', `/v1/purchases?memberId=${m.id}`)).json().data
  t.equal(listed.length, 2, 'two purchases: one alone, one in the batch')
  t.equal((await till.balances(m.id)).points.balance, 12, 'earned once each: 5 + 7')
})

t.test('a later sale spends what an earlier one earned: sales post in the order sent', async (t) => {
  const m = await ctx.enrol(program.token)
  const earn = sale(m.id, one('1000000'), cash('1000000'))
  const spend = sale(m.id, one('10000'), [{ type: 'points', points: 50 }, { type: 'cash', amount: '5000' }])
  const res = await upload(program.token, [earn, spend])
  t.same(res.json().results.map((r: { status: number }) => r.status), [201, 201], res.body.slice(0, 300))
  t.match(res.json().results[1].body, { pointsRedeemed: 50, pointsEarned: 0, balances: { points: { balance: 50 } } }, '100 earned by sale 0, 50 spent by sale 1')

  const n = await ctx.enrol(program.token)
  const reversed = await upload(program.token, [sale(n.id, one('10000'), [{ type: 'points', points: 50 }, { type: 'cash', amount: '5000' }]), sale(n.id, one('1000000'), cash('1000000'))])
  t.same(reversed.json().results.map((r: { status: number; body: { code?: string } }) => [r.status, r.body.code]), [[422, 'INSUFFICIENT_FUNDS'], [201, undefined]], 'the other way round the spend comes first and is refused')
  t.equal((await till.balances(n.id)).points.balance, 100)
})

t.test('tenant isolation: another program’s member in a sale is that sale’s 404, and nothing of theirs changes', async (t) => {
  const other = await ctx.createProgram({ rules: VND_RULES })
  const theirs = await ctx.enrol(other.token)
  await new Till(ctx, other.token).topUp(theirs.id, '100000')
  const before = await fingerprint(ctx.database, { programIds: [other.id] })
  const mine = await ctx.enrol(program.token)
  const res = await upload(program.token, [sale(theirs.id, one('10000'), [{ type: 'storedValue', amount: '10000' }]), sale(mine.id, one('10000'), cash('10000'))])
  const results = res.json().results
  t.same(results.map((r: { status: number }) => r.status), [404, 201])
  t.equal(results[0].body.code, 'MEMBER_NOT_FOUND')
  t.notOk(res.body.includes(theirs.id) || res.body.includes(theirs.phone), 'nothing of the other program in the answer')
  t.same(changedTables(before, await fingerprint(ctx.database, { programIds: [other.id] })), [], 'no row of the other program changed')
  t.equal((await new Till(ctx, other.token).balances(theirs.id)).storedValue.balance, '100000')
})

t.test('0 or 501 sales, or a body that is not { purchases: [...] }, refuse the whole batch; 500 sales over 1 MiB fit', async (t) => {
  const m = await ctx.enrol(program.token)
  const purchasesBefore = await count('purchases', program.id)
  const many = Array.from({ length: 501 }, () => sale(m.id, one('10000'), cash('10000')))
  const cases: [string, unknown][] = [
    ['no sales', { purchases: [] }],
    ['501 sales', { purchases: many }],
    ['an array', many.slice(0, 2)],
    ['another field', { purchases: many.slice(0, 2), note: 'x' }],
    ['no purchases', { sales: many.slice(0, 2) }],
    ['purchases not an array', { purchases: many[0] }],
  ]
  for (const [label, body] of cases) {
    const res = await ctx.call(program.token, 'POST', '/v1/purchases/batch', body)
    t.equal(res.statusCode, 400, `${label}: ${res.body.slice(0, 200)}`)
    t.equal(res.json().code, 'VALIDATION_FAILED', label)
    t.equal(res.headers['content-type'], 'application/problem+json', label)
  }
  t.same((await ctx.call(program.token, 'POST', '/v1/purchases/batch', { purchases: many })).json().errors, [{ path: 'body/purchases', message: 'Too big: expected array to have <=500 items' }])
  t.equal(await count('purchases', program.id), purchasesBefore, 'nothing posted')

  // 500 sales of 10 lines with long names: about 1.5 MB, past the 1 MiB of other requests. Without
  // keys they are refused one by one with no database work, which is all this needs to show.
  const long = Array.from({ length: 10 }, (_, i) => ({ sku: `SKU-${i}`, name: `${'Phở bò tái nạm gầu gân sách '.repeat(5)}${i}`, quantity: 1, unitPrice: '10000' }))
  const big = Array.from({ length: 500 }, () => {
    const { idempotencyKey: _, ...body } = sale(m.id, long, cash('100000'))
    return body
  })
  const payload = JSON.stringify({ purchases: big })
  t.ok(payload.length > 1024 * 1024, `${payload.length} bytes`)
  const res = await ctx.inject({ method: 'POST', url: '/v1/purchases/batch', headers: { authorization: `Bearer ${program.token}`, 'content-type': 'application/json' }, payload })
  t.equal(res.statusCode, 200)
  t.equal(res.json().results.length, 500)
  t.ok(res.json().results.every((r: { status: number; body: { errors: { path: string }[] } }) => r.status === 400 && r.body.errors[0]!.path === 'body/idempotencyKey'), 'each sale refused for its missing key')
  const huge = await ctx.inject({ method: 'POST', url: '/v1/purchases/batch', headers: { authorization: `Bearer ${program.token}`, 'content-type': 'application/json' }, payload: `{"purchases":[${'"x",'.repeat(2_300_000)}"x"]}` })
  t.equal(huge.statusCode, 413, 'past 8 MiB')
  t.equal(huge.json().code, 'PAYLOAD_TOO_LARGE')
})

t.test('an Idempotency-Key on the batch itself is ignored; only the pos scope may upload', async (t) => {
  const m = await ctx.enrol(program.token)
  const s = sale(m.id, one('10000'), cash('10000'))
  const res = await upload(program.token, [s], { 'idempotency-key': idemKey('batch') })
  t.same(res.json().results.map((r: { status: number }) => r.status), [201])
  const again = await upload(program.token, [{ ...s, externalId: receiptNo(), idempotencyKey: idemKey('b') }], { 'idempotency-key': 'the same batch key' })
  const third = await upload(program.token, [{ ...s, externalId: receiptNo(), idempotencyKey: idemKey('b') }], { 'idempotency-key': 'the same batch key' })
  t.same([again.json().results[0].status, third.json().results[0].status], [201, 201], 'the batch key neither replays nor refuses')
  const reader = await ctx.createClient(program.id, ['members:read', 'finance:read'])
  const refused = await upload(reader.token, [sale(m.id, one('10000'), cash('10000'))])
  t.equal(refused.statusCode, 403)
})

t.test('a sale failing for the service’s sake stops the batch: that sale 503, the rest NOT_ATTEMPTED; the retry finishes it', async (t) => {
  // The database goes away for one write: the third sale's, as a lost connection fails it.
  const database = await openTestDatabase()
  let failAt = -1
  let calls = 0
  const flaky: Database = {
    ...database,
    transaction: (fn) => (++calls === failAt ? Promise.reject(Object.assign(new Error('connection lost'), { code: 'CONNECTION_CLOSED' })) : database.transaction(fn)),
    // A plain sale is one plan through the executor: the same loss there.
    apply: (plan) => (++calls === failAt ? Promise.reject(Object.assign(new Error('connection lost'), { code: 'CONNECTION_CLOSED' })) : database.apply(plan)),
  }
  const app = await buildCheckedApp(t, testConfig(), { database: flaky })
  await app.ready()
  t.teardown(async () => {
    await app.close()
    await database.close()
  })
  const local = new TestApp(app, flaky)
  const p = await local.createProgram({ rules: VND_RULES })
  const m = await local.enrol(p.token)
  const sales = Array.from({ length: 5 }, (_, i) => sale(m.id, one(`${i + 1}0000`), cash(`${i + 1}0000`)))
  calls = 0
  failAt = 3
  const res = await upload(p.token, sales, {}, local)
  t.equal(res.statusCode, 200, 'the batch is answered, not a 5xx')
  t.equal(res.headers['retry-after'], '1')
  const results = res.json().results
  t.same(results.map((r: { status: number; body: { code?: string } }) => [r.status, r.body.code]), [[201, undefined], [201, undefined], [503, 'SERVICE_UNAVAILABLE'], [503, 'NOT_ATTEMPTED'], [503, 'NOT_ATTEMPTED']])
  t.equal(calls, 3, 'no sale after the failed one was attempted')
  t.same(results.map((r: { idempotencyKey: string }) => r.idempotencyKey), sales.map((s) => s.idempotencyKey), 'each result names its sale')
  t.match(results[3].body, { type: '/problems/not-attempted', title: 'Not attempted', status: 503, detail: /Sale 2 /, requestId: res.headers['x-request-id'] })
  const listed = async () => (await local.call(p.token, 'GET', `/v1/purchases?memberId=${m.id}`)).json().data.length
  t.equal(await listed(), 2, 'the sales before the failure are posted')

  const retry = await upload(p.token, sales, {}, local)
  t.same(retry.json().results.map((r: { status: number; replayed: boolean }) => [r.status, r.replayed]), [[201, true], [201, true], [201, false], [201, false], [201, false]], 'the retry replays the posted sales and posts the rest')
  t.same(retry.json().results[1].body, results[1].body)
  t.equal(await listed(), 5)
  t.equal((await local.call(p.token, 'GET', `/v1/members/${m.id}/balances`)).json().points.balance, 15, '1 + 2 + 3 + 4 + 5 points, each once')
})
