// The import of one file, chunk by chunk, as it streams in: a chunk is read and checked (pure)
// while the one before it is written, then its members are loaded by its keys, its decisions and
// its plan made (pure), and the plan applied: one statement a chunk. Memory holds two chunks and
// the record being read, whatever the file's size.
import { createHash } from 'node:crypto'
import type { Database } from '../../db/client.js'
import { PlanError, STALE, type PlanData } from '../../db/apply.js'
import { AppError, pgErrorOf } from '../../shared/errors.js'
import { newId } from '../../shared/ids.js'
import { currencyExponent } from '../../shared/money.js'
import { lotExpiry } from '../ledger/lots.js'
import { rememberAccounts } from '../ledger/repository.js'
import { readRules } from '../programs/rules.js'
import type { ProgramRow } from '../programs/tables.js'
import { chunkKeys, decideChunk } from './decide.js'
import { footprintOf, plannedIndependently, type Footprint } from './footprint.js'
import { planChunk, type ChunkCounts } from './plan.js'
import { csvRecords, ndjsonLines, UnreadableFile, utf8Text, type FileRecord } from './records.js'
import { analyzeImportTables, membersByKeys } from './repository.js'
import { csvColumns, emptyFile, readCsvRow, readNdjsonRow, type CsvColumns, type ImportFormat, type ImportProgram, type ReadRow } from './rows.js'
import type { MemberImportRow } from './tables.js'

/** Rows a plan writes: 500 members, their entries and lots are a few hundred kB of plan and about a tenth of a second of the database. */
export const CHUNK_ROWS = 500
export const MAX_ROWS = 1_000_000
export const MAX_BYTES = 200 * 1024 * 1024
/**
 * The planner's statistics of the tables an import grows are refreshed (repository.ts,
 * analyzeImportTables) once it created this many members, and again each time it doubled that:
 * eight times in 100,000 members, a few hundred milliseconds each.
 */
const ANALYZE_FIRST = 500

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

/** A chunk loaded, decided and planned, not yet applied. */
interface PreparedChunk {
  rows: ReadRow[]
  now: Date
  label: ((field: string) => string) | undefined
  rowsReadBefore: number
  plan: PlanData
  counts: ChunkCounts
  systemAccountIds: string[]
  footprint: Footprint
}

/**
 * Imports the file into `record` (running under this request), skipping the rows it already
 * recorded (a resumed import). Resolves with the request's hash once every row is written; throws
 * an AppError for a file it cannot take (the rows before it stay written), ImportTakenOver, or
 * whatever broke the upload or the database.
 *
 * A pipeline of three: while chunk n is applied, chunk n+1 is read, checked, loaded and planned
 * (footprint.ts says when that plan must be made again after chunk n), and the file reads on.
 */
export async function importFile(database: Database, program: ProgramRow, record: MemberImportRow, bytes: AsyncIterable<Uint8Array>, actor: string, totals: RunTotals): Promise<string> {
  const format = record.format as ImportFormat
  const hash = requestHasher(format)
  const text = utf8Text(measured(bytes, hash))
  const records = format === 'csv' ? csvRecords(text) : ndjsonLines(text)
  const shape: ImportProgram = { country: program.country, timezone: program.timezone, currency: program.currency, exponent: currencyExponent(program.currency) ?? 0 }
  const rules = readRules(program.rules)
  let columns: CsvColumns | undefined
  let batch: FileRecord[] = []
  let planned = record.rowsRead
  let applying: Promise<PreparedChunk> | undefined
  let analyzeAt = ANALYZE_FIRST

  const prepare = async (rows: ReadRow[], now: Date, label: PreparedChunk['label'], rowsReadBefore: number): Promise<PreparedChunk> => {
    const known = await membersByKeys(database.db, program.id, record.id, chunkKeys(rows))
    const decisions = decideChunk(rows, known, { now, newId, label })
    const pointsExpireAt = lotExpiry(rules.pointsExpiry, program.timezone, now)
    const made = planChunk(program, { id: record.id, runner: record.runner, rowsRead: rowsReadBefore }, decisions, { now, actor, pointsExpireAt })
    return { rows, now, label, rowsReadBefore, ...made, footprint: footprintOf(rows, known, decisions) }
  }

  const apply = async (chunk: PreparedChunk): Promise<PreparedChunk> => {
    for (let attempt = 1; ; attempt++) {
      try {
        await database.apply(chunk.plan)
        break
      } catch (err) {
        if (err instanceof PlanError && err.code === STALE && err.message.includes('member_imports')) throw new ImportTakenOver()
        if (!plannedOnStale(err) || attempt >= 5) throw err
        chunk = await prepare(chunk.rows, chunk.now, chunk.label, chunk.rowsReadBefore)
      }
    }
    rememberAccounts(program.id, chunk.systemAccountIds)
    const c = chunk.counts
    totals.rows += c.rows
    totals.created += c.created
    totals.updated += c.updated
    totals.unchanged += c.unchanged
    totals.refused += c.refused
    totals.pointsOpened += c.pointsOpened
    totals.storedValueOpened += c.storedValueOpened
    if (totals.created - record.created >= analyzeAt) {
      await analyzeImportTables(database.db)
      analyzeAt *= 2
    }
    return chunk
  }

  /** Checks and plans the batch (while the previous chunk is applied), then applies it once that one committed. */
  const flush = async () => {
    if (batch.length === 0) return
    const now = new Date()
    const rows = batch.map((r) => (columns ? readCsvRow(r, columns, shape, now) : readNdjsonRow(r, shape, now)))
    const label = columns ? (f: string) => columns!.labels.get(f) ?? f : undefined
    batch = []
    const before = planned
    planned += rows.length
    let next = await prepare(rows, now, label, before)
    if (applying) {
      const previous = await applying
      if (!plannedIndependently(previous.footprint, next.footprint)) next = await prepare(rows, now, label, before)
    }
    applying = apply(next)
    // Handled here so that a failure while the next batch is read is not an unhandled rejection; it is thrown at the next await of it.
    applying.catch(() => undefined)
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
    await applying
  } catch (err) {
    // A chunk being applied finishes (or fails) before the import is settled either way.
    await applying?.catch(() => undefined)
    if (err instanceof UnreadableFile) throw unreadable(err.message)
    throw err
  }
  return hash.digest('base64url')
}
