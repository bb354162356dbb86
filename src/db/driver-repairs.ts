import { readFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

// postgres.js 3.4.9 loses connections badly without its repairs (and hangs a connection after a COPY OUT) (docs/driver-repairs.md): they are
// committed diffs (scripts/patches/) that `npm ci` applies with patch-package and that fail the
// install when they no longer apply. An install that skipped them (`npm ci --ignore-scripts`, a
// copied node_modules, another version) is refused at start instead of failing at the first outage.

/** A line each repair leaves in the driver's source, by the patch that writes it. */
export const DRIVER_REPAIRS = [
  { patch: '001-closed-connection', file: 'connection.js', line: 'if (!socket) { /* loyalty-ledger: closed-connection guard */' },
  { patch: '001-closed-connection', file: 'connection.js', line: "while (sent.length) queryError(sent.shift(), Errors.connection('CONNECTION_CLOSED', options))" },
  { patch: '001-closed-connection', file: 'connection.js', line: 'return fetchArrayTypes().catch(() => {})' },
  { patch: '002-closed-transaction', file: 'index.js', line: 'return q.reject(lost)' },
  { patch: '004-copy-out-resume', file: 'connection.js', line: 'copyEnded() /* loyalty-ledger: copy-out resume */' },
] as const

/** The folder of the driver's source as this process imports it (`import postgres from 'postgres'`). */
export const driverSourceDir = (): string => dirname(fileURLToPath(import.meta.resolve('postgres')))

/** The patches whose lines are missing from the driver's source in `dir`. */
export function missingDriverRepairs(dir: string): string[] {
  const texts = new Map<string, string>()
  const missing = new Set<string>()
  for (const r of DRIVER_REPAIRS) {
    if (!texts.has(r.file)) {
      let text = ''
      try {
        text = readFileSync(join(dir, r.file), 'utf8')
      } catch {
        // no such file: every repair of it is missing
      }
      texts.set(r.file, text)
    }
    if (!texts.get(r.file)!.includes(r.line)) missing.add(r.patch)
  }
  return [...missing]
}

/** The service cannot run on this driver (server.ts prints the message and exits 1). */
export class DriverRepairsMissing extends Error {}

let checked: string | undefined

/** Throws, naming what is missing and how to repair it, unless the driver in `dir` has every repair. */
export function assertDriverRepaired(dir: string = driverSourceDir()): void {
  if (checked === dir) return
  const missing = missingDriverRepairs(dir)
  if (missing.length > 0) {
    throw new DriverRepairsMissing(
      `postgres.js in ${dir} lacks the repairs ${missing.join(', ')} (scripts/patches, docs/driver-repairs.md): without them a lost ` +
        'database connection can crash the service or hang requests. Install with `npm ci` (not --ignore-scripts), or apply them with ' +
        '`npx patch-package --patch-dir scripts/patches`.',
    )
  }
  checked = dir
}
