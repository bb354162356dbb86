// Export benchmark (`npm run bench:export`): not a test. Seeds about 1,000,000 postings with SQL
// (generate_series) into the empty PostgreSQL in BENCH_DATABASE_URL, starts the service on it and
// streams the journal (CSV, then NDJSON) over HTTP, measuring time and the server's resident memory;
// then times the trial balance and the liability roll-forward on the same data.
import { spawn, type ChildProcess } from 'node:child_process'
import { generateKeyPairSync, randomUUID } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { setTimeout as sleep } from 'node:timers/promises'
import postgres from 'postgres'
import { request } from 'undici'
import { cpuSecondsOf, memoryOf, mib } from './process-stats.js'
// @ts-expect-error a plain ES module script without types
import { build } from '../../scripts/build.mjs'
import { accountCode, accountId, memberPoints, pointsIssued, POINTS } from '../../src/modules/ledger/accounts.js'

const url = process.env.BENCH_DATABASE_URL
if (!url) {
  console.error('Set BENCH_DATABASE_URL to an empty PostgreSQL database, e.g. postgres://postgres@127.0.0.1:5432/loyalty_export_bench')
  process.exit(1)
}
const POSTINGS = Number(process.env.BENCH_POSTINGS ?? 1_000_000)
const MEMBERS = Number(process.env.BENCH_MEMBERS ?? 10_000)
const PORT = Number(process.env.BENCH_PORT ?? 3998)
/** Caps the server's V8 old generation (MiB): an export that held its result in memory would die. */
const SERVER_HEAP_MB = process.env.BENCH_SERVER_HEAP_MB
const ADMIN_SECRET = `bench-${randomUUID()}`
const base = `http://127.0.0.1:${PORT}`

async function call(method: 'GET' | 'POST', path: string, token?: string, body?: unknown) {
  const res = await request(`${base}${path}`, {
    method,
    // Every POST here creates something once (the bench never retries): a fresh Idempotency-Key each.
    headers: {
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      ...(token ? { authorization: `Bearer ${token}` } : {}),
      ...(method === 'POST' ? { 'idempotency-key': randomUUID() } : {}),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  })
  const text = await res.body.text()
  if (res.statusCode >= 400) throw new Error(`${method} ${path}: ${res.statusCode} ${text}`)
  return text ? JSON.parse(text) : null
}

async function startServer(): Promise<ChildProcess> {
  const key = generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }).toString()
  const heap = SERVER_HEAP_MB ? [`--max-old-space-size=${SERVER_HEAP_MB}`] : []
  // As production runs it (Dockerfile): the compiled server, with the same V8 flag; tsx compiling
  // src/ in the server's process would count its own memory as the server's.
  await build()
  const child = spawn(process.execPath, [...heap, '--max-semi-space-size=8', 'dist/server.js'], {
    env: {
      ...process.env,
      DATABASE_URL: url,
      MIGRATE_ON_START: 'true',
      ADMIN_CLIENT_ID: 'bench-admin',
      ADMIN_CLIENT_SECRET: ADMIN_SECRET,
      SIGNING_KEY: key,
      PORT: String(PORT),
      HOST: '127.0.0.1',
      LOG_LEVEL: 'warn',
      JOBS_INTERVAL_SECONDS: '0',
    },
    stdio: ['ignore', 'inherit', 'inherit'],
  })
  for (let i = 0; i < 150; i++) {
    await sleep(200)
    try {
      await call('GET', '/health/ready')
      return child
    } catch {
      // not listening yet
    }
  }
  child.kill('SIGKILL')
  throw new Error('the service did not become ready')
}

const token = async (clientId: string, secret: string) =>
  (await call('POST', '/v1/oauth/token', undefined, { grant_type: 'client_credentials', client_id: clientId, client_secret: secret })).access_token as string

/**
 * Entries of two postings each, as a purchase earning points posts them, spread over 2025: one SQL
 * statement per table. The ledger's per-statement checks (every entry balances, every account
 * exists) would read back each of the million postings; they are switched off for this session
 * when the role may (session_replication_role, superuser), since the rows are built balanced.
 */
async function seed(sql: postgres.Sql, programId: string): Promise<void> {
  const entries = Math.floor(POSTINGS / 2)
  const members = Array.from({ length: MEMBERS }, () => randomUUID())
  const wallets = members.map((m) => memberPoints(m))
  const accounts = [pointsIssued(), ...wallets]
  await sql.begin(async (tx) => {
    try {
      await tx`set local session_replication_role = replica`
    } catch {
      console.log('(not allowed to skip the ledger triggers: seeding with them on, slower)')
    }
    await tx`
      insert into ledger_accounts (program_id, id, code, type, asset, member_id, floor, tracks_balance)
      select ${programId}::uuid, a.id::uuid, a.code, a.type, ${POINTS}, a.member_id::uuid, case when a.member_id is null then null else 0 end, a.member_id is not null
        from unnest(${accounts.map((a) => accountId(programId, a))}::text[], ${accounts.map((a) => accountCode(a))}::text[],
                    ${accounts.map((a) => a.type)}::text[], ${accounts.map((a) => a.memberId ?? null) as string[]}::text[]) as a(id, code, type, member_id)`
    // Entry ids increase with time, as the service's UUIDv7 ids do, so an entry's postings sit near its neighbours'.
    await tx`create temporary table bench_wallets on commit drop as
               select (w.n - 1)::int as n, w.id::uuid as id, w.member_id::uuid as member_id
                 from unnest(${wallets.map((w) => accountId(programId, w))}::text[], ${members}::text[]) with ordinality as w(id, member_id, n)`
    await tx`create unique index on bench_wallets (n)`
    await tx`
      insert into journal_entries (program_id, id, kind, effective_at, member_id, store_id, reference_type, reference_id, created_by)
      select ${programId}::uuid, ('01900000-0000-7000-8000-' || lpad(to_hex(i), 12, '0'))::uuid, 'purchase',
             timestamptz '2025-01-01 00:00:00+07' + (i * (365.0 * 86400 / ${entries})) * interval '1 second',
             w.member_id, 'S' || (i % 20), 'purchase', i::text, 'bench'
        from generate_series(0, ${entries - 1}) as i join bench_wallets w on w.n = i % ${MEMBERS}`
    await tx`
      insert into postings (program_id, entry_id, seq, account_id, asset, amount)
      select ${programId}::uuid, ('01900000-0000-7000-8000-' || lpad(to_hex(i), 12, '0'))::uuid, s.seq,
             case when s.seq = 1 then ${accountId(programId, pointsIssued())}::uuid else w.id end,
             ${POINTS}, case when s.seq = 1 then -(1 + i % 50) else 1 + i % 50 end
        from generate_series(0, ${entries - 1}) as i join bench_wallets w on w.n = i % ${MEMBERS}
       cross join (values (1), (2)) as s(seq)
       order by i, s.seq`
  })
  await sql`analyze journal_entries`
  await sql`analyze postings`
  await sql`analyze ledger_accounts`
}

interface Measured {
  seconds: number
  firstByteSeconds: number
  bytes: number
  lines: number
  rssBefore: number
  rssMax: number
  serverCpuSeconds: number
}

/** Streams a response to nowhere, counting bytes and lines, sampling the server's memory meanwhile. */
async function measure(pid: number, path: string, tk: string): Promise<Measured> {
  const rssBefore = memoryOf(pid).rss
  const cpuBefore = cpuSecondsOf(pid)
  let rssMax = rssBefore
  const sampler = setInterval(() => {
    rssMax = Math.max(rssMax, memoryOf(pid).rss)
  }, 25)
  const started = performance.now()
  const res = await request(`${base}${path}`, { headers: { authorization: `Bearer ${tk}` } })
  if (res.statusCode !== 200) throw new Error(`${path}: ${res.statusCode} ${await res.body.text()}`)
  let firstByte = 0
  let bytes = 0
  let lines = 0
  for await (const chunk of res.body) {
    if (!firstByte) firstByte = performance.now()
    bytes += (chunk as Buffer).length
    // indexOf, not a loop over the bytes: the client shares the machine's two cores with the service and PostgreSQL.
    for (let at = (chunk as Buffer).indexOf(10); at !== -1; at = (chunk as Buffer).indexOf(10, at + 1)) lines += 1
  }
  const seconds = (performance.now() - started) / 1000
  clearInterval(sampler)
  rssMax = Math.max(rssMax, memoryOf(pid).rss)
  return { seconds, firstByteSeconds: (firstByte - started) / 1000, bytes, lines, rssBefore, rssMax, serverCpuSeconds: cpuSecondsOf(pid) - cpuBefore }
}

async function main() {
  const [load] = readFileSync('/proc/loadavg', 'utf8').split(' ')
  console.log(`machine: ${(await import('node:os')).cpus().length} CPUs, load average ${load} at start${SERVER_HEAP_MB ? `; server V8 old space capped at ${SERVER_HEAP_MB} MiB` : ''}`)
  const server = await startServer()
  await sleep(1000)
  const atRest = memoryOf(server.pid!).rss
  const sql = postgres(url!, { max: 2, onnotice: () => {} })
  try {
    const admin = await token('bench-admin', ADMIN_SECRET)
    const program = await call('POST', '/v1/programs', admin, { name: 'Export bench', currency: 'VND', rules: { earning: { points: 1, per: '10000' }, pointValue: '100' } })
    const client = await call('POST', `/v1/programs/${program.id}/clients`, admin, { name: 'finance', scopes: ['finance:read'] })
    const tk = await token(client.clientId, client.clientSecret)

    let t0 = performance.now()
    await seed(sql, program.id)
    const [count] = await sql<{ n: string }[]>`select count(*)::text as n from postings where program_id = ${program.id}`
    console.log(`seeded ${Number(count!.n).toLocaleString('en')} postings (${MEMBERS.toLocaleString('en')} member wallets) in ${((performance.now() - t0) / 1000).toFixed(1)} s`)
    console.log(`server resident memory after start and seeding: ${mib(memoryOf(server.pid!).rss)} (peak so far ${mib(memoryOf(server.pid!).peak)}; at rest before the first request: ${mib(atRest)})`)

    const year = 'from=2025-01-01&to=2025-12-31'
    for (const format of ['csv', 'ndjson'] as const) {
      const m = await measure(server.pid!, `/v1/exports/journal?${year}&format=${format}`, tk)
      console.log(
        `journal ${format}: ${m.lines.toLocaleString('en')} lines, ${(m.bytes / 1024 / 1024).toFixed(0)} MiB in ${m.seconds.toFixed(1)} s ` +
          `(${Math.round(m.lines / m.seconds).toLocaleString('en')} postings/s, first byte after ${(m.firstByteSeconds * 1000).toFixed(0)} ms, ` +
          `server CPU ${m.serverCpuSeconds.toFixed(1)} s); ` +
          `server RSS ${mib(m.rssBefore)} before, at most ${mib(m.rssMax)} during (+${mib(m.rssMax - m.rssBefore)})`,
      )
    }
    for (const path of [`/v1/exports/liability?${year}`, '/v1/exports/trial-balance?asOf=2025-12-31', '/v1/exports/trial-balance?asOf=2025-12-31&format=csv', `/v1/analytics/summary?${year}`]) {
      t0 = performance.now()
      const m = await measure(server.pid!, path, tk)
      console.log(`${path}: ${((performance.now() - t0) / 1000).toFixed(2)} s, ${(m.bytes / 1024).toFixed(0)} KiB, server RSS at most ${mib(m.rssMax)}, server CPU ${m.serverCpuSeconds.toFixed(1)} s`)
    }
    console.log(`server peak resident memory over the whole run: ${mib(memoryOf(server.pid!).peak)}`)
  } finally {
    await sql.end({ timeout: 5 })
    server.kill('SIGTERM')
  }
}

await main()
