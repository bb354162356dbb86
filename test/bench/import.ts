// Member import benchmark (`npx tsx test/bench/import.ts`): not a test. Starts the service on the
// empty PostgreSQL in BENCH_DATABASE_URL, generates a CSV of BENCH_IMPORT_ROWS members (100,000)
// on the fly, every one with a consent, opening points and stored value, and streams it to
// POST /v1/members/imports (chunked, never whole in memory on either side); then the same file
// again under a new key (every row unchanged). Prints rows/s, the service's resident memory
// before and at its highest, its CPU, and the ledger check.
import { randomUUID } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { Readable } from 'node:stream'
import { setTimeout as sleep } from 'node:timers/promises'
import { request } from 'undici'
import { startService, verifyLedger } from './service.js'

const url = process.env.BENCH_DATABASE_URL
if (!url) {
  console.error('Set BENCH_DATABASE_URL to an empty PostgreSQL database, e.g. postgres://postgres@127.0.0.1:5432/import_bench')
  process.exit(1)
}
const ROWS = Number(process.env.BENCH_IMPORT_ROWS ?? 100_000)
const PORT = Number(process.env.BENCH_PORT ?? 3998)

/** The file, a thousand rows a chunk: the same bytes every time it is generated. */
async function* members(rows: number): AsyncGenerator<string> {
  yield 'name,phone,email,birthday,external_id,sms_marketing,sms_marketing_at,opening_points,opening_stored_value\r\n'
  let chunk = ''
  for (let i = 1; i <= rows; i++) {
    const name = i % 10 === 0 ? `"Nguyễn Văn ${i}, ""VIP"""` : `Trần Thị ${i}`
    const phone = `098${String(i).padStart(7, '0')}`
    const birthday = `19${50 + (i % 50)}-${String((i % 12) + 1).padStart(2, '0')}-${String((i % 28) + 1).padStart(2, '0')}`
    chunk += `${name},${phone},m${i}@example.vn,${birthday},OLD-${i},${i % 3 === 0 ? 'no' : 'yes'},2024-0${(i % 9) + 1}-15,${i % 500},${(i % 40) * 5000}\r\n`
    if (i % 1000 === 0) {
      yield chunk
      chunk = ''
    }
  }
  if (chunk) yield chunk
}

/** Resident memory of a process in MiB (Linux /proc): now and its high-water mark. */
function memoryOf(pid: number): { rss: number; peak: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8')
  const kib = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN)
  return { rss: kib('VmRSS') / 1024, peak: kib('VmHWM') / 1024 }
}

/** CPU seconds (user + system) of a process, from /proc/<pid>/stat. */
function cpuSecondsOf(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ')
  return (Number(fields[11]) + Number(fields[12])) / 100
}

const service = await startService({ url, port: PORT, poolSize: '8', httpConnections: 4, cpuProfileDir: process.env.BENCH_CPU_PROF })
try {
  const { call, admin } = service
  const pid = service.child.pid!
  const program = (await call('POST', '/v1/programs', admin, { name: 'Import bench', currency: 'VND', rules: { earning: { points: 1, per: '10000' }, pointValue: '100' } }, { 'idempotency-key': randomUUID() })).body
  const client = (await call('POST', `/v1/programs/${program.id}/clients`, admin, { name: 'bench', scopes: ['members:write', 'finance:read'] }, { 'idempotency-key': randomUUID() })).body
  const token = (await call('POST', '/v1/oauth/token', undefined, { grant_type: 'client_credentials', client_id: client.clientId, client_secret: client.clientSecret })).body.access_token as string

  const importOnce = async (label: string) => {
    await sleep(1000)
    const before = memoryOf(pid).rss
    const cpuBefore = cpuSecondsOf(pid)
    let highest = before
    const sampler = setInterval(() => (highest = Math.max(highest, memoryOf(pid).rss)), 100)
    const started = performance.now()
    const res = await request(`http://127.0.0.1:${PORT}/v1/members/imports`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'text/csv', 'idempotency-key': randomUUID() },
      body: Readable.from(members(ROWS)),
      headersTimeout: 0,
      bodyTimeout: 0,
    })
    const body = (await res.body.json()) as Record<string, unknown>
    const seconds = (performance.now() - started) / 1000
    clearInterval(sampler)
    highest = Math.max(highest, memoryOf(pid).rss)
    if (res.statusCode !== 201) throw new Error(`${label}: ${res.statusCode} ${JSON.stringify(body)}`)
    const { created, updated, unchanged, refused, openingBalances } = body as { created: number; updated: number; unchanged: number; refused: number; openingBalances: unknown }
    console.log(`${label}: ${ROWS.toLocaleString('en')} rows in ${seconds.toFixed(1)} s = ${Math.round(ROWS / seconds).toLocaleString('en')} rows/s`)
    console.log(`  created ${created}, updated ${updated}, unchanged ${unchanged}, refused ${refused}; opened ${JSON.stringify(openingBalances)}`)
    console.log(`  service: resident memory ${before.toFixed(0)} MiB before, ${highest.toFixed(0)} MiB at most during; ${(cpuSecondsOf(pid) - cpuBefore).toFixed(1)} CPU s`)
  }

  await importOnce('first import (every row creates a member with balances)')
  await importOnce('the same file again (every row unchanged)')
  console.log(`  service resident memory high-water mark since start: ${memoryOf(pid).peak.toFixed(0)} MiB`)
  const verify = await verifyLedger(service, { programId: program.id, token, members: [] })
  console.log(verify.line)
  if (!verify.clean) process.exitCode = 1
} finally {
  await service.stop()
}
