// `npm run chaos`: the long crash-safety run (not a test). Starts the service on the empty
// PostgreSQL database in CHAOS_DATABASE_URL, drives purchases with retrying tills, SIGKILLs the
// service CHAOS_KILLS times at random moments and restarts it, then checks the ledger: every
// acknowledged purchase exactly once, nothing partial, balances, GET /v1/ledger/verify.
// CHAOS_RESTART_POSTGRES=1 also restarts the PostgreSQL server once at the end, under load
// (pg_ctlcluster, or pg_ctl as the postgres user; needs root), and checks the same afterwards.
import { execFile, execFileSync } from 'node:child_process'
import { promisify } from 'node:util'
import { setTimeout as sleep } from 'node:timers/promises'
import { checkLedger, drivePurchases, freePort, seedProgram, ServiceProcess } from '../helpers/service.js'

const url = process.env.CHAOS_DATABASE_URL
if (!url) {
  console.error('Set CHAOS_DATABASE_URL to an empty PostgreSQL database, e.g. postgres://postgres@127.0.0.1:5432/loyalty_chaos')
  process.exit(1)
}
const KILLS = Number(process.env.CHAOS_KILLS ?? 20)
const WORKERS = Number(process.env.CHAOS_WORKERS ?? 16)
const MEMBERS = Number(process.env.CHAOS_MEMBERS ?? 50)
const RESTART_POSTGRES = process.env.CHAOS_RESTART_POSTGRES === '1'

// Asynchronous on purpose: a synchronous child process would freeze the tills' event loop for
// the whole restart, so no request would be in flight when PostgreSQL goes down.
const run = promisify(execFile)
async function restartPostgres() {
  try {
    const clusters = execFileSync('pg_lsclusters', ['--no-header'], { encoding: 'utf8' }).trim().split('\n')[0]!.split(/\s+/)
    await run('pg_ctlcluster', [clusters[0]!, clusters[1]!, 'restart', '-m', 'fast'])
  } catch {
    const dataDir = process.env.PGDATA ?? execFileSync('psql', [url!, '-Atc', 'show data_directory'], { encoding: 'utf8' }).trim()
    await run('su', ['postgres', '-c', `pg_ctl -D ${dataDir} restart -m fast -w`])
  }
}

const service = new ServiceProcess(url, await freePort(), { MIGRATE_ON_START: 'true', DATABASE_POOL_SIZE: '16' })
let failed = false
try {
  await service.start()
  const seeded = await seedProgram(service.base, MEMBERS)
  let running = true
  const load = drivePurchases({ base: () => service.base, token: seeded.token, members: seeded.members, workers: WORKERS, running: () => running })
  let kills = 0
  let pgRestarts = 0
  const started = performance.now()
  try {
    for (let k = 0; k < KILLS; k++) {
      await sleep(500 + Math.random() * 2500)
      await service.kill('SIGKILL')
      kills += 1
      await service.start()
      process.stdout.write(`killed and restarted ${kills}/${KILLS}\r`)
    }
    if (RESTART_POSTGRES) {
      await sleep(1000)
      await restartPostgres()
      pgRestarts += 1
      await sleep(3000)
      if (!service.alive) throw new Error('the service died while PostgreSQL restarted')
    }
    await sleep(1000)
  } finally {
    running = false
  }
  const sent = await load
  const result = await checkLedger(url, service.base, seeded, sent)
  const transient = sent.flatMap((r) => r.transient)
  console.log(
    `\nchaos: ${((performance.now() - started) / 1000).toFixed(0)} s, kills survived ${kills}, PostgreSQL restarts ${pgRestarts}; ` +
      `requests ${result.requests}, acknowledged ${result.acknowledged}, found exactly once ${result.found}; ` +
      `retried ${result.retried}, answered by replay ${result.replayed}; 5xx seen while retrying ${transient.length} ` +
      `(${[...new Set(transient)].join(', ') || 'none'}), longest wait for one answer ${Math.max(...sent.map((r) => r.longestAttemptMs)).toFixed(0)} ms, ` +
      `service alive ${service.alive}`,
  )
  if (result.problems.length) {
    failed = true
    console.log(`PROBLEMS:\n  ${result.problems.slice(0, 50).join('\n  ')}`)
  } else console.log('ledger: every acknowledged purchase exactly once, no partial entry, balances match, verify clean')
} catch (err) {
  failed = true
  console.error(err)
} finally {
  await service.kill('SIGTERM')
}
process.exit(failed ? 1 : 0)
