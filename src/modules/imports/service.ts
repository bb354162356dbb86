// POST /v1/members/imports as a whole: the Idempotency-Key names the import. A new key starts
// one; the key of a finished import replays its answer (after checking the file is the same); the
// key of an import still running is 409 while its request lives, and takes it over once that
// request is gone (the upload broke off, or the process died), resuming after the last chunk
// written. The answer is the import's record, written last with the idempotency record.
import type { RowStep } from '../../db/apply.js'
import type { Database } from '../../db/client.js'
import { AppError, pgErrorOf } from '../../shared/errors.js'
import { newId } from '../../shared/ids.js'
import { keyReused, type StoredResponse } from '../idempotency/service.js'
import type { ProgramRow } from '../programs/tables.js'
import { findImportByKey, insertImport, keyAnsweredElsewhere, markInterrupted, takeOver } from './repository.js'
import { hashOf, importFile, importTooLarge, ImportTakenOver, MAX_BYTES, type RunTotals } from './run.js'
import type { ImportFormat } from './rows.js'
import type { MemberImportRow } from './tables.js'
import { importView } from './views.js'

/** A running import whose request wrote nothing for this long has lost it (a chunk takes well under a second; the database gives up on a transaction after 15 s). */
export const ABANDONED_AFTER_MS = 60_000

export const importInProgress = (importId: string) =>
  new AppError(409, 'IDEMPOTENCY_CONFLICT', 'Request in progress', 'An import with this Idempotency-Key is still running; retry later with the same key for its answer', { importId })

export interface ImportRequest {
  format: ImportFormat
  key: string
  bytes: AsyncIterable<Uint8Array>
  /** The Content-Length, when the client sent one: a file over the limit is refused before a byte is read. */
  contentLength?: number
  actor: string
}

export type ImportAnswer = StoredResponse & { importId?: string }

const problemOf = (err: AppError) => ({ type: '', title: err.title, status: err.status, detail: err.message, code: err.code, ...err.extensions })

/** What the import answers once settled: 201 and the import, or the problem that stopped it. */
export function answerOf(record: MemberImportRow, currency: string): { status: number; body: unknown } {
  if (record.status === 'failed' && record.problem) return { status: record.problem.status, body: record.problem }
  return { status: 201, body: importView(record, currency) }
}

export async function importMembers(database: Database, program: ProgramRow, request: ImportRequest): Promise<ImportAnswer> {
  if (request.contentLength !== undefined && request.contentLength > MAX_BYTES) throw importTooLarge(`the file is larger than ${MAX_BYTES / 1024 / 1024} MB`)
  const db = database.db
  const runner = newId()
  let record = await findImportByKey(db, program.id, request.key)
  if (!record) {
    if (await keyAnsweredElsewhere(db, program.id, request.key)) throw keyReused()
    const created = await insertImport(db, { programId: program.id, id: newId(), idempotencyKey: request.key, format: request.format, status: 'running', runner, createdBy: request.actor })
    if (created) return run(database, program, created, request)
    record = (await findImportByKey(db, program.id, request.key))!
  }
  if (record.format !== request.format) throw keyReused()
  if (record.status === 'completed' || record.status === 'failed') {
    // A failed import stopped reading at its limit, so it kept no hash: its refusal answers any retry.
    if (record.requestHash !== null && (await hashOf(request.format, request.bytes)) !== record.requestHash) throw keyReused()
    return { ...answerOf(record, program.currency), replayed: true, importId: record.id }
  }
  const abandonedBefore = new Date(Date.now() - ABANDONED_AFTER_MS)
  const taken = record.status === 'interrupted' || record.updatedAt < abandonedBefore ? await takeOver(db, record, runner, abandonedBefore) : undefined
  if (!taken) throw importInProgress(record.id)
  return run(database, program, taken, request)
}

async function run(database: Database, program: ProgramRow, record: MemberImportRow, request: ImportRequest): Promise<ImportAnswer> {
  const totals: RunTotals = {
    rows: record.rowsRead,
    created: record.created,
    updated: record.updated,
    unchanged: record.unchanged,
    refused: record.refused,
    pointsOpened: record.pointsOpened,
    storedValueOpened: record.storedValueOpened,
  }
  let hash: string
  try {
    hash = await importFile(database, program, record, request.bytes, request.actor, totals)
  } catch (err) {
    if (err instanceof ImportTakenOver) throw importInProgress(record.id)
    if (err instanceof AppError && err.status >= 400 && err.status < 500) {
      const stopped = new AppError(err.status, err.code, err.title, err.message, { ...err.extensions, importId: record.id, rowsRead: totals.rows })
      await settle(database, program, record, totals, { status: 'failed', hash: null, problem: problemOf(stopped) })
      throw stopped
    }
    // The upload broke off or the database failed: the same key resumes after the last chunk written.
    await markInterrupted(database.db, program.id, record.id, record.runner).catch(() => undefined)
    throw err
  }
  const settled = await settle(database, program, record, totals, { status: 'completed', hash, problem: null })
  return { ...answerOf(settled, program.currency), replayed: false, importId: record.id }
}

/** Writes the import's end and its idempotency record in one plan; the answer is built from the record as GET shows it. */
async function settle(
  database: Database,
  program: ProgramRow,
  record: MemberImportRow,
  totals: RunTotals,
  end: { status: 'completed' | 'failed'; hash: string | null; problem: ReturnType<typeof problemOf> | null },
): Promise<MemberImportRow> {
  const now = new Date()
  const settled: MemberImportRow = {
    ...record,
    status: end.status,
    rowsRead: totals.rows,
    created: totals.created,
    updated: totals.updated,
    unchanged: totals.unchanged,
    refused: totals.refused,
    pointsOpened: totals.pointsOpened,
    storedValueOpened: totals.storedValueOpened,
    requestHash: end.hash,
    problem: end.problem,
    updatedAt: now,
    completedAt: now,
  }
  const answer = answerOf(settled, program.currency)
  const ending: RowStep = {
    op: 'update',
    table: 'member_imports',
    key: { id: record.id },
    set: { status: end.status, request_hash: end.hash, problem: end.problem, updated_at: now.toISOString(), completed_at: now.toISOString() },
    expect: { runner: record.runner, status: 'running', rows_read: totals.rows },
  }
  const idempotency = { key: record.idempotencyKey, hash: end.hash ?? `member-import:${record.id}`, status: answer.status, body: answer.body }
  try {
    await database.apply({ program: program.id, rows: [ending], idempotency })
  } catch (err) {
    if (err instanceof Error && /stale:member_imports/.test(err.message)) throw importInProgress(record.id)
    // Another operation took the key meanwhile: the import is still its key's answer (member_imports keeps it).
    if (pgErrorOf(err).constraint !== 'idempotency_keys_pkey') throw err
    await database.apply({ program: program.id, rows: [ending] })
  }
  return settled
}
