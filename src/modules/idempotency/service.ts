import { createHash } from 'node:crypto'
import { sql } from 'drizzle-orm'
import { z } from 'zod'
import { queryRows, type Database, type Executor } from '../../db/client.js'
import { AppError, pgErrorOf } from '../../shared/errors.js'

/** An idempotency key: the Idempotency-Key header, and each sale's `idempotencyKey` in a batch upload. */
export const idempotencyKeySchema = z
  .string()
  .min(1)
  .max(255)
  .regex(/^[\x21-\x7e]+$/, 'visible ASCII characters only')
  .describe('Unique per program for each distinct write; a retry with the same key returns the original response')

export const idempotencyHeaderSchema = z.object({ 'idempotency-key': idempotencyKeySchema })

export interface StoredResponse {
  status: number
  body: unknown
  replayed: boolean
}

export const keyReused = () =>
  new AppError(422, 'IDEMPOTENCY_KEY_REUSED', 'Idempotency key reused', 'This Idempotency-Key was already used with a different request')

/** sha256 over the operation and its canonical JSON (keys sorted), so field order does not matter. */
export function requestHash(operation: string, payload: unknown): string {
  return createHash('sha256').update(operation).update('\n').update(canonicalJson(payload)).digest('base64url')
}

function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`
  if (value && typeof value === 'object') {
    return `{${Object.keys(value)
      .sort()
      .filter((k) => (value as Record<string, unknown>)[k] !== undefined)
      .map((k) => `${JSON.stringify(k)}:${canonicalJson((value as Record<string, unknown>)[k])}`)
      .join(',')}}`
  }
  return JSON.stringify(value) ?? 'null'
}

/** Business refusals are part of the answer and are stored; anything else (5xx, lost connections) may be retried. */
const isStorableFailure = (err: unknown): err is AppError => err instanceof AppError && err.status >= 400 && err.status < 500

/** The key was taken by a request that committed first (the insert waited for it on the unique index). */
const isKeyTaken = (err: unknown) => pgErrorOf(err).constraint === 'idempotency_keys_pkey'

type Work<X> = (x: X) => Promise<{ status: number; body: unknown }>

/** The table by name: idempotency_keys is declared in the ledger's tables, which this module does not import. */
export function recordKey(ex: Executor, programId: string, key: string, hash: string, status: number, body: unknown) {
  return ex.execute(
    sql`insert into idempotency_keys (program_id, key, request_hash, response_status, response_body)
        values (${programId}::uuid, ${key}, ${hash}, ${status}::smallint, ${JSON.stringify(body)}::jsonb)`,
  )
}

/**
 * Runs `work` at most once per (program, key). The key and the response are written last, in
 * the work's own transaction: a concurrent duplicate blocks on the unique index until the first
 * commits, then finds the key taken, rolls its own work back and returns the stored response.
 * Writing the key last costs one statement instead of two (claim, then record) and cannot
 * deadlock, since whoever reaches it first commits. A refusal (4xx) is stored too, so a retry
 * gets the same answer.
 */
export function runIdempotent(database: Database, programId: string, key: string, hash: string, work: Work<Executor>): Promise<StoredResponse> {
  return idempotently(database, programId, key, hash, () =>
    database.transaction(async (tx) => {
      const result = await work(tx)
      await recordKey(tx, programId, key, hash, result.status, result.body)
      return result
    }),
  )
}

/**
 * For work that writes its own idempotency record inside its plan (src/db/apply.ts): the key and
 * hash go into the plan; a key taken meanwhile, a refusal to store and a replay are handled as above.
 */
export function runIdempotentPlan(database: Database, programId: string, key: string, hash: string, work: (record: { key: string; hash: string }) => Promise<{ status: number; body: unknown }>): Promise<StoredResponse> {
  return idempotently(database, programId, key, hash, () => work({ key, hash }))
}

async function idempotently(
  database: Database,
  programId: string,
  key: string,
  hash: string,
  attempt: () => Promise<{ status: number; body: unknown }>,
): Promise<StoredResponse> {
  try {
    return { ...(await attempt()), replayed: false }
  } catch (err) {
    if (isKeyTaken(err)) return replay(database.db, programId, key, hash)
    if (isStorableFailure(err)) {
      const stored = await storeFailure(database, programId, key, hash, err)
      if (stored.replayed) return stored
    }
    throw err
  }
}

async function replay(ex: Executor, programId: string, key: string, hash: string): Promise<StoredResponse> {
  const [row] = await queryRows<{ request_hash: string; response_status: number; response_body: unknown }>(
    ex,
    sql`select request_hash, response_status, response_body from idempotency_keys where program_id = ${programId} and key = ${key}`,
  )
  if (!row) throw new AppError(409, 'IDEMPOTENCY_CONFLICT', 'Request in progress', 'Retry: the first request with this key did not finish')
  if (row.request_hash !== hash) throw keyReused()
  const body = typeof row.response_body === 'string' ? JSON.parse(row.response_body) : row.response_body
  return { status: Number(row.response_status), body, replayed: true }
}

/** Records a refusal under the key unless a concurrent duplicate already stored its own answer. */
async function storeFailure(database: Database, programId: string, key: string, hash: string, err: AppError): Promise<StoredResponse> {
  const body = { type: '', title: err.title, status: err.status, detail: err.message, code: err.code, ...err.extensions }
  const inserted = await queryRows(
    database.db,
    sql`insert into idempotency_keys (program_id, key, request_hash, response_status, response_body)
        values (${programId}, ${key}, ${hash}, ${err.status}, ${JSON.stringify(body)}::jsonb)
        on conflict do nothing returning key`,
  )
  if (inserted.length > 0) return { status: err.status, body, replayed: false }
  return replay(database.db, programId, key, hash)
}
