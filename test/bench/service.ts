// The service under benchmark: started as a child process on the benchmark's PostgreSQL, reached
// over HTTP with undici, seeded through its own API.
import { spawn, type ChildProcess } from 'node:child_process'
import { generateKeyPairSync, randomUUID } from 'node:crypto'
import { setTimeout as sleep } from 'node:timers/promises'
import { Pool } from 'undici'

export interface Reply {
  status: number
  body: any
}

export type Call = (method: 'GET' | 'POST', path: string, token: string | undefined, body?: unknown, headers?: Record<string, string>) => Promise<Reply>

export interface Service {
  child: ChildProcess
  call: Call
  admin: string
  stop: () => Promise<void>
}

export interface ServiceOptions {
  url: string
  port: number
  poolSize: string
  httpConnections: number
  cpuProfileDir?: string
}

export async function startService({ url, port, poolSize, httpConnections, cpuProfileDir }: ServiceOptions): Promise<Service> {
  const pool = new Pool(`http://127.0.0.1:${port}`, { connections: httpConnections, pipelining: 1 })
  const call: Call = async (method, path, token, body, headers = {}) => {
    const res = await pool.request({
      method,
      path,
      headers: { ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...(token ? { authorization: `Bearer ${token}` } : {}), ...headers },
      body: body === undefined ? undefined : JSON.stringify(body),
    })
    const text = await res.body.text()
    return { status: res.statusCode, body: text ? JSON.parse(text) : null }
  }
  const adminSecret = `bench-${randomUUID()}`
  const key = generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }).toString()
  const profile = cpuProfileDir ? ['--cpu-prof', `--cpu-prof-dir=${cpuProfileDir}`] : []
  const child = spawn(process.execPath, [...profile, '--import', 'tsx', 'src/server.ts'], {
    env: {
      ...process.env,
      DATABASE_URL: url,
      DATABASE_POOL_SIZE: poolSize,
      MIGRATE_ON_START: 'true',
      ADMIN_CLIENT_ID: 'bench-admin',
      ADMIN_CLIENT_SECRET: adminSecret,
      SIGNING_KEY: key,
      PORT: String(port),
      HOST: '127.0.0.1',
      LOG_LEVEL: 'warn',
      JOBS_INTERVAL_SECONDS: '0',
      RATE_LIMIT_PER_MINUTE: '0', // one client drives the whole load
    },
    stdio: ['ignore', 'inherit', 'inherit'],
  })
  let stopped = false
  const stop = async () => {
    if (stopped) return
    stopped = true
    child.kill('SIGTERM')
    await sleep(1000)
    child.kill('SIGKILL')
    await pool.close()
  }
  for (let i = 0; i < 150; i++) {
    await sleep(200)
    const ready = await call('GET', '/health/ready', undefined).catch(() => undefined) // not listening yet
    if (ready?.status === 200) return { child, call, admin: await token(call, 'bench-admin', adminSecret), stop }
  }
  await stop()
  throw new Error('the service did not become ready')
}

async function token(call: Call, clientId: string, secret: string): Promise<string> {
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

export interface Program {
  programId: string
  token: string
  members: string[]
}

/** A program earning 1 point per 10,000 VND, with `members` members holding stored value and points. */
export async function seedProgram({ call, admin }: Service, members: number, storedValue: string, points: number): Promise<Program> {
  const program = (await call('POST', '/v1/programs', admin, { name: `Bench ${members}`, currency: 'VND', rules: { earning: { points: 1, per: '10000' }, pointValue: '100' } }, { 'idempotency-key': randomUUID() })).body
  const client = (await call('POST', `/v1/programs/${program.id}/clients`, admin, { name: 'bench', scopes: ['pos', 'program:manage', 'finance:read'] }, { 'idempotency-key': randomUUID() })).body
  const tk = await token(call, client.clientId, client.clientSecret)
  const ids: string[] = new Array(members)
  await inParallel(members, 32, async (i) => {
    const phone = `09${String(10_000_000 + i).slice(-8)}`
    const m = await call('POST', '/v1/members', tk, { name: `Member ${i}`, phone }, { 'idempotency-key': randomUUID() })
    if (m.status !== 201) throw new Error(`enrol: ${JSON.stringify(m.body)}`)
    ids[i] = m.body.id
    const top = await call('POST', `/v1/members/${m.body.id}/stored-value/top-ups`, tk, { amount: storedValue, tender: 'cash', storeId: 'S1' }, { 'idempotency-key': randomUUID() })
    const adj = await call('POST', `/v1/members/${m.body.id}/points/adjustments`, tk, { points, reason: 'bench seed' }, { 'idempotency-key': randomUUID() })
    if (top.status !== 201 || adj.status !== 201) throw new Error(`seeding balances failed: ${JSON.stringify([top.body, adj.body])}`)
  })
  return { programId: program.id, token: tk, members: ids }
}

/** GET /v1/ledger/verify of the program: whether it is clean, and a line saying what it checked. */
export async function verifyLedger({ call }: Service, program: Program): Promise<{ clean: boolean; line: string }> {
  const v = await call('GET', '/v1/ledger/verify', program.token)
  if (v.status !== 200) return { clean: false, line: `ledger verify answered ${v.status}: ${JSON.stringify(v.body)}` }
  return {
    clean: v.body.ok === true,
    line: `ledger verify: ok=${v.body.ok}, ${v.body.entries} entries, ${v.body.postings} postings, discrepancies ${v.body.discrepancies.length}`,
  }
}
