// What a captured purchase writes, read from the WAL (`npx tsx test/bench/wal.ts`): not a test.
// Starts the service on the empty PostgreSQL in BENCH_DATABASE_URL, seeds a program, drives the
// benchmark's sales (test/bench/load.ts) for BENCH_SECONDS, waits for the work after the answers
// (the dispatcher), and prints per sale, per relation, the heap rows and index entries written and
// the WAL bytes, from pg_walinspect: this database's records only, so other databases on a shared
// server do not count, and partial indexes count the entries they really got (wal-figures.ts).
// BENCH_WEBHOOK_TYPES=purchase.completed (a comma list; "all": every type) first registers an
// endpoint for them on a local receiver answering 204, so the outbox and the deliveries count too.
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import postgres from 'postgres'
import { drivePurchases } from './load.js'
import { openProbe } from './probes.js'
import { seedProgram, startService } from './service.js'
import { walByRelation, walReport, type WalRecord } from './wal-figures.js'

const url = process.env.BENCH_DATABASE_URL
if (!url) {
  console.error('Set BENCH_DATABASE_URL to an empty PostgreSQL database (the server must have pg_walinspect, PostgreSQL 15+)')
  process.exit(1)
}
const env = (name: string, fallback: number) => Number(process.env[name] ?? fallback)
const CONNECTIONS = env('BENCH_CONNECTIONS', 8)
const SECONDS = env('BENCH_SECONDS', 10)
const MEMBERS = env('BENCH_MEMBERS', 1000)
const WEBHOOK_TYPES = process.env.BENCH_WEBHOOK_TYPES

const receiver = createServer((req, res) => req.resume().on('end', () => res.writeHead(204).end()))
if (WEBHOOK_TYPES) {
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve))
  process.env.WEBHOOK_ALLOW_PRIVATE_URLS = 'true' // the receiver is on this machine
}

const sql = postgres(url, { max: 1, onnotice: () => undefined })
await sql`create extension if not exists pg_walinspect`
const service = await startService({ url, port: env('BENCH_PORT', 3999), poolSize: '16', httpConnections: CONNECTIONS + 8, cpuProfileDir: process.env.BENCH_CPU_PROF })
const probe = await openProbe(url, service.child.pid!)
try {
  const program = await seedProgram(service, MEMBERS, '100000000', 1_000_000)
  if (WEBHOOK_TYPES) {
    const eventTypes = WEBHOOK_TYPES === 'all' ? [] : WEBHOOK_TYPES.split(',')
    const url = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`
    const res = await service.call('POST', '/v1/webhooks', program.token, { url, eventTypes })
    if (res.status !== 201) throw new Error(`webhook endpoint: ${JSON.stringify(res.body)}`)
    console.log(`endpoint for ${WEBHOOK_TYPES} at ${url}`)
  }
  await drivePurchases(service, program, CONNECTIONS, Math.min(SECONDS, 5))
  await probe.settle()
  // A temporary slot of this session keeps the WAL from here until it is read, whatever other
  // databases write meanwhile (a checkpoint would recycle the segments); dropped when the session ends.
  await sql`select pg_create_physical_replication_slot('bench_wal_' || pg_backend_pid(), true, true)`
  const [start] = await sql<{ lsn: string }[]>`select pg_current_wal_lsn()::text as lsn`
  const run = await drivePurchases(service, program, CONNECTIONS, SECONDS)
  await probe.settle()
  const [end] = await sql<{ lsn: string }[]>`select pg_current_wal_lsn()::text as lsn`
  const records = await sql<WalRecord[]>`
    select resource_manager as rmgr, record_type as type, (record_length + fpi_length)::int as bytes, fpi_length::int as "fpiBytes", xid::text as xid, block_ref as "blockRef"
      from pg_get_wal_records_info(${start!.lsn}::pg_lsn, ${end!.lsn}::pg_lsn)`
  const [db] = await sql<{ oid: number }[]>`select oid::int from pg_database where datname = current_database()`
  // Heap and index names; a TOAST table or its index by the table it belongs to.
  const rels = await sql<{ node: number; name: string }[]>`
    select c.relfilenode::int as node,
           coalesce(owner.relname || ' (TOAST)', index_owner.relname || ' (TOAST index)', c.relname) as name
      from pg_class c
      left join pg_class owner on owner.reltoastrelid = c.oid
      left join pg_index x on x.indexrelid = c.oid
      left join pg_class index_owner on index_owner.reltoastrelid = x.indrelid
     where c.relfilenode <> 0`
  const result = walByRelation(records, db!.oid, new Map(rels.map((r) => [r.node, r.name])))
  console.log(`${run.purchases} sales + ${run.returns} returns in ${SECONDS} s at ${CONNECTIONS} connections, ${run.errors} errors; ${result.commits} commits`)
  console.log(walReport(result, run.purchases))
} finally {
  await service.stop()
  await probe.close()
  await sql.end()
  receiver.close()
}
