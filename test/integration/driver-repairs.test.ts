// The postgres.js repairs (scripts/patches, docs/driver-repairs.md): the installed driver has them,
// and the service refuses to start on PostgreSQL with a driver that lacks them, naming what is
// missing, before it connects to anything.
import t from 'tap'
import { spawnSync } from 'node:child_process'
import { generateKeyPairSync } from 'node:crypto'
import { cpSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { assertDriverRepaired, DRIVER_REPAIRS, driverSourceDir, missingDriverRepairs } from '../../src/db/driver-repairs.js'

const root = fileURLToPath(new URL('../..', import.meta.url))

/** A copy of the installed driver with the lines the repairs wrote taken out again. */
function unrepairedDriver(into: string): string {
  const installed = join(driverSourceDir(), '..')
  cpSync(installed, into, { recursive: true, dereference: true })
  for (const r of DRIVER_REPAIRS) {
    const file = join(into, 'src', r.file)
    writeFileSync(file, readFileSync(file, 'utf8').split(r.line).join(''))
  }
  return join(into, 'src')
}

t.test('the installed driver has every repair', async (t) => {
  t.same(missingDriverRepairs(driverSourceDir()), [])
  t.doesNotThrow(() => assertDriverRepaired())
})

t.test('a driver without them is named with what it lacks', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'll-driver-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  const src = unrepairedDriver(join(dir, 'postgres'))
  t.same(missingDriverRepairs(src), ['001-closed-connection', '002-closed-transaction', '004-copy-out-resume'])
  t.throws(() => assertDriverRepaired(src), /lacks the repairs 001-closed-connection, 002-closed-transaction, 004-copy-out-resume/)
})

t.test('the service refuses to start on PostgreSQL with such a driver, before connecting', async (t) => {
  // A project whose node_modules are the real ones but for postgres; --preserve-symlinks makes the
  // service resolve its packages from there.
  const dir = mkdtempSync(join(tmpdir(), 'll-start-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  const modules = join(dir, 'node_modules')
  cpSync(join(root, 'package.json'), join(dir, 'package.json'))
  symlinkSync(join(root, 'src'), join(dir, 'src'))
  mkdirSync(modules)
  for (const name of readdirSync(join(root, 'node_modules'))) if (name !== 'postgres') symlinkSync(join(root, 'node_modules', name), join(modules, name))
  unrepairedDriver(join(modules, 'postgres'))
  const run = spawnSync(process.execPath, ['--preserve-symlinks', '--preserve-symlinks-main', '--import', 'tsx', join(dir, 'src', 'server.ts')], {
    cwd: dir,
    encoding: 'utf8',
    timeout: 60_000,
    env: {
      ...process.env,
      // Nothing listens there: the refusal must come before any connection is tried.
      DATABASE_URL: 'postgres://nobody@127.0.0.1:1/none',
      ADMIN_CLIENT_SECRET: 'driver-repairs-test-secret-0123456789',
      SIGNING_KEY: generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
      PORT: '0',
      LOG_LEVEL: 'silent',
    },
  })
  t.equal(run.status, 1, `exit status (stderr: ${run.stderr})`)
  t.match(run.stderr, /postgres\.js in .*ll-start-.* lacks the repairs 001-closed-connection, 002-closed-transaction, 004-copy-out-resume/)
  t.match(run.stderr, /npm ci/)
})
