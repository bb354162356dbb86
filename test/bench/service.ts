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
  /** http://127.0.0.1:<port>, for a request that needs options of its own (no timeout). */
  base: string
  call: Call
  /** POSTs a text body (a member import's file) with its content type. */
  upload: (path: string, token: string, body: string, contentType: string, headers?: Record<string, string>) => Promise<Reply>
  admin: string
  stop: () => Promise<void>
}

export interface ServiceOptions {
  url: string
  port: number
  poolSize: string
  httpConnections: number
  cpuProfileDir?: string
  /** Node flags for the service's process (e.g. the production start's --max-semi-space-size=8). */
  nodeFlags?: string[]
}

export async function startService({ url, port, poolSize, httpConnections, cpuProfileDir, nodeFlags = [] }: ServiceOptions): Promise<Service> {
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
  const upload: Service['upload'] = async (path, token, body, contentType, headers = {}) => {
    const res = await pool.request({ method: 'POST', path, headers: { 'content-type': contentType, authorization: `Bearer ${token}`, ...headers }, body, headersTimeout: 0, bodyTimeout: 0 })
    const text = await res.body.text()
    return { status: res.statusCode, body: text ? JSON.parse(text) : null }
  }
  const adminSecret = `bench-${randomUUID()}`
  const key = generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }).toString()
  const profile = cpuProfileDir ? ['--cpu-prof', `--cpu-prof-dir=${cpuProfileDir}`] : []
  const child = spawn(process.execPath, [...profile, ...nodeFlags, '--import', 'tsx', 'src/server.ts'], {
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
    if (ready?.status === 200) return { child, base: `http://127.0.0.1:${port}`, call, upload, admin: await token(call, 'bench-admin', adminSecret), stop }
  }
  await stop()
  throw new Error('the service did not become ready')
}

async function token(call: Call, clientId: string, secret: string): Promise<string> {
  const r = await call('POST', '/v1/oauth/token', undefined, { grant_type: 'client_credentials', client_id: clientId, client_secret: secret })
  if (r.status !== 200) throw new Error(`token: ${JSON.stringify(r.body)}`)
  return r.body.access_token
}

export interface Program {
  programId: string
  token: string
  members: string[]
}

/**
 * A program earning 1 point per 10,000 VND, with `members` members holding stored value and points:
 * one member import (POST /v1/members/imports) of a CSV with their opening balances, where the
 * seeding used to enrol, top up and adjust each member through the API (about 150 s for 10,000).
 * The members' ids come back in file order from the import's rows.
 */
export async function seedProgram({ call, upload, admin }: Service, members: number, storedValue: string, points: number): Promise<Program> {
  const program = (await call('POST', '/v1/programs', admin, { name: `Bench ${members}`, currency: 'VND', rules: { earning: { points: 1, per: '10000' }, pointValue: '100' } }, { 'idempotency-key': randomUUID() })).body
  const client = (await call('POST', `/v1/programs/${program.id}/clients`, admin, { name: 'bench', scopes: ['pos', 'program:manage', 'finance:read', 'members:write'] }, { 'idempotency-key': randomUUID() })).body
  const tk = await token(call, client.clientId, client.clientSecret)
  let file = 'name,phone,opening_points,opening_stored_value\r\n'
  for (let i = 0; i < members; i++) file += `Member ${i},09${String(10_000_000 + i).slice(-8)},${points},${storedValue}\r\n`
  const imported = await upload('/v1/members/imports', tk, file, 'text/csv', { 'idempotency-key': randomUUID() })
  if (imported.status !== 201 || imported.body.created !== members) throw new Error(`seeding import: ${imported.status} ${JSON.stringify(imported.body)}`)
  const ids: string[] = []
  for (let cursor: string | null = null; ids.length < members; ) {
    const page = await call('GET', `/v1/member-imports/${imported.body.id}/rows?limit=200${cursor ? `&cursor=${cursor}` : ''}`, tk)
    if (page.status !== 200) throw new Error(`seeding rows: ${JSON.stringify(page.body)}`)
    ids.push(...page.body.data.map((r: { memberId: string }) => r.memberId))
    cursor = page.body.nextCursor
    if (cursor === null) break
  }
  if (ids.length !== members) throw new Error(`seeding: ${ids.length} members of ${members}`)
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
