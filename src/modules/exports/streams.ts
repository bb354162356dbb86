import type { Readable } from 'node:stream'
import type { Database } from '../../db/client.js'
import { streamSnapshot } from '../../db/snapshot.js'
import type { Period } from '../../shared/period.js'
import { writeJournal, type JournalFormat } from './journal.js'
import { journalHead, journalLinesQuery, journalSettings, trialBalanceHead, trialBalanceLinesQuery } from './sql-lines.js'
import { writeTrialBalanceCsv } from './trial-balance.js'

// The streamed exports, each by one of two paths with the same bytes (test/integration/exports/
// golden.test.ts): on PostgreSQL the database formats the lines and COPY streams them
// (./sql-lines.ts, src/db/copy.ts); on PGlite, which has no COPY to a client, TypeScript formats
// rows read a page at a time in one snapshot (./journal.ts, ./trial-balance.ts).

export interface StreamPath {
  /** 'simple' forces the TypeScript formatters on PostgreSQL too (the tests compare both). */
  path?: 'fast' | 'simple'
}

export function journalStream(database: Database, programId: string, timezone: string, period: Period, format: JournalFormat, options: StreamPath = {}): Promise<Readable> {
  if (database.copyLines && options.path !== 'simple') {
    return database.copyLines(journalLinesQuery(programId, period, format), { head: journalHead(format), settings: journalSettings(timezone) })
  }
  return streamSnapshot(database, (tx, write) => writeJournal(tx, programId, timezone, period, format, write), { timezone: 'UTC' })
}

export function trialBalanceCsvStream(database: Database, programId: string, asOf: Date, options: StreamPath = {}): Promise<Readable> {
  if (database.copyLines && options.path !== 'simple') return database.copyLines(trialBalanceLinesQuery(programId, asOf), { head: trialBalanceHead() })
  return streamSnapshot(database, (tx, write) => writeTrialBalanceCsv(tx, programId, asOf, write))
}
