import t, { type Test } from 'tap'
import { createConnection, createServer, type Server, type Socket } from 'node:net'
import { setTimeout as sleep } from 'node:timers/promises'
import postgres from 'postgres'
import { buildCheckedApp } from '../helpers/contract-hooks.js'
import { openDatabase } from '../../src/db/client.js'
import { onRealPostgres, testConfig, testDatabaseUrl, TestApp } from '../helpers/app.js'
import { idemKey, Till, VND_RULES } from '../helpers/pos.js'

// The database goes away under load: every request in flight or arriving then gets a clean 503
// problem (never a 500, never a hang, never a crashed process) and the service recovers by itself.
// PostgreSQL is shared with other test runs here, so the outage is simulated by terminating this
// app's own backends (its own application_name), or by a TCP proxy between the app and PostgreSQL
// that drops every connection and refuses new ones for a moment, as a restarting server does;
// `npm run chaos` with CHAOS_RESTART_POSTGRES=1 restarts the server for real.
const REAL_PG = onRealPostgres ? false : 'needs real PostgreSQL (TEST_DATABASE_URL): PGlite runs in process and cannot lose its connection'
const HUNG_MS = 20_000
/** The answer, or undefined after HUNG_MS; the timer is unreferenced, so a run does not wait for every request's timer. */
const unlessHung = <T>(answer: Promise<T>) => Promise.race([answer, sleep(HUNG_MS, undefined, { ref: false }).then(() => undefined)])

/**
 * A TCP proxy to the test database. `restart` drops every connection through it and refuses new
 * ones for `downMs`, then listens again on the same port; it answers how many connections it cut.
 * With `restartOn`, the first statement whose text holds `marker` restarts it at once (its answer
 * never comes back); `fired` counts that.
 */
async function restartingProxy(t: Test, restartOn?: { marker: string; downMs: number }) {
  const target = new URL(testDatabaseUrl!)
  const sockets = new Set<Socket>()
  const listen = (server: Server, port = 0) => new Promise<number>((resolve) => server.listen(port, '127.0.0.1', () => resolve((server.address() as { port: number }).port)))
  const serve = () =>
    createServer((client) => {
      const upstream = createConnection(Number(target.port || 5432), target.hostname)
      for (const [a, b] of [[client, upstream], [upstream, client]] as const) {
        sockets.add(a)
        a.pipe(b)
        a.on('error', () => b.destroy())
        a.on('close', () => (sockets.delete(a), b.destroy()))
      }
      if (restartOn) {
        client.on('data', (chunk: Buffer) => {
          if (proxy.fired > 0 || !chunk.includes(restartOn.marker)) return
          proxy.fired += 1
          void proxy.restart(restartOn.downMs)
        })
      }
    })
  let server = serve()
  const port = await listen(server)
  t.teardown(() => server.close())
  const url = new URL(testDatabaseUrl!)
  url.hostname = '127.0.0.1'
  url.port = String(port)
  const proxy = {
    url: url.toString(),
    fired: 0,
    async restart(downMs: number) {
      server.close()
      const cut = sockets.size / 2
      for (const s of sockets) s.destroy()
      await sleep(downMs)
      server = serve()
      await listen(server, port)
      return cut
    },
  }
  return proxy
}

/** An app of its own on the test database (or `through` a proxy), its backends named so that they can be terminated. */
async function outageApp(t: Test, name: string, poolSize: number, through = testDatabaseUrl!) {
  const appName = `loyalty-ledger-${name}-${process.pid}`
  const url = `${through}${through.includes('?') ? '&' : '?'}application_name=${appName}`
  // A short transaction deadline, so that a transaction stuck by a lost connection answers 503 well within HUNG_MS.
  const options = { url, dataDir: 'memory://', poolSize, transactionTimeoutMs: 3000 }
  const database = await openDatabase(options)
  const app = await buildCheckedApp(t, testConfig({ database: { ...options, migrateOnStart: false } }), { database })
  await app.ready()
  const admin = postgres(testDatabaseUrl!, { max: 1, onnotice: () => {} })
  t.teardown(async () => {
    await app.close()
    await database.close()
    await admin.end({ timeout: 5 })
  })
  const terminate = async () =>
    Number((await admin<{ n: string }[]>`select count(*) as n from (select pg_terminate_backend(pid) from pg_stat_activity where application_name = ${appName} and datname = current_database()) x`)[0]!.n)
  return { ctx: new TestApp(app, database), admin, terminate }
}

/** Purchases from `workers` tills while the database goes away `rounds` times: its backends are terminated, or the server "restarts". */
async function outage(t: Test, workers: number, rounds: number, how: 'terminate' | 'restart' = 'terminate') {
  const proxy = how === 'restart' ? await restartingProxy(t) : undefined
  const { ctx, admin, terminate } = await outageApp(t, 'outage', 6, proxy?.url)
  const disrupt = proxy ? () => proxy.restart(400) : terminate
  const program = await ctx.createProgram({ rules: VND_RULES })
  const till = new Till(ctx, program.token)
  const members = [await ctx.enrol(program.token), await ctx.enrol(program.token), await ctx.enrol(program.token)]

  // Load: 6 tills; a 503 is retried with the same key until it is answered.
  const answers = new Map<number, number>()
  const causes = new Map<string, number>()
  const problems: string[] = []
  const requests: { key: string; externalId: string; id?: string }[] = []
  const pendingWorkers = new Set<number>()
  let running = true
  let disrupted = 0
  const worker = async (w: number) => {
    while (running) {
      const req: { key: string; externalId: string; id?: string } = { key: idemKey(`outage${w}`), externalId: idemKey('R') }
      requests.push(req)
      for (;;) {
        const sent = till.purchase(members[w % members.length]!.id, [{ sku: 'A', quantity: 1, unitPrice: '20000' }], [{ type: 'cash', amount: '20000' }], { externalId: req.externalId }, req.key)
        const res = await unlessHung(sent)
        if (!res) {
          problems.push(`a request got no answer in ${HUNG_MS / 1000} s`)
          running = false
          return
        }
        answers.set(res.statusCode, (answers.get(res.statusCode) ?? 0) + 1)
        if (res.statusCode === 201) {
          req.id = res.json().id
          break
        }
        if (res.statusCode !== 503) problems.push(`${res.statusCode} ${res.body.slice(0, 200)}`)
        else if (!/^application\/problem\+json/.test(String(res.headers['content-type'])) || !res.headers['retry-after']) problems.push(`a 503 without problem+json or Retry-After: ${res.body.slice(0, 200)}`)
        if (res.statusCode !== 503) break
        const cause = /in time/.test(res.json().detail) ? 'deadline' : 'lost connection'
        causes.set(cause, (causes.get(cause) ?? 0) + 1)
        await sleep(20)
      }
    }
  }
  const load = Promise.all(Array.from({ length: workers }, (_, w) => worker(w)))
  for (let i = 0; i < rounds && running; i++) {
    await sleep(300)
    disrupted += await disrupt()
  }
  await sleep(300)
  running = false
  await load

  t.comment(
    `${how === 'restart' ? 'cut' : 'terminated'} ${disrupted} connections during ${requests.length} purchases; ` +
      `answers ${JSON.stringify(Object.fromEntries(answers))}, 503 causes ${JSON.stringify(Object.fromEntries(causes))}`,
  )
  t.ok(disrupted >= rounds, 'connections were lost under load')
  t.same(problems, [], 'every failed request was a 503 problem with Retry-After')
  t.ok((answers.get(503) ?? 0) > 0, 'some requests met the outage and got 503')
  // A request must fail fast or succeed, never wait out the deadline. Two driver defects made some
  // wait: a connection sitting out postgres.js's reconnect backoff (up to 20 s, client.ts), and a
  // ROLLBACK left waiting across a reconnect (scripts/patches/postgres+3.4.9+001+closed-connection.patch).
  t.equal(causes.get('deadline') ?? 0, 0, 'no request waited out the transaction deadline')
  t.equal(requests.filter((r) => !r.id).length, 0, 'every request was eventually answered 201 (retried with the same key)')

  // Recovery without a restart; nothing lost or doubled.
  t.equal((await ctx.inject({ method: 'GET', url: '/health/ready' })).statusCode, 200, 'ready again')
  const ids = new Set(requests.map((r) => r.id))
  t.equal(ids.size, requests.length, 'each request created its own purchase')
  const [row] = await admin<{ n: string }[]>`select count(*) as n from purchases where program_id = ${program.id}`
  t.equal(Number(row!.n), requests.length, 'the database holds exactly the acknowledged purchases')
  const report = await till.verify()
  t.equal(report.ok, true, 'the ledger verifies')
  let points = 0
  for (const m of members) points += (await till.balances(m.id)).points.balance
  t.equal(points, requests.length * 2, 'each acknowledged purchase earned its points once')
}

t.test('terminated idle connections: the next requests get 503 problems, then the service recovers without a restart', { skip: REAL_PG }, async (t) => {
  const { ctx, admin, terminate } = await outageApp(t, 'idle', 4)
  const program = await ctx.createProgram({ rules: VND_RULES })
  const till = new Till(ctx, program.token)
  const member = await ctx.enrol(program.token)
  const statuses = new Map<number, number>()
  let acknowledged = 0
  for (let round = 0; round < 5; round++) {
    const n = await terminate()
    t.ok(n >= 1, `round ${round + 1}: ${n} backends terminated`)
    for (let i = 0; i < 3; i++) {
      const key = idemKey('idle')
      const externalId = idemKey('R')
      for (let attempt = 0; attempt < 20; attempt++) {
        const res = await unlessHung(till.purchase(member.id, [{ sku: 'A', quantity: 1, unitPrice: '20000' }], [{ type: 'cash', amount: '20000' }], { externalId }, key))
        if (!res) {
          t.fail(`a request got no answer in ${HUNG_MS / 1000} s`)
          return
        }
        statuses.set(res.statusCode, (statuses.get(res.statusCode) ?? 0) + 1)
        t.ok(res.statusCode === 201 || res.statusCode === 503, `answer ${res.statusCode}`)
        if (res.statusCode === 503) {
          t.match(res.headers['content-type'], /^application\/problem\+json/, '503 is a problem')
          t.ok(res.headers['retry-after'], 'with Retry-After')
          continue
        }
        acknowledged += 1
        break
      }
    }
  }
  t.comment(`answers ${JSON.stringify(Object.fromEntries(statuses))}`)
  t.ok((statuses.get(503) ?? 0) > 0, 'the lost connections were answered 503')
  t.equal(acknowledged, 15, 'every purchase was acknowledged after retries with its key')
  const [row] = await admin<{ n: string }[]>`select count(*) as n from purchases where program_id = ${program.id}`
  t.equal(Number(row!.n), 15, 'each exactly once')
  t.equal((await ctx.inject({ method: 'GET', url: '/health/ready' })).statusCode, 200, 'ready again')
  t.equal((await till.verify()).ok, true, 'the ledger verifies')
  t.equal((await till.balances(member.id)).points.balance, 30, 'points earned once per purchase')
})

// Without scripts/patches/ (docs/driver-repairs.md) these hang or crash: postgres.js 3.4.9 let a transaction
// whose connection died send its statements on the reconnected session, and failed that session's
// first statement with the old session's error. The transaction deadline is the last resort.
t.test('terminated connections with a request in flight, one till', { skip: REAL_PG }, (t) => outage(t, 1, 4))
t.test('terminated connections under concurrent load', { skip: REAL_PG }, (t) => outage(t, 6, 4))
t.test('the server restarts under concurrent load: connections dropped, new ones refused for 400 ms', { skip: REAL_PG }, (t) => outage(t, 6, 3, 'restart'))

// postgres.js reads the type catalog on every new session before it runs the statement that
// opened it, and dropped that read's promise: when the connection was lost during it and the
// reconnect refused (a restarting server), its rejection went unhandled, which stops the service
// (close-with-grace); seen once in CI in the restart case above. scripts/patches/ (001)
// observes it; the statement waiting for the session still fails with the same error.
t.test('a session lost while the driver reads the type catalog, the reconnect refused: 503, then ready, nothing left unhandled', { skip: REAL_PG }, async (t) => {
  const unhandled: unknown[] = []
  const onUnhandled = (reason: unknown) => void unhandled.push(reason)
  process.on('unhandledRejection', onUnhandled)
  t.teardown(() => void process.off('unhandledRejection', onUnhandled))
  const proxy = await restartingProxy(t, { marker: 'pg_catalog.pg_type', downMs: 300 })
  const { ctx } = await outageApp(t, 'types', 2, proxy.url)
  const first = await unlessHung(ctx.inject({ method: 'GET', url: '/health/ready' }))
  t.equal(proxy.fired, 1, 'the first session was cut during its type catalog read')
  t.equal(first?.statusCode, 503, 'the request on it is answered 503')
  t.match(first?.headers['content-type'], /^application\/problem\+json/, 'as a problem')
  await sleep(500)
  t.equal((await ctx.inject({ method: 'GET', url: '/health/ready' })).statusCode, 200, 'ready again once the server is back')
  await sleep(100) // a stray rejection surfaces within a few turns of the event loop
  t.same(unhandled, [], 'no rejection was left unhandled')
})

// POST /v1/purchases/batch: the server restarts while the third sale is in flight. That sale is
// answered 503 and every later one NOT_ATTEMPTED, in a 200; the retried batch replays the two posted
// sales, finds or posts the one in flight, and posts the rest, each once.
t.test('the server restarts during a batch upload: the sale in flight 503, the rest NOT_ATTEMPTED; the retry posts each once', { skip: REAL_PG }, async (t) => {
  const marker = `OUTAGE-${process.pid}-SALE-2`
  const proxy = await restartingProxy(t, { marker, downMs: 300 })
  const { ctx, admin } = await outageApp(t, 'batch', 2, proxy.url)
  const program = await ctx.createProgram({ rules: VND_RULES })
  const member = await ctx.enrol(program.token)
  const purchases = Array.from({ length: 5 }, (_, i) => ({
    memberId: member.id, storeId: 'S1', terminalId: 'T1', externalId: i === 2 ? marker : idemKey('R'), currency: 'VND',
    lines: [{ sku: 'A', name: 'A', quantity: 1, unitPrice: '20000' }], tenders: [{ type: 'cash', amount: '20000' }], idempotencyKey: idemKey('batch'),
  }))
  const upload = () => unlessHung(ctx.call(program.token, 'POST', '/v1/purchases/batch', { purchases }))
  const res = await upload()
  t.equal(proxy.fired, 1, 'the connection was cut as the third sale was sent')
  t.equal(res?.statusCode, 200, res?.body.slice(0, 300) ?? 'no answer')
  t.equal(res?.headers['retry-after'], '1')
  t.same(res?.json().results.map((r: { status: number; body: { code?: string } }) => [r.status, r.body.code]), [[201, undefined], [201, undefined], [503, 'SERVICE_UNAVAILABLE'], [503, 'NOT_ATTEMPTED'], [503, 'NOT_ATTEMPTED']])
  await sleep(500)
  const retry = await upload()
  const again = retry?.json().results.map((r: { status: number; replayed: boolean }) => [r.status, r.replayed]) ?? []
  // The sale in flight is one statement in its own implicit transaction (the executor): whether the
  // server ran it before the connection went is unknown to the service, which is why it answered
  // 503. The retry either replays it or posts it now; either way it is posted once (counted below).
  t.same(again.slice(0, 2), [[201, true], [201, true]], 'the two posted sales replayed')
  t.ok(again[2]?.[0] === 201, 'the sale in flight posted: replayed if it had committed, else now')
  t.same(again.slice(3), [[201, false], [201, false]], 'the sales not attempted posted now')
  const [row] = await admin<{ n: string }[]>`select count(*) as n from purchases where program_id = ${program.id}`
  t.equal(Number(row!.n), 5, 'each sale exactly once')
  t.equal((await new Till(ctx, program.token).balances(member.id)).points.balance, 10, '2 points a sale, once each')
})
