// The load of the purchase benchmark: a realistic sale (3 lines; 30% partly paid with stored value,
// 10% partly with points; 5% followed by a partial return), driven over HTTP for a fixed time by a
// number of connections, one request in flight each; and the same sales uploaded in batches.
import { randomUUID } from 'node:crypto'
import type { Program, Reply, Service } from './service.js'

let receipt = 0
export function purchaseBody(memberId: string) {
  const lines = [0, 1, 2].map((i) => ({ sku: `SKU${i}`, name: `Item ${i}`, quantity: 1 + (receipt % 3), unitPrice: String(10_000 + ((receipt * 7 + i * 13) % 190) * 1_000), category: i === 2 ? 'food' : 'general' }))
  const total = lines.reduce((s, l) => s + Number(l.unitPrice) * l.quantity, 0)
  const r = Math.random()
  const tenders: unknown[] = []
  let rest = total
  if (r < 0.3) {
    tenders.push({ type: 'storedValue', amount: '20000' })
    rest -= 20_000
  } else if (r < 0.4) {
    tenders.push({ type: 'points', points: 100 })
    rest -= 10_000
  }
  tenders.push({ type: Math.random() < 0.5 ? 'cash' : 'card', amount: String(rest) })
  return { memberId, storeId: `S${receipt % 5}`, terminalId: 'T1', externalId: `B-${process.pid}-${++receipt}`, currency: 'VND', lines, tenders }
}

export interface Run {
  /** Sales acknowledged with 201. */
  purchases: number
  returns: number
  errors: number
  statuses: Record<number, number>
  /** Milliseconds per request (a purchase, or a whole batch). */
  latencies: number[]
  /** From the first request sent to the last answered: longer than asked when the last requests
   * outlive the deadline (a 500-sale batch can take seconds), so rates stay true. */
  seconds: number
}

const emptyRun = (seconds: number): Run => ({ purchases: 0, returns: 0, errors: 0, statuses: {}, latencies: [], seconds })

/** `connections` loops, each sending its next request when the last is answered, until `seconds` have passed. */
async function loop(connections: number, seconds: number, request: (run: Run) => Promise<void>): Promise<Run> {
  const run = emptyRun(seconds)
  const start = performance.now()
  const deadline = start + seconds * 1000
  await Promise.all(
    Array.from({ length: connections }, async () => {
      while (performance.now() < deadline) await request(run)
    }),
  )
  run.seconds = (performance.now() - start) / 1000
  return run
}

/** Sends one request and records its latency and status; a connection failure is status 0. */
async function timed(run: Run, send: () => Promise<Reply>): Promise<Reply> {
  const t0 = performance.now()
  const res = await send().catch(() => ({ status: 0, body: null }))
  run.latencies.push(performance.now() - t0)
  run.statuses[res.status] = (run.statuses[res.status] ?? 0) + 1
  return res
}

const pick = (members: readonly string[]) => members[Math.floor(Math.random() * members.length)]!

/** POST /v1/purchases for random members; 5% of the sales get a partial return (not timed). */
export function drivePurchases({ call }: Service, program: Program, connections: number, seconds: number, members = program.members): Promise<Run> {
  return loop(connections, seconds, async (run) => {
    const res = await timed(run, () => call('POST', '/v1/purchases', program.token, purchaseBody(pick(members)), { 'idempotency-key': randomUUID() }))
    if (res.status !== 201) {
      run.errors += 1
      return
    }
    run.purchases += 1
    if (Math.random() < 0.05) {
      const ret = await call('POST', `/v1/purchases/${res.body.id}/returns`, program.token, { lines: [{ sku: 'SKU0', quantity: 1 }] }, { 'idempotency-key': randomUUID() })
      if (ret.status === 201) run.returns += 1
      else run.errors += 1
    }
  })
}

/*
 * POST /v1/purchases/batch (src/modules/purchases/batch.ts): the body is
 * `{ "purchases": [{ ...a POST /v1/purchases body, "idempotencyKey": "..." }] }`, the answer (200;
 * any 2xx is taken) `{ "results": [{ "status": 201, "body": {...} }] }`, one result per sale in the
 * order sent; a sale counts when its result is 201. A 404 without `results` means no endpoint (a
 * service older than it). The batch's own Idempotency-Key is ignored by the service.
 */
const batchBody = (members: readonly string[], size: number) => ({
  purchases: Array.from({ length: size }, () => ({ ...purchaseBody(pick(members)), idempotencyKey: randomUUID() })),
})

/** Sends one batch of `size` sales (the warm-up); false when the service has no batch endpoint. */
export async function batchPresent({ call }: Service, program: Program, size: number): Promise<boolean> {
  const res = await call('POST', '/v1/purchases/batch', program.token, batchBody(program.members, size), { 'idempotency-key': randomUUID() })
  return !(res.status === 404 && !Array.isArray(res.body?.results))
}

/** Batches of `size` sales from `connections` uploads at a time; latency is per batch. */
export function driveBatches({ call }: Service, program: Program, connections: number, seconds: number, size: number): Promise<Run> {
  return loop(connections, seconds, async (run) => {
    const res = await timed(run, () => call('POST', '/v1/purchases/batch', program.token, batchBody(program.members, size), { 'idempotency-key': randomUUID() }))
    const results: { status: number }[] = res.status >= 200 && res.status < 300 && Array.isArray(res.body?.results) ? res.body.results : []
    const written = results.filter((r) => r.status === 201).length
    run.purchases += written
    run.errors += results.length === 0 ? size : results.length - written
  })
}
