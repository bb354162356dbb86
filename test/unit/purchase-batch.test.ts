import t from 'tap'
import { postBatch, readBatchSale, type PostSale } from '../../src/modules/purchases/batch.js'
import { purchaseCreateSchema, type PurchaseCreate } from '../../src/modules/purchases/schemas.js'
import type { StoredResponse } from '../../src/modules/idempotency/service.js'
import { AppError } from '../../src/shared/errors.js'

const body = (externalId: string) => ({
  memberId: '0190a000-0000-7000-8000-000000000001',
  storeId: ' S1 ',
  terminalId: 'T1',
  externalId,
  currency: 'VND',
  lines: [{ sku: 'A', name: 'A', quantity: 1, unitPrice: '10000' }],
  tenders: [{ type: 'cash', amount: '10000' }],
})
const item = (externalId: string, key = `key-${externalId}`) => ({ ...body(externalId), idempotencyKey: key })
const REQUEST = 'req-1'
const posted = (sale: PurchaseCreate): StoredResponse => ({ status: 201, body: { id: sale.externalId }, replayed: false })

/** A post that answers from `answer` and records the sales it was asked to post. */
function fakePost(answer: (sale: PurchaseCreate, key: string) => StoredResponse | Promise<StoredResponse> = posted) {
  const calls: [string, string][] = []
  const post: PostSale = async (key, sale) => {
    calls.push([key, sale.externalId])
    return answer(sale, key)
  }
  return { post, calls }
}

t.test('readBatchSale: a sale is read as POST /v1/purchases reads its body, its key beside it', async (t) => {
  const read = readBatchSale(item('R1'))
  t.same(read, { key: 'key-R1', sale: purchaseCreateSchema.parse(body('R1')) }, 'the parsed body (trimmed, capture defaulted), without the key')

  const cases: [string, unknown, string | null, string[]][] = [
    ['no key', body('R2'), null, ['body/idempotencyKey']],
    ['a key with a space', item('R3', 'a b'), null, ['body/idempotencyKey']],
    ['a key of 256 characters', item('R4', 'k'.repeat(256)), null, ['body/idempotencyKey']],
    ['a malformed price, key given', { ...item('R5'), lines: [{ sku: 'A', name: 'A', quantity: 1, unitPrice: '1e5' }] }, 'key-R5', ['body/lines/0/unitPrice']],
    ['two ways to name the member', { ...item('R6'), phone: '0987000111' }, 'key-R6', ['body/memberId']],
    ['an unknown field', { ...item('R7'), note: 'x' }, 'key-R7', ['body']],
    ['not an object', 'R8', null, ['body']],
    ['null', null, null, ['body']],
    ['refused text comes first, as the hook before validation', { ...item('R9'), lines: [{ sku: 'A\u0000', name: 'A', quantity: 0, unitPrice: 'x' }] }, 'key-R9', ['body/lines/0/sku']],
    ['a refused character in a property name', { ...item('R10'), 'x\u0001': 1 }, 'key-R10', ['body/x\\u0001']],
  ]
  for (const [label, raw, key, paths] of cases) {
    const r = readBatchSale(raw)
    if (!('refusal' in r)) {
      t.fail(`${label}: read as a sale`)
      continue
    }
    t.equal(r.key, key, `${label}: key`)
    t.match(r.refusal, { status: 400, code: 'VALIDATION_FAILED' }, label)
    t.same((r.refusal.extensions.errors as { path: string }[]).map((e) => e.path), paths, `${label}: paths relative to the sale`)
  }
})

t.test('postBatch posts the sales in order, one result each; a refusal does not stop the others', async (t) => {
  const { post, calls } = fakePost((sale) => {
    if (sale.externalId === 'B') throw new AppError(422, 'INSUFFICIENT_FUNDS', 'Insufficient funds', 'short', { available: '0' })
    if (sale.externalId === 'C') return { status: 404, body: { type: '', title: 'Member not found', status: 404, detail: 'none', code: 'MEMBER_NOT_FOUND' }, replayed: true }
    return posted(sale)
  })
  const { results, stopped } = await postBatch([item('A'), item('B'), item('C'), { ...item('D'), currency: 'vnd' }, item('E')], post, REQUEST)
  t.same(calls, [['key-A', 'A'], ['key-B', 'B'], ['key-C', 'C'], ['key-E', 'E']], 'in order; the malformed sale never reaches the database')
  t.equal(stopped, undefined)
  t.same(results.map((r) => [r.index, r.idempotencyKey, r.status, r.replayed]), [
    [0, 'key-A', 201, false],
    [1, 'key-B', 422, false],
    [2, 'key-C', 404, true],
    [3, 'key-D', 400, false],
    [4, 'key-E', 201, false],
  ])
  t.same(results[0]!.body, { id: 'A' })
  t.same(results[1]!.body, { available: '0', type: '/problems/insufficient-funds', title: 'Insufficient funds', status: 422, detail: 'short', code: 'INSUFFICIENT_FUNDS', requestId: REQUEST }, 'a fresh refusal: the problem the error handler sends')
  t.same(results[2]!.body, { type: '/problems/member-not-found', title: 'Member not found', status: 404, detail: 'none', code: 'MEMBER_NOT_FOUND', requestId: REQUEST }, 'a stored refusal: its type and this request')
  t.match(results[3]!.body, { code: 'VALIDATION_FAILED', errors: [{ path: 'body/currency' }], requestId: REQUEST })
})

t.test('postBatch stops at a sale that fails for the service: the rest are NOT_ATTEMPTED, never posted', async (t) => {
  const failures: [string, unknown, number, string][] = [
    ['the database lost', Object.assign(new Error('terminating connection'), { code: '57P01' }), 503, 'SERVICE_UNAVAILABLE'],
    ['a lost connection', Object.assign(new Error('closed'), { code: 'CONNECTION_CLOSED' }), 503, 'SERVICE_UNAVAILABLE'],
    ['the transaction deadline', Object.assign(new Error('late'), { code: 'TRANSACTION_TIMEOUT' }), 503, 'SERVICE_UNAVAILABLE'],
    ['a deadlock', Object.assign(new Error('deadlock'), { code: '40P01' }), 503, 'RETRY_LATER'],
    ['a bug', new TypeError('x is undefined'), 500, 'INTERNAL_ERROR'],
    ['a thrown string', 'boom', 500, 'INTERNAL_ERROR'],
  ]
  for (const [label, error, status, code] of failures) {
    const { post, calls } = fakePost((sale) => {
      if (sale.externalId === 'B') throw error
      return posted(sale)
    })
    const { results, stopped } = await postBatch([item('A'), item('B'), item('C'), 'not a sale', body('E')], post, REQUEST)
    t.same(calls.map(([, id]) => id), ['A', 'B'], `${label}: nothing after the failed sale is posted`)
    t.same(results.map((r) => [r.index, r.status, (r.body as { code?: string }).code]), [
      [0, 201, undefined],
      [1, status, code],
      [2, 503, 'NOT_ATTEMPTED'],
      [3, 400, 'VALIDATION_FAILED'],
      [4, 400, 'VALIDATION_FAILED'],
    ], `${label}: a malformed sale is refused whatever else happens (it never reaches the database)`)
    t.same(results.map((r) => r.idempotencyKey), ['key-A', 'key-B', 'key-C', null, null], `${label}: each result names its sale's key`)
    t.same(stopped, { index: 1, error }, `${label}: the failure, for the log`)
    t.match(results[2]!.body, { type: '/problems/not-attempted', status: 503, detail: /^Sale 1 of the batch failed/, requestId: REQUEST })
  }
})

t.test('lanes: sales sharing a member, a receipt number, a coupon or a key go one after the other; the others at once', async (t) => {
  const { laneKeys, lanesOf } = await import('../../src/modules/purchases/batch-lanes.js')
  const sale = (memberId: string, externalId: string, extra: Record<string, unknown> = {}) => ({ ...body(externalId), memberId, ...extra }) as never
  const items = [
    [sale('m1', 'R1'), 'k1'],
    [sale('m2', 'R2'), 'k2'],
    [sale('m1', 'R3'), 'k3'],
    [sale('m3', 'R2'), 'k4'], // the receipt number of sale 1: after it
    [sale('m4', 'R5', { couponCodes: ['TET'] }), 'k5'],
    [sale('m5', 'R6', { couponCodes: ['tet'] }), 'k6'], // the same coupon code, case apart
    [sale('m6', 'R7'), 'k1'], // the key of sale 0
    [sale('m7', 'R8'), 'k8'],
  ] as const
  const lanes = lanesOf(items.map(([s, k], index) => ({ index, keys: laneKeys(s, k) })))
  t.same(lanes, [[0, 2, 6], [1, 3], [4, 5], [7]])
})

t.test('postBatch posts lanes at the same time, each in upload order', async (t) => {
  const started: string[] = []
  const finish = new Map<string, () => void>()
  const post = (_key: string, sale: { externalId: string }) =>
    new Promise<{ status: number; body: unknown; replayed: boolean }>((resolve) => {
      started.push(sale.externalId)
      finish.set(sale.externalId, () => resolve({ status: 201, body: { id: sale.externalId }, replayed: false }))
    })
  const sales = [{ ...item('A'), memberId: '00000000-0000-4000-8000-00000000000a' }, { ...item('B'), memberId: '00000000-0000-4000-8000-00000000000b' }, { ...item('C'), memberId: '00000000-0000-4000-8000-00000000000a' }]
  const outcome = postBatch(sales, post as never, REQUEST)
  await new Promise((r) => setImmediate(r))
  t.same(started, ['A', 'B'], 'two members: both lanes start; C waits for A')
  finish.get('A')!()
  await new Promise((r) => setImmediate(r))
  t.same(started, ['A', 'B', 'C'])
  finish.get('B')!()
  finish.get('C')!()
  t.same((await outcome).results.map((r) => r.index), [0, 1, 2], 'results in upload order')
})
