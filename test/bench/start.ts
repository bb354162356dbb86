// Start-up benchmark (`npm run bench:start`): not a test. Starts the service with the README's
// command (default `npm start`; another with BENCH_START_COMMAND) 3 times on a new data folder and
// 3 times on an existing one, and prints each time from spawn to the first `/health/ready` 200 and
// the medians. Each run is stopped with SIGTERM before the next starts.
import { spawn } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { freePort } from '../helpers/service.js'

const COMMAND = (process.env.BENCH_START_COMMAND ?? 'npm start').split(' ')
const RUNS = Number(process.env.BENCH_RUNS ?? 3)
const cwd = new URL('../..', import.meta.url).pathname

/** Milliseconds from spawn to the first 200 of /health/ready; the whole process group is stopped after. */
async function timeToReady(dataDir: string): Promise<number> {
  const port = await freePort()
  const started = performance.now()
  const child = spawn(COMMAND[0]!, COMMAND.slice(1), {
    cwd,
    detached: true, // its own process group: nothing it starts outlives the run
    env: { ...process.env, DATA_DIR: dataDir, PORT: String(port), HOST: '127.0.0.1', LOG_LEVEL: 'warn', DATABASE_URL: '' },
    stdio: ['ignore', 'ignore', 'inherit'],
  })
  const exited = new Promise((resolve) => child.once('exit', resolve))
  try {
    for (;;) {
      if (child.exitCode !== null) throw new Error(`the service exited with ${child.exitCode} before it was ready`)
      const status = await fetch(`http://127.0.0.1:${port}/health/ready`).then((r) => r.status, () => 0)
      if (status === 200) return performance.now() - started
      await sleep(20)
    }
  } finally {
    process.kill(-child.pid!, 'SIGTERM')
    const stopped = await Promise.race([exited.then(() => true), sleep(15_000).then(() => false)])
    if (!stopped) process.kill(-child.pid!, 'SIGKILL')
  }
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!
const seconds = (ms: number) => `${(ms / 1000).toFixed(2)} s`

const folders: string[] = []
const fresh: number[] = []
const existing: number[] = []
try {
  for (let i = 0; i < RUNS; i++) {
    const dir = mkdtempSync(join(tmpdir(), 'loyalty-bench-start-'))
    folders.push(dir)
    fresh.push(await timeToReady(dir))
    console.log(`new data folder      run ${i + 1}: ${seconds(fresh.at(-1)!)}`)
  }
  for (let i = 0; i < RUNS; i++) {
    existing.push(await timeToReady(folders[0]!))
    console.log(`existing data folder run ${i + 1}: ${seconds(existing.at(-1)!)}`)
  }
} finally {
  for (const dir of folders) rmSync(dir, { recursive: true, force: true })
}
console.log(`median: new data folder ${seconds(median(fresh))}, existing data folder ${seconds(median(existing))} (${COMMAND.join(' ')})`)
