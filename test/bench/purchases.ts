// Purchase benchmark (`npm run bench`): not a test. Starts the service on the empty PostgreSQL in
// BENCH_DATABASE_URL, seeds two programs, and measures POST /v1/purchases in phases (low contention
// and hot wallets at 32 connections, low contention at 1 connection, then the batch endpoint): for
// each, sales/s, latency, what PostgreSQL wrote per purchase (rows, index entries, WAL bytes) and the
// CPU it cost the service and PostgreSQL; verifies the ledger after each; then runs pgbench
// tpcb-like on the same server and prints a summary table and the targets of issue 16.
import { setTimeout as sleep } from 'node:timers/promises'
import { latency, lessIdle, phaseReport, summaryTable, tableActivity, targetChecks, totalWrites, type Phase } from './figures.js'
import { batchPresent, driveBatches, drivePurchases, type Run } from './load.js'
import { pgbenchTps } from './pgbench.js'
import { openProbe } from './probes.js'
import { seedProgram, startService, verifyLedger, type Program } from './service.js'

const url = process.env.BENCH_DATABASE_URL
if (!url) {
  console.error('Set BENCH_DATABASE_URL to an empty PostgreSQL database, e.g. postgres://postgres@127.0.0.1:5432/loyalty_bench')
  process.exit(1)
}
const env = (name: string, fallback: number) => Number(process.env[name] ?? fallback)
const CONNECTIONS = env('BENCH_CONNECTIONS', 32)
const SECONDS = env('BENCH_SECONDS', 15)
const WARMUP_SECONDS = env('BENCH_WARMUP_SECONDS', SECONDS)
const MEMBERS_LOW = env('BENCH_MEMBERS', 10_000)
const MEMBERS_HOT = 10
const BATCH_SIZE = env('BENCH_BATCH_SIZE', 500)
const BATCH_CONNECTIONS = env('BENCH_BATCH_CONNECTIONS', 4)
const PGBENCH_CLIENTS = env('BENCH_PGBENCH_CLIENTS', 16)
const PGBENCH_SECONDS = env('BENCH_PGBENCH_SECONDS', SECONDS)
/** Quiet seconds before each phase over which the processes' idle CPU is read (figures.ts lessIdle). */
const QUIET_SECONDS = 3

const service = await startService({
  url,
  port: env('BENCH_PORT', 3999),
  poolSize: process.env.BENCH_POOL_SIZE ?? '16',
  httpConnections: CONNECTIONS + 8,
  cpuProfileDir: process.env.BENCH_CPU_PROF,
  // BENCH_NODE_FLAGS='--max-semi-space-size=8' runs the service as `npm start` and the Dockerfile do.
  nodeFlags: (process.env.BENCH_NODE_FLAGS ?? '').split(' ').filter(Boolean),
})
const probe = await openProbe(url, service.child.pid!)

/**
 * Runs one measured phase. Its window opens once PostgreSQL's row counters have settled after the
 * warm-up, and closes once they have settled after the load, so that work done after the answers
 * (events marked by the dispatcher) is in it: rows, index entries, WAL and CPU are all over that
 * window, divided by the sales acknowledged in it (the returns of the mix included). Sales/s and
 * latency are of the load alone.
 */
async function measure(name: string, connections: number, program: Program, run: () => Promise<Run>): Promise<Phase> {
  await probe.analyze()
  await probe.settle()
  const quietStart = await probe.instant()
  await sleep(QUIET_SECONDS * 1000)
  const before = await probe.counters()
  const start = await probe.instant()
  const quiet = await probe.between(quietStart, start)
  const windowStart = performance.now()
  const driverStart = process.cpuUsage()
  const r = await run()
  const driver = process.cpuUsage(driverStart)
  const quietWalBytesPerSecond = await probe.settle()
  const windowSeconds = (performance.now() - windowStart) / 1000
  const cost = lessIdle(await probe.between(start, await probe.instant()), windowSeconds, quiet, QUIET_SECONDS)
  const tables = tableActivity(before, await probe.counters())
  const verify = await verifyLedger(service, program)
  const phase: Phase = {
    name, connections, purchases: r.purchases, returns: r.returns, errors: r.errors, seconds: r.seconds, latency: latency(r.latencies),
    verifyClean: verify.clean, writes: totalWrites(tables), tables, ...cost, driverCpuMs: (driver.user + driver.system) / 1000,
    windowSeconds, quietWalBytesPerSecond,
  }
  console.log(phaseReport(phase))
  console.log(`  statuses ${JSON.stringify(r.statuses)}; ${verify.line}`)
  return phase
}

try {
  const seedStart = performance.now()
  const low = await seedProgram(service, MEMBERS_LOW, '100000000', 1_000_000)
  const hot = await seedProgram(service, MEMBERS_HOT, '1000000000', 100_000_000)
  console.log(`seeded ${MEMBERS_LOW} + ${MEMBERS_HOT} members in ${((performance.now() - seedStart) / 1000).toFixed(1)} s`)

  await drivePurchases(service, low, CONNECTIONS, WARMUP_SECONDS, low.members.slice(0, 50))
  const lowPhase = await measure(`low contention (${MEMBERS_LOW} members)`, CONNECTIONS, low, () => drivePurchases(service, low, CONNECTIONS, SECONDS))
  await drivePurchases(service, hot, CONNECTIONS, WARMUP_SECONDS)
  const hotPhase = await measure(`hot wallets (${MEMBERS_HOT} members)`, CONNECTIONS, hot, () => drivePurchases(service, hot, CONNECTIONS, SECONDS))
  // The service is warm from the two phases before: no warm-up.
  const singlePhase = await measure(`one connection (${MEMBERS_LOW} members)`, 1, low, () => drivePurchases(service, low, 1, SECONDS))
  // The first batch is the warm-up, and tells whether the endpoint exists.
  const batchPhase = (await batchPresent(service, low, BATCH_SIZE))
    ? await measure(`batch of ${BATCH_SIZE} (${MEMBERS_LOW} members)`, BATCH_CONNECTIONS, low, () => driveBatches(service, low, BATCH_CONNECTIONS, SECONDS, BATCH_SIZE))
    : undefined
  if (!batchPhase) console.log('batch: endpoint not present (POST /v1/purchases/batch answered 404)')

  await service.stop()
  await sleep(1000)
  const tps = pgbenchTps(url, PGBENCH_CLIENTS, PGBENCH_SECONDS)
  const phases = [lowPhase, hotPhase, singlePhase, ...(batchPhase ? [batchPhase] : [])]
  console.log('\nPer sale (rows, index entries, WAL bytes, CPU ms); latency per request (a batch phase: per batch)')
  console.log(summaryTable(phases, tps))
  console.log('\nTargets of issue 16:')
  for (const line of targetChecks({ low: lowPhase, hot: hotPhase, single: singlePhase, batch: batchPhase, pgbenchTps: tps })) console.log(`  ${line}`)
} finally {
  await service.stop()
  await probe.close()
}
