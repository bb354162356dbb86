import { readFileSync, writeFileSync } from 'node:fs'
import t, { type Test } from 'tap'
import { startTestApp } from '../../helpers/app.js'
import { collect, FIXTURE_AS_OF, FIXTURE_PERIOD, seedExportFixture } from '../../helpers/export-fixture.js'
import { inSnapshot } from '../../../src/db/snapshot.js'
import type { JournalFormat } from '../../../src/modules/exports/journal.js'
import { liabilityReport, trialBalanceReport } from '../../../src/modules/exports/service.js'
import { journalStream, trialBalanceCsvStream, type StreamPath } from '../../../src/modules/exports/streams.js'
import { journalHead, journalLinesQuery, journalSettings, trialBalanceHead, trialBalanceLinesQuery } from '../../../src/modules/exports/sql-lines.js'
import { queryRows } from '../../../src/db/client.js'
import { sql, type SQL } from 'drizzle-orm'

// The exports' bytes, compared with golden files captured from the exports as they were before
// the PostgreSQL fast path (issue 20): a change to how an export is produced must not change one byte.
// On PostgreSQL both paths are compared (the lines formatted in SQL and streamed by COPY, and the
// TypeScript formatters the service uses on PGlite); on PGlite the one it has.
// UPDATE_GOLDEN=1 rewrites the files from the simple path (only for a deliberate change of format).
const ctx = await startTestApp(t)
const fixture = await seedExportFixture(ctx.database)
const { program } = fixture
const golden = (name: string) => new URL(`./golden/${name}`, import.meta.url)

function compare(t: Test, name: string, actual: string, path = '') {
  const normalized = fixture.normalize(actual)
  if (process.env.UPDATE_GOLDEN === '1' && path !== 'fast' && path !== 'sql') writeFileSync(golden(name), normalized)
  t.equal(normalized, readFileSync(golden(name), 'utf8'), `${name}${path ? ` (${path} path)` : ''}: the same bytes`)
}

type Path = 'fast' | 'simple'
const paths: Path[] = ctx.database.copyLines ? ['simple', 'fast'] : ['simple']

function compareAll(t: Test, name: string, make: (path: Path) => Promise<string>) {
  // One after the other: the simple path writes the file when UPDATE_GOLDEN=1, the fast path compares.
  return paths.reduce((done, path) => done.then(async () => compare(t, name, await make(path), path)), Promise.resolve())
}

const journal = (format: JournalFormat, timezone = program.timezone) => (path: Path) =>
  journalStream(ctx.database, program.id, timezone, FIXTURE_PERIOD, format, { path }).then(collect)

t.test('journal CSV and NDJSON', async (t) => {
  await compareAll(t, 'journal.csv', journal('csv'))
  await compareAll(t, 'journal.ndjson', journal('ndjson'))
  await compareAll(t, 'journal-kathmandu.csv', journal('csv', 'Asia/Kathmandu'))
})

t.test('an empty period: the CSV header alone, an empty NDJSON', async (t) => {
  const empty = { from: new Date('2030-01-01T00:00:00Z'), to: new Date('2030-02-01T00:00:00Z') }
  for (const path of paths) {
    t.equal(await journalStream(ctx.database, program.id, program.timezone, empty, 'csv', { path }).then(collect), readFileSync(golden('journal.csv'), 'utf8').split('\r\n')[0] + '\r\n', path)
    t.equal(await journalStream(ctx.database, program.id, program.timezone, empty, 'ndjson', { path }).then(collect), '', path)
  }
})

t.test('trial balance JSON and CSV', async (t) => {
  compare(t, 'trial-balance.json', JSON.stringify(await inSnapshot(ctx.database, (tx) => trialBalanceReport(tx, program, FIXTURE_AS_OF))))
  await compareAll(t, 'trial-balance.csv', (path) => trialBalanceCsvStream(ctx.database, program.id, FIXTURE_AS_OF, { path }).then(collect))
  // Before the first entry: no account has a balance.
  const before = new Date('2024-01-01T00:00:00Z')
  for (const path of paths) t.equal(await trialBalanceCsvStream(ctx.database, program.id, before, { path }).then(collect), readFileSync(golden('trial-balance.csv'), 'utf8').split('\r\n')[0] + '\r\n', path)
})

/**
 * The lines the PostgreSQL path has the database format, read as an ordinary query instead of
 * through COPY: on PGlite too, so the SQL formatting is checked against the golden files on both
 * drivers (on PostgreSQL the COPY path above reads the same query).
 */
async function linesOf(query: SQL, head: string, settings: Record<string, string> = {}): Promise<string> {
  const lines = await inSnapshot(ctx.database, async (tx) => {
    for (const [name, value] of Object.entries(settings)) await tx.execute(sql`select set_config(${name}, ${value}, true)`)
    return queryRows<{ line: string }>(tx, sql`select q.line from (${query}) as q(line)`)
  })
  return head + lines.map((r) => r.line).join('')
}

t.test('the lines formatted in SQL, read without COPY, are the same bytes', async (t) => {
  for (const format of ['csv', 'ndjson'] as const) {
    compare(t, `journal.${format}`, await linesOf(journalLinesQuery(program.id, FIXTURE_PERIOD, format), journalHead(format), journalSettings(program.timezone)), 'sql')
  }
  compare(t, 'journal-kathmandu.csv', await linesOf(journalLinesQuery(program.id, FIXTURE_PERIOD, 'csv'), journalHead('csv'), journalSettings('Asia/Kathmandu')), 'sql')
  compare(t, 'trial-balance.csv', await linesOf(trialBalanceLinesQuery(program.id, FIXTURE_AS_OF), trialBalanceHead()), 'sql')
})

t.test('liability roll-forward', async (t) => {
  compare(t, 'liability.json', JSON.stringify(await inSnapshot(ctx.database, (tx) => liabilityReport(tx, program, FIXTURE_PERIOD))))
})
