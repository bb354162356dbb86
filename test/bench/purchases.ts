// Purchase benchmark (`npm run bench`): not a test. Starts the service on the PostgreSQL in
// BENCH_DATABASE_URL, seeds programs, drives POST /v1/purchases over HTTP with a realistic mix,
// verifies the ledger, then runs pgbench tpcb-like on the same server for scale.
import { spawn, execFileSync, type ChildProcess } from 'node:child_process'
import { generateKeyPairSync, randomUUID } from 'node:crypto'
import { setTimeout as sleep } from 'node:timers/promises'
import { Pool } from 'undici'

const url = process.env.BENCH_DATABASE_URL
if (!url) {
  console.error('Set BENCH_DATABASE_URL to an empty PostgreSQL database, e.g. postgres://postgres@127.0.0.1:5432/loyalty_bench')
  process.exit(1)
}
const PORT = Number(process.env.BENCH_PORT ?? 3999)
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 32)
const SECONDS = Number(process.env.BENCH_SECONDS ?? 15)
const MEMBERS_LOW = Number(process.env.BENCH_MEMBERS ?? 10_000)
const MEMBERS_HOT = 10
const ADMIN_SECRET = `bench-${randomUUID()}`
const base = `http://127.0.0.1:${PORT}`
const pool = new Pool(base, { connections: CONNECTIONS + 8, pipelining: 1 })

interface Reply {
  status: number
  body: any
}

async function call(method: 'GET' | 'POST', path: string, token: string | undefined, body?: unknown, headers: Record<string, string> = {}): Promise<Reply> {
  const res = await pool.request({
    method,
    path,
    headers: { ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...(token ? { authorization: `Bearer ${token}` } : {}), ...headers },
    body: body === undefined ? undefined : JSON.stringify(body),
  })
  const text = await res.body.text()
  return { status: res.statusCode, body: text ? JSON.parse(text) : null }
}

async function startServer(): Promise<ChildProcess> {
  const key = generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }).toString()
  const profile = process.env.BENCH_CPU_PROF ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_CPU_PROF}`] : []
  const child = spawn(process.execPath, [...profile, '--import', 'tsx', 'src/server.ts'], {
    env: {
      ...process.env,
      DATABASE_URL: url,
      DATABASE_POOL_SIZE: process.env.BENCH_POOL_SIZE ?? '16',
      MIGRATE_ON_START: 'true',
      ADMIN_CLIENT_ID: 'bench-admin',
      ADMIN_CLIENT_SECRET: ADMIN_SECRET,
      SIGNING_KEY: key,
      PORT: String(PORT),
      HOST: '127.0.0.1',
      LOG_LEVEL: 'warn',
      JOBS_INTERVAL_SECONDS: '0',
      RATE_LIMIT_PER_MINUTE: '0', // one client drives the whole load
    },
    stdio: ['ignore', 'inherit', 'inherit'],
  })
  for (let i = 0; i < 100; i++) {
    await sleep(200)
    try {
      if ((await call('GET', '/health/ready', undefined)).status === 200) return child
    } catch {
      // not listening yet
    }
  }
  child.kill('SIGKILL')
  throw new Error('the service did not become ready')
}

async function token(clientId: string, secret: string): Promise<string> {
  const r = await call('POST', '/v1/oauth/token', undefined, { grant_type: 'client_credentials', client_id: clientId, client_secret: secret })
  if (r.status !== 200) throw new Error(`token: ${JSON.stringify(r.body)}`)
  return r.body.access_token
}

/** Runs `task` for 0..n-1 with `width` in flight. */
async function inParallel(n: number, width: number, task: (i: number) => Promise<void>) {
  let next = 0
  await Promise.all(
    Array.from({ length: width }, async () => {
      while (next < n) await task(next++)
    }),
  )
}

async function seedProgram(admin: string, members: number, storedValue: string, points: number) {
  const program = (await call('POST', '/v1/programs', admin, { name: `Bench ${members}`, currency: 'VND', rules: { earning: { points: 1, per: '10000' }, pointValue: '100' } })).body
  const client = (await call('POST', `/v1/programs/${program.id}/clients`, admin, { name: 'bench', scopes: ['pos', 'program:manage', 'finance:read'] })).body
  const tk = await token(client.clientId, client.clientSecret)
  const ids: string[] = new Array(members)
  await inParallel(members, 32, async (i) => {
    const phone = `09${String(10_000_000 + i).slice(-8)}`
    const m = await call('POST', '/v1/members', tk, { name: `Member ${i}`, phone })
    if (m.status !== 201) throw new Error(`enrol: ${JSON.stringify(m.body)}`)
    ids[i] = m.body.id
    const top = await call('POST', `/v1/members/${m.body.id}/stored-value/top-ups`, tk, { amount: storedValue, tender: 'cash', storeId: 'S1' }, { 'idempotency-key': randomUUID() })
    const adj = await call('POST', `/v1/members/${m.body.id}/points/adjustments`, tk, { points, reason: 'bench seed' }, { 'idempotency-key': randomUUID() })
    if (top.status !== 201 || adj.status !== 201) throw new Error(`seeding balances failed: ${JSON.stringify([top.body, adj.body])}`)
  })
  return { programId: program.id, token: tk, members: ids }
}

let receipt = 0
function purchaseBody(memberId: string) {
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

interface Run {
  purchases: number
  returns: number
  errors: number
  statuses: Record<number, number>
  latencies: number[]
  seconds: number
}

async function drive(tk: string, members: string[]): Promise<Run> {
  const run: Run = { purchases: 0, returns: 0, errors: 0, statuses: {}, latencies: [], seconds: SECONDS }
  const deadline = performance.now() + SECONDS * 1000
  await Promise.all(
    Array.from({ length: CONNECTIONS }, async () => {
      while (performance.now() < deadline) {
        const member = members[Math.floor(Math.random() * members.length)]!
        const t0 = performance.now()
        const res = await call('POST', '/v1/purchases', tk, purchaseBody(member), { 'idempotency-key': randomUUID() }).catch(() => ({ status: 0, body: null }))
        run.latencies.push(performance.now() - t0)
        run.statuses[res.status] = (run.statuses[res.status] ?? 0) + 1
        if (res.status !== 201) {
          run.errors += 1
          continue
        }
        run.purchases += 1
        if (Math.random() < 0.05) {
          const ret = await call('POST', `/v1/purchases/${res.body.id}/returns`, tk, { lines: [{ sku: 'SKU0', quantity: 1 }] }, { 'idempotency-key': randomUUID() })
          if (ret.status === 201) run.returns += 1
          else run.errors += 1
        }
      }
    }),
  )
  return run
}

const percentile = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0

function report(name: string, run: Run) {
  const sorted = [...run.latencies].sort((a, b) => a - b)
  const rate = run.purchases / run.seconds
  console.log(
    `${name}: ${rate.toFixed(0)} purchases/s (${run.purchases} purchases + ${run.returns} returns in ${run.seconds} s, ${CONNECTIONS} connections), ` +
      `latency p50 ${percentile(sorted, 50).toFixed(1)} ms, p95 ${percentile(sorted, 95).toFixed(1)} ms, p99 ${percentile(sorted, 99).toFixed(1)} ms, ` +
      `errors ${run.errors} ${JSON.stringify(run.statuses)}`,
  )
  return { rate, p99: percentile(sorted, 99) }
}

function pgbenchTps(): number {
  const target = new URL(url!)
  const db = `${target.pathname.slice(1)}_pgbench`
  const conn = ['-h', target.hostname, '-p', target.port || '5432', '-U', decodeURIComponent(target.username || 'postgres')]
  execFileSync('psql', [...conn, '-d', 'postgres', '-qc', `drop database if exists "${db}"`], { stdio: 'ignore' })
  execFileSync('psql', [...conn, '-d', 'postgres', '-qc', `create database "${db}"`], { stdio: 'ignore' })
  try {
    execFileSync('pgbench', [...conn, '-i', '-q', '-s', '16', db], { stdio: 'ignore' })
    const out = execFileSync('pgbench', [...conn, '-b', 'tpcb-like', '-c', '16', '-j', '2', '-T', '15', db], { encoding: 'utf8' })
    const tps = Number(/tps = ([0-9.]+)/.exec(out)?.[1])
    console.log(`pgbench tpcb-like, 16 clients, 15 s: ${tps.toFixed(0)} TPS`)
    return tps
  } finally {
    execFileSync('psql', [...conn, '-d', 'postgres', '-qc', `drop database if exists "${db}"`], { stdio: 'ignore' })
  }
}

const server = await startServer()
try {
  const admin = await token('bench-admin', ADMIN_SECRET)
  const seedStart = performance.now()
  const low = await seedProgram(admin, MEMBERS_LOW, '100000000', 1_000_000)
  const hot = await seedProgram(admin, MEMBERS_HOT, '1000000000', 100_000_000)
  console.log(`seeded ${MEMBERS_LOW} + ${MEMBERS_HOT} members in ${((performance.now() - seedStart) / 1000).toFixed(1)} s`)

  const results = []
  for (const [name, program] of [
    [`low contention (${MEMBERS_LOW} members)`, low],
    [`hot wallets (${MEMBERS_HOT} members)`, hot],
  ] as const) {
    await drive(program.token, program.members.slice(0, 50)).catch(() => undefined) // warm-up
    const run = await drive(program.token, program.members)
    results.push(report(name, run))
    const verify = await call('GET', '/v1/ledger/verify', program.token)
    console.log(`  ledger verify: ok=${verify.body.ok}, ${verify.body.entries} entries, ${verify.body.postings} postings, discrepancies ${verify.body.discrepancies.length}`)
  }
  server.kill('SIGTERM')
  await sleep(1000)
  const tps = pgbenchTps()
  for (const r of results) console.log(`ratio purchases/s : pgbench TPS = ${(r.rate / tps).toFixed(2)} (target >= 0.5; p99 ${r.p99.toFixed(1)} ms, target < 50)`)
} finally {
  server.kill('SIGKILL')
  await pool.close()
}
