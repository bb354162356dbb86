// The import of one file, chunk by chunk, as it streams in: a chunk is read and checked (pure)
// while the one before it is written, then its members are loaded by its keys, its decisions and
// its plan made (pure), and the plan applied: one statement a chunk. Memory holds two chunks and
// the record being read, whatever the file's size.
import { createHash } from 'node:crypto'
import type { Database } from '../../db/client.js'
import { PlanError, STALE } from '../../db/apply.js'
import { AppError, pgErrorOf } from '../../shared/errors.js'
import { newId } from '../../shared/ids.js'
import { currencyExponent } from '../../shared/money.js'
import { lotExpiry } from '../ledger/lots.js'
import { rememberAccounts } from '../ledger/repository.js'
import { readRules } from '../programs/rules.js'
import type { ProgramRow } from '../programs/tables.js'
import { chunkKeys, decideChunk } from './decide.js'
import { planChunk, type ImportRun } from './plan.js'
import { csvRecords, ndjsonLines, UnreadableFile, utf8Text, type FileRecord } from './records.js'
import { membersByKeys } from './repository.js'
import { csvColumns, emptyFile, readCsvRow, readNdjsonRow, type CsvColumns, type ImportFormat, type ImportProgram, type ReadRow } from './rows.js'
import type { MemberImportRow } from './tables.js'

/** Rows a plan writes: 500 members, their entries and lots are a few hundred kB of plan and about a tenth of a second of the database. */
export const CHUNK_ROWS = 500
export const MAX_ROWS = 1_000_000
export const MAX_BYTES = 200 * 1024 * 1024

export const importTooLarge = (detail: string) => new AppError(413, 'IMPORT_TOO_LARGE', 'Import too large', detail)
const unreadable = (detail: string) => new AppError(400, 'IMPORT_MALFORMED', 'Import file unreadable', detail)

/** Another request took the import over (this one had stopped writing long enough to look dead). */
export class ImportTakenOver extends Error {
  override name = 'ImportTakenOver'
}

/** A plan refused because the members it was planned on changed meanwhile: a concurrent enrolment took a key, or an update moved the version. */
const plannedOnStale = (err: unknown) => {
  if (!(err instanceof PlanError)) return false
  if (err.code === STALE) return !err.message.includes('member_imports')
  const pg = pgErrorOf(err)
  return pg.code === '23505' && (pg.constraint ?? '').startsWith('members_program_')
}

/** The bytes of the upload, counted against MAX_BYTES and hashed as they pass. */
async function* measured(bytes: AsyncIterable<Uint8Array>, hash: ReturnType<typeof createHash>): AsyncGenerator<Uint8Array> {
  let total = 0
  for await (const chunk of bytes) {
    total += chunk.byteLength
    if (total > MAX_BYTES) throw importTooLarge(`the file is larger than ${MAX_BYTES / 1024 / 1024} MB`)
    hash.update(chunk)
    yield chunk
  }
}

/** The hash a finished import keeps of its request: the format and every byte of the file. */
export const requestHasher = (format: ImportFormat) => createHash('sha256').update(`member-import:${format}\n`)

/** Reads the whole file only to hash it (the replay of a finished import compares it). */
export async function hashOf(format: ImportFormat, bytes: AsyncIterable<Uint8Array>): Promise<string> {
  const hash = requestHasher(format)
  for await (const _ of measured(bytes, hash)) {
    // measured hashes what passes
  }
  return hash.digest('base64url')
}

export interface RunTotals {
  rows: number
  created: number
  updated: number
  unchanged: number
  refused: number
  pointsOpened: bigint
  storedValueOpened: bigint
}

/**
 * Imports the file into `record` (running under this request), skipping the rows it already
 * recorded (a resumed import). Resolves with the request's hash once every row is written; throws
 * an AppError for a file it cannot take (the rows before it stay written), ImportTakenOver, or
 * whatever broke the upload or the database.
 */
export async function importFile(database: Database, program: ProgramRow, record: MemberImportRow, bytes: AsyncIterable<Uint8Array>, actor: string, totals: RunTotals): Promise<string> {
  const format = record.format as ImportFormat
  const hash = requestHasher(format)
  const text = utf8Text(measured(bytes, hash))
  const records = format === 'csv' ? csvRecords(text) : ndjsonLines(text)
  const shape: ImportProgram = { country: program.country, timezone: program.timezone, currency: program.currency, exponent: currencyExponent(program.currency) ?? 0 }
  const rules = readRules(program.rules)
  const run: ImportRun = { id: record.id, runner: record.runner, rowsRead: record.rowsRead }
  let columns: CsvColumns | undefined
  let batch: FileRecord[] = []
  let writing: Promise<void> | undefined

  const write = async (rows: ReadRow[], label: ((f: string) => string) | undefined, now: Date) => {
    for (let attempt = 1; ; attempt++) {
      const known = await membersByKeys(database.db, program.id, run.id, chunkKeys(rows))
      const decisions = decideChunk(rows, known, { now, newId, label })
      const pointsExpireAt = lotExpiry(rules.pointsExpiry, program.timezone, now)
      const { plan, counts, systemAccountIds } = planChunk(program, run, decisions, { now, actor, pointsExpireAt })
      try {
        await database.apply(plan)
      } catch (err) {
        if (err instanceof PlanError && err.code === STALE && err.message.includes('member_imports')) throw new ImportTakenOver()
        if (plannedOnStale(err) && attempt < 5) continue
        throw err
      }
      rememberAccounts(program.id, systemAccountIds)
      run.rowsRead += counts.rows
      totals.rows += counts.rows
      totals.created += counts.created
      totals.updated += counts.updated
      totals.unchanged += counts.unchanged
      totals.refused += counts.refused
      totals.pointsOpened += counts.pointsOpened
      totals.storedValueOpened += counts.storedValueOpened
      return
    }
  }

  /** Checks a full batch now (while the previous one is written), then writes it after that one. */
  const flush = async () => {
    if (batch.length === 0) return
    const now = new Date()
    const rows = batch.map((r) => (columns ? readCsvRow(r, columns, shape, now) : readNdjsonRow(r, shape, now)))
    const label = columns ? (f: string) => columns!.labels.get(f) ?? f : undefined
    batch = []
    const previous = writing
    writing = (async () => {
      await previous
      await write(rows, label, now)
    })()
    // Handled here so that a failure while the next batch is read is not an unhandled rejection; it is thrown below.
    writing.catch(() => undefined)
    // Only one batch waits: reading goes on while the previous batch is written, not further.
    if (previous) await previous
  }

  try {
    for await (const rec of records) {
      if (format === 'csv' && columns === undefined) {
        columns = csvColumns(rec)
        continue
      }
      if (rec.row > MAX_ROWS) throw importTooLarge(`the file has more than ${MAX_ROWS.toLocaleString('en')} rows`)
      if (rec.row <= record.rowsRead) continue
      batch.push(rec)
      if (batch.length >= CHUNK_ROWS) await flush()
    }
    if (format === 'csv' && columns === undefined) throw emptyFile()
    await flush()
    await writing
  } catch (err) {
    // A batch being written finishes (or fails) before the import is settled either way.
    await writing?.catch(() => undefined)
    if (err instanceof UnreadableFile) throw unreadable(err.message)
    throw err
  }
  return hash.digest('base64url')
}
