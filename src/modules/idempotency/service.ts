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

/**
 * The key space of the platform admin's writes (POST /v1/programs), which belong to no program
 * yet: no program has the nil UUID as its id.
 */
export const PLATFORM_SCOPE = '00000000-0000-0000-0000-000000000000'

/** How long a key is remembered unless IDEMPOTENCY_RETENTION_DAYS says otherwise; the bounds are the config's. */
export const DEFAULT_RETENTION_DAYS = 30
export const MIN_RETENTION_DAYS = 1
export const MAX_RETENTION_DAYS = 3650

const retentionDays = new WeakMap<Database, number>()

/** The app sets the configured retention on its database once; the write paths and the purge job read it. */
export function setIdempotencyRetention(database: Database, days: number): void {
  retentionDays.set(database, days)
}

export const idempotencyRetentionDays = (database: Database): number => retentionDays.get(database) ?? DEFAULT_RETENTION_DAYS

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
export function runIdempotent(database: Database, programId: string, key: string, hash: string, work: Work<Executor>, options: IdempotentOptions = {}): Promise<StoredResponse> {
  return idempotently(database, programId, key, hash, async () => {
    try {
      return await database.transaction(async (tx) => {
        const result = await work(tx)
        await recordKey(tx, programId, key, hash, result.status, result.body)
        return result
      })
    } catch (err) {
      if (isKeyTaken(err) || !options.mapError) throw err
      throw options.mapError(err)
    }
  })
}

export interface IdempotentOptions {
  /**
   * Turns a database error of the work (a unique violation: a duplicate phone, a code taken) into
   * the refusal it means, after the transaction rolled back; the refusal is then stored like any other.
   */
  mapError?: (err: unknown) => unknown
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
  // A second round only after an expired record was deleted: the key is new again.
  for (let round = 0; ; round += 1) {
    let stored: StoredResponse | typeof EXPIRED
    try {
      return { ...(await attempt()), replayed: false }
    } catch (err) {
      if (isKeyTaken(err)) stored = await replay(database, programId, key, hash)
      else if (isStorableFailure(err)) {
        stored = await storeFailure(database, programId, key, hash, err)
        if (stored !== EXPIRED && !stored.replayed) throw err
      } else throw err
      if (stored !== EXPIRED) return stored
      if (round > 0) throw inProgress()
    }
  }
}

const EXPIRED = Symbol('expired')
const inProgress = () => new AppError(409, 'IDEMPOTENCY_CONFLICT', 'Request in progress', 'Retry: the first request with this key did not finish')

/**
 * The stored answer of the key. A record older than the retention is no answer: it is deleted
 * here (only if still expired, so a fresh one written meanwhile stays) and the caller runs the
 * request as new, whether or not the purge job has run.
 */
async function replay(database: Database, programId: string, key: string, hash: string): Promise<StoredResponse | typeof EXPIRED> {
  const days = idempotencyRetentionDays(database)
  const [row] = await queryRows<{ request_hash: string; response_status: number; response_body: unknown; expired: boolean }>(
    database.db,
    sql`select request_hash, response_status, response_body, created_at <= now() - ${days}::int * interval '1 day' as expired
          from idempotency_keys where program_id = ${programId} and key = ${key}`,
  )
  if (!row) throw inProgress()
  if (row.expired) {
    await queryRows(database.db, sql`delete from idempotency_keys where program_id = ${programId} and key = ${key} and created_at <= now() - ${days}::int * interval '1 day'`)
    return EXPIRED
  }
  if (row.request_hash !== hash) throw keyReused()
  const body = typeof row.response_body === 'string' ? JSON.parse(row.response_body) : row.response_body
  return { status: Number(row.response_status), body, replayed: true }
}

/** Records a refusal under the key unless a concurrent duplicate already stored its own answer. */
async function storeFailure(database: Database, programId: string, key: string, hash: string, err: AppError): Promise<StoredResponse | typeof EXPIRED> {
  const body = { type: '', title: err.title, status: err.status, detail: err.message, code: err.code, ...err.extensions }
  const inserted = await queryRows(
    database.db,
    sql`insert into idempotency_keys (program_id, key, request_hash, response_status, response_body)
        values (${programId}, ${key}, ${hash}, ${err.status}, ${JSON.stringify(body)}::jsonb)
        on conflict do nothing returning key`,
  )
  if (inserted.length > 0) return { status: err.status, body, replayed: false }
  return replay(database, programId, key, hash)
}
