// The service as a separate process on a real PostgreSQL, a POS load that retries every request
// left without an answer under the same Idempotency-Key, and the ledger checks that follow.
// Used by test/reliability (short runs) and test/chaos (npm run chaos, long runs).
import { spawn, type ChildProcess } from 'node:child_process'
import { generateKeyPairSync, randomUUID } from 'node:crypto'
import { createServer } from 'node:net'
import { setTimeout as sleep } from 'node:timers/promises'
import postgres from 'postgres'
import { ContractLog, documentedRoute } from './contract.js'
import { idemKey } from './pos.js'

export const ADMIN_ID = 'reliability-admin'
export const ADMIN_SECRET = `reliability-${randomUUID()}`
const SIGNING_KEY = generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }).toString()

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number }
      server.close(() => resolve(port))
    })
  })
}

export interface Reply {
  status: number
  body: any
  headers: Headers
}

/** Every answer `call` got, checked against the document (the service is another process: routes are matched by URL). */
export const serviceAnswers = new ContractLog()

/** Fails `t` at its end, listing the answers `call` got that disagree with the document. */
export function checkServiceAnswers(t: { teardown(fn: () => unknown): void }): void {
  t.teardown(() => {
    const message = serviceAnswers.report()
    if (message) throw new Error(message)
  })
}

/** One HTTP request; rejects when no answer came (connection refused or reset, timeout). */
export async function call(base: string, method: string, path: string, token?: string, body?: unknown, headers: Record<string, string> = {}): Promise<Reply> {
  const res = await fetch(`${base}${path}`, {
    method,
    headers: { ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...(token ? { authorization: `Bearer ${token}` } : {}), ...headers },
    body: body === undefined ? undefined : JSON.stringify(body),
    signal: AbortSignal.timeout(15_000),
  })
  const text = await res.text()
  serviceAnswers.record({ method, route: documentedRoute(method, path), url: path, status: res.status, headers: Object.fromEntries(res.headers), body: text })
  return { status: res.status, body: text ? JSON.parse(text) : null, headers: res.headers }
}

/** `node --import tsx src/server.ts` (or `command`) on `databaseUrl` ('' for PGlite in DATA_DIR), restartable; its JSON log lines are kept. */
export class ServiceProcess {
  child?: ChildProcess
  readonly logs: string[] = []
  exits = 0
  constructor(
    readonly databaseUrl: string,
    readonly port: number,
    readonly env: Record<string, string> = {},
    readonly command: string[] = [process.execPath, '--import', 'tsx', 'src/server.ts'],
  ) {}

  get base() {
    return `http://127.0.0.1:${this.port}`
  }

  /** Starts the process and returns at once; `start()` also waits until it is ready. */
  spawn(): ChildProcess {
    const child = spawn(this.command[0]!, this.command.slice(1), {
      cwd: new URL('../..', import.meta.url).pathname,
      env: {
        ...process.env,
        DATABASE_URL: this.databaseUrl,
        // One issuer for every instance (the default follows each one's port): a token from one is valid on the others, as behind a load balancer.
        TOKEN_ISSUER: 'http://loyalty.test',
        DATABASE_POOL_SIZE: '8',
        // The crash and outage runs drive plain sales through the executor, as the in-process suite does.
        ADMIN_CLIENT_ID: ADMIN_ID,
        ADMIN_CLIENT_SECRET: ADMIN_SECRET,
        SIGNING_KEY,
        PORT: String(this.port),
        HOST: '127.0.0.1',
        LOG_LEVEL: 'info',
        JOBS_INTERVAL_SECONDS: '0',
        RATE_LIMIT_PER_MINUTE: '0',
        WEBHOOK_DISPATCH_INTERVAL_MS: '0',
        ...this.env,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    this.child = child
    let buffer = ''
    child.stdout!.on('data', (d: Buffer) => {
      buffer += d.toString()
      const lines = buffer.split('\n')
      buffer = lines.pop()!
      this.logs.push(...lines)
    })
    child.stderr!.on('data', (d: Buffer) => (this.stderr += d.toString()))
    child.once('exit', () => (this.exits += 1))
    return child
  }

  stderr = ''

  async start(): Promise<void> {
    const child = this.spawn()
    const stderr = () => this.stderr
    for (let i = 0; i < 300; i++) {
      if (child.exitCode !== null) throw new Error(`the service exited at start: ${stderr().slice(-2000)}`)
      try {
        if ((await call(this.base, 'GET', '/health/ready')).status === 200) return
      } catch {
        // not listening yet
      }
      await sleep(100)
    }
    child.kill('SIGKILL')
    throw new Error(`the service did not become ready: ${stderr().slice(-2000)}`)
  }

  /** SIGKILL: no shutdown hook runs, in-flight requests and transactions are cut. */
  async kill(signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    const child = this.child
    if (!child || child.exitCode !== null || child.signalCode !== null) return
    const exited = new Promise((r) => child.once('exit', r))
    child.kill(signal)
    await exited
  }

  /** Whether the process is still alive (it did not crash by itself). */
  get alive() {
    return !!this.child && this.child.exitCode === null && this.child.signalCode === null
  }
}

export interface Seeded {
  programId: string
  token: string
  members: string[]
  topUp: bigint
}

/** A VND program (1 point per 10,000 VND, plus `rules`), a client with every program scope, members with stored value. */
export async function seedProgram(base: string, members: number, topUp = 100_000_000n, rules: Record<string, unknown> = {}): Promise<Seeded> {
  const tokenOf = async (id: string, secret: string) => {
    const r = await call(base, 'POST', '/v1/oauth/token', undefined, { grant_type: 'client_credentials', client_id: id, client_secret: secret })
    if (r.status !== 200) throw new Error(`token: ${JSON.stringify(r.body)}`)
    return r.body.access_token as string
  }
  const admin = await tokenOf(ADMIN_ID, ADMIN_SECRET)
  const program = (await call(base, 'POST', '/v1/programs', admin, { name: `Reliability ${process.pid}`, currency: 'VND', rules: { earning: { points: 1, per: '10000' }, pointValue: '100', holdMinutes: 60, ...rules } }, { 'idempotency-key': idemKey() })).body
  const client = (await call(base, 'POST', `/v1/programs/${program.id}/clients`, admin, { name: 'tills', scopes: ['pos', 'program:manage', 'finance:read', 'members:write'] }, { 'idempotency-key': idemKey() })).body
  const token = await tokenOf(client.clientId, client.clientSecret)
  const ids: string[] = []
  for (let i = 0; i < members; i++) {
    const m = await call(base, 'POST', '/v1/members', token, { name: `Member ${i}`, phone: `090${String(i).padStart(7, '0')}` }, { 'idempotency-key': idemKey() })
    if (m.status !== 201) throw new Error(`enrol: ${JSON.stringify(m.body)}`)
    const t = await call(base, 'POST', `/v1/members/${m.body.id}/stored-value/top-ups`, token, { amount: String(topUp), tender: 'cash', storeId: 'S1' }, { 'idempotency-key': randomUUID() })
    if (t.status !== 201) throw new Error(`top-up: ${JSON.stringify(t.body)}`)
    ids.push(m.body.id)
  }
  return { programId: program.id, token, members: ids, topUp }
}

export interface PurchaseRequest {
  key: string
  externalId: string
  memberId: string
  total: bigint
  storedValue: bigint
  capture: boolean
  body: unknown
  attempts: number
  /** The longest attempt that got an answer, in ms: how long a till waited on the service at worst (attempts cut by a kill are not counted). */
  longestAttemptMs: number
  /** Answers that were not final (5xx); network failures count in `attempts` only. */
  transient: number[]
  answer?: { status: number; id?: string; replayed: boolean; body: unknown }
}

let receipt = 0
export function purchaseRequest(memberId: string, capture = true): PurchaseRequest {
  const unit = BigInt(10_000 + Math.floor(Math.random() * 190) * 1_000)
  const quantity = BigInt(1 + Math.floor(Math.random() * 3))
  const total = unit * quantity
  const storedValue = Math.random() < (capture ? 0.4 : 1) ? 10_000n : 0n
  const tenders = [...(storedValue > 0n ? [{ type: 'storedValue', amount: String(storedValue) }] : []), ...(total - storedValue > 0n ? [{ type: 'cash', amount: String(total - storedValue) }] : [])]
  const externalId = `REL-${process.pid}-${Date.now()}-${++receipt}`
  return {
    key: randomUUID(),
    externalId,
    memberId,
    total,
    storedValue,
    capture,
    attempts: 0,
    longestAttemptMs: 0,
    transient: [],
    body: { memberId, storeId: 'S1', terminalId: 'T1', externalId, currency: 'VND', capture, lines: [{ sku: 'SKU', name: 'Item', quantity: Number(quantity), unitPrice: String(unit) }], tenders },
  }
}

/** Sends `req` until it gets a final answer (not 5xx, not silence), always with the same key and body. */
export async function untilAnswered(base: () => string, token: string, req: PurchaseRequest, stop: { giveUpAt: number }): Promise<void> {
  while (!req.answer) {
    req.attempts += 1
    const started = performance.now()
    try {
      const r = await call(base(), 'POST', '/v1/purchases', token, req.body, { 'idempotency-key': req.key })
      req.longestAttemptMs = Math.max(req.longestAttemptMs, performance.now() - started)
      if (r.status >= 500) {
        req.transient.push(r.status)
      } else {
        req.answer = { status: r.status, id: r.body?.id, replayed: r.headers.get('idempotent-replayed') === 'true', body: r.body }
        return
      }
    } catch {
      // no answer: the service is down or was killed mid-request
    }
    if (Date.now() > stop.giveUpAt) throw new Error(`request ${req.key} unanswered after ${req.attempts} attempts`)
    await sleep(50 + Math.random() * 100)
  }
}

/** POS workers posting purchases until `running()` is false; every request is retried until answered. */
export async function drivePurchases(opts: { base: () => string; token: string; members: string[]; workers: number; running: () => boolean; holdShare?: number }): Promise<PurchaseRequest[]> {
  const sent: PurchaseRequest[] = []
  const stop = { giveUpAt: Number.POSITIVE_INFINITY }
  await Promise.all(
    Array.from({ length: opts.workers }, async (_, w) => {
      while (opts.running()) {
        const member = opts.members[(w + sent.length) % opts.members.length]!
        const req = purchaseRequest(member, Math.random() >= (opts.holdShare ?? 0))
        sent.push(req)
        stop.giveUpAt = Date.now() + 120_000
        await untilAnswered(opts.base, opts.token, req, stop)
      }
    }),
  )
  return sent
}

export interface LedgerCheck {
  requests: number
  acknowledged: number
  found: number
  retried: number
  replayed: number
  problems: string[]
}

/**
 * After the load: every acknowledged (2xx) purchase is in the database exactly once, with the id
 * it was acknowledged with and a complete journal entry; nothing else was posted; each member's
 * balances equal what the acknowledged purchases say; GET /v1/ledger/verify is clean.
 */
export async function checkLedger(databaseUrl: string, base: string, seeded: Seeded, sent: PurchaseRequest[]): Promise<LedgerCheck> {
  const problems: string[] = []
  const sql = postgres(databaseUrl, { max: 2, onnotice: () => {} })
  try {
    const acked = sent.filter((r) => r.answer && r.answer.status >= 200 && r.answer.status < 300)
    for (const r of sent) if (!r.answer || r.answer.status !== 201) problems.push(`${r.key}: answered ${r.answer?.status ?? 'never'} ${JSON.stringify(r.answer?.body ?? null).slice(0, 200)}`)
    type Row = { id: string; external_id: string; entry_id: string | null; status: string }
    const rows = await sql<Row[]>`select id, external_id, entry_id, status from purchases where program_id = ${seeded.programId}`
    const byExternal = new Map<string, Row[]>()
    for (const row of rows) byExternal.set(row.external_id, [...(byExternal.get(row.external_id) ?? []), row])
    let found = 0
    for (const r of acked) {
      const matches = byExternal.get(r.externalId) ?? []
      if (matches.length !== 1) problems.push(`${r.externalId}: ${matches.length} purchases in the database`)
      else if (matches[0]!.id !== r.answer!.id) problems.push(`${r.externalId}: acknowledged as ${r.answer!.id}, stored as ${matches[0]!.id}`)
      else found += 1
    }
    const sentIds = new Set(sent.map((r) => r.externalId))
    const strays = rows.filter((row) => !sentIds.has(row.external_id))
    if (strays.length) problems.push(`${strays.length} purchases in the database that no request asked for`)
    const partial = await sql<{ n: string }[]>`
      select count(*) as n from purchases p
       where p.program_id = ${seeded.programId} and p.status = 'completed'
         and not exists (select 1 from journal_entries e where e.program_id = p.program_id and e.id = p.entry_id
                           and exists (select 1 from postings x where x.program_id = e.program_id and x.entry_id = e.id))`
    if (Number(partial[0]!.n) > 0) problems.push(`${partial[0]!.n} completed purchases without a complete journal entry`)
    const keys = await sql<{ n: string }[]>`select count(*) as n from idempotency_keys where program_id = ${seeded.programId} and key in ${sql(sent.map((r) => r.key))}`
    if (Number(keys[0]!.n) !== acked.length) problems.push(`${keys[0]!.n} idempotency keys recorded for ${acked.length} acknowledged requests`)

    // Balances: each member's points and stored value follow from the acknowledged purchases alone.
    for (const memberId of seeded.members) {
      const mine = acked.filter((r) => r.memberId === memberId)
      const completed = mine.filter((r) => (r.answer!.body as { status?: string }).status === 'completed')
      const points = completed.reduce((s, r) => s + r.total / 10_000n, 0n)
      // Held purchases (capture: false) must have been resolved by the caller: voided ones spend nothing.
      const spent = completed.reduce((s, r) => s + r.storedValue, 0n)
      const b = (await call(base, 'GET', `/v1/members/${memberId}/balances`, seeded.token)).body
      if (BigInt(b.points.balance) !== points) problems.push(`member ${memberId}: ${b.points.balance} points, expected ${points}`)
      const expectSv = seeded.topUp - spent
      if (BigInt(b.storedValue.balance) !== expectSv) problems.push(`member ${memberId}: stored value ${b.storedValue.balance}, expected ${expectSv}`)
    }
    const verify = (await call(base, 'GET', '/v1/ledger/verify', seeded.token)).body
    if (!verify.ok) problems.push(`ledger verify: ${JSON.stringify(verify.discrepancies).slice(0, 500)}`)
    return {
      requests: sent.length,
      acknowledged: acked.length,
      found,
      retried: sent.filter((r) => r.attempts > 1).length,
      replayed: acked.filter((r) => r.answer!.replayed).length,
      problems,
    }
  } finally {
    await sql.end({ timeout: 5 })
  }
}
