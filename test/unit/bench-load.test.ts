import t from 'tap'
import { batchPresent, driveBatches } from '../bench/load.js'
import type { Call, Program, Service } from '../bench/service.js'

const program: Program = { programId: 'p', token: 'tk', members: ['m1', 'm2'] }

/** A service whose every request is answered by `answer`; it records the requests. */
function fakeService(answer: (path: string, body: any) => { status: number; body: any }) {
  const sent: { path: string; body: any; headers: Record<string, string> | undefined }[] = []
  const call: Call = async (_method, path, _token, body, headers) => {
    sent.push({ path, body, headers })
    await new Promise((resolve) => setTimeout(resolve, 5))
    return answer(path, body)
  }
  return { service: { call } as unknown as Service, sent }
}

t.test('a 404 without results means the service has no batch endpoint', async (t) => {
  const { service } = fakeService(() => ({ status: 404, body: { code: 'NOT_FOUND', detail: 'No route POST /v1/purchases/batch' } }))
  t.equal(await batchPresent(service, program, 500), false)
})

t.test('a batch answered with results is the endpoint, whatever its 2xx', async (t) => {
  const { service, sent } = fakeService((_path, body) => ({ status: 207, body: { results: body.purchases.map(() => ({ status: 201, body: {} })) } }))
  t.equal(await batchPresent(service, program, 3), true)
  t.equal(sent[0]!.path, '/v1/purchases/batch')
  t.equal(sent[0]!.body.purchases.length, 3)
  for (const p of sent[0]!.body.purchases) {
    t.match(p, { memberId: /^m[12]$/, currency: 'VND', idempotencyKey: /^[0-9a-f-]{36}$/ }, 'a purchase body with its own idempotency key')
    t.equal(p.lines.length, 3)
  }
  t.not(sent[0]!.body.purchases[0].idempotencyKey, sent[0]!.body.purchases[1].idempotencyKey)
})

t.test('batches count a sale per 201 result; any other result, or a failed batch, counts as errors', async (t) => {
  let n = 0
  const { service, sent } = fakeService((_path, body) => {
    n += 1
    if (n % 3 === 0) return { status: 503, body: { code: 'SERVICE_UNAVAILABLE' } }
    return { status: 200, body: { results: body.purchases.map((_: unknown, i: number) => ({ status: i === 0 ? 409 : 201, body: {} })) } }
  })
  const run = await driveBatches(service, program, 2, 0.1, 4)
  const batches = sent.length
  t.ok(batches >= 3, `${batches} batches sent in 0.1 s by 2 connections`)
  const failed = Math.floor(batches / 3)
  t.equal(run.purchases, (batches - failed) * 3)
  t.equal(run.errors, (batches - failed) * 1 + failed * 4)
  t.equal(run.latencies.length, batches, 'one latency per batch')
  t.same(run.statuses, { 200: batches - failed, 503: failed })
})
