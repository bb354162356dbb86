import { readFileSync, writeFileSync } from 'node:fs'
import t, { type Test } from 'tap'
import { startTestApp } from '../../helpers/app.js'
import { collect, FIXTURE_AS_OF, FIXTURE_PERIOD, seedExportFixture } from '../../helpers/export-fixture.js'
import { inSnapshot, streamSnapshot } from '../../../src/db/snapshot.js'
import { writeJournal, type JournalFormat } from '../../../src/modules/exports/journal.js'
import { liabilityReport, trialBalanceReport } from '../../../src/modules/exports/service.js'
import { writeTrialBalanceCsv } from '../../../src/modules/exports/trial-balance.js'

// The exports' bytes, compared with golden files captured from the exports as they were before
// the PostgreSQL fast path (issue 20): a change to how an export is produced must not change one byte.
// UPDATE_GOLDEN=1 rewrites the files (only for a deliberate change of format).
const ctx = await startTestApp(t)
const fixture = await seedExportFixture(ctx.database)
const { program } = fixture
const golden = (name: string) => new URL(`./golden/${name}`, import.meta.url)

function compare(t: Test, name: string, actual: string) {
  const normalized = fixture.normalize(actual)
  if (process.env.UPDATE_GOLDEN === '1') writeFileSync(golden(name), normalized)
  t.equal(normalized, readFileSync(golden(name), 'utf8'), `${name}: the same bytes`)
}

const simpleJournal = async (format: JournalFormat, timezone = program.timezone) =>
  collect(await streamSnapshot(ctx.database, (tx, write) => writeJournal(tx, program.id, timezone, FIXTURE_PERIOD, format, write), { timezone: 'UTC' }))

t.test('journal CSV and NDJSON', async (t) => {
  compare(t, 'journal.csv', await simpleJournal('csv'))
  compare(t, 'journal.ndjson', await simpleJournal('ndjson'))
  compare(t, 'journal-kathmandu.csv', await simpleJournal('csv', 'Asia/Kathmandu'))
})

t.test('trial balance JSON and CSV', async (t) => {
  compare(t, 'trial-balance.json', JSON.stringify(await inSnapshot(ctx.database, (tx) => trialBalanceReport(tx, program, FIXTURE_AS_OF))))
  compare(t, 'trial-balance.csv', await collect(await streamSnapshot(ctx.database, (tx, write) => writeTrialBalanceCsv(tx, program.id, FIXTURE_AS_OF, write))))
})

t.test('liability roll-forward', async (t) => {
  compare(t, 'liability.json', JSON.stringify(await inSnapshot(ctx.database, (tx) => liabilityReport(tx, program, FIXTURE_PERIOD))))
})
