import type { PassThrough, Readable } from 'node:stream'
import { sql } from 'drizzle-orm'
import type { Database, Executor } from './client.js'
import { StreamClosed, streamWhenStarted } from './output-stream.js'

/**
 * Reports read in one REPEATABLE READ READ ONLY transaction: every query sees the same snapshot,
 * so a report taken while purchases are posting still balances. drizzle sends
 * `SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY` first on both drivers (postgres.js:
 * in its BEGIN; PGlite: as the first statement of the transaction).
 */
const SNAPSHOT = { isolationLevel: 'repeatable read', accessMode: 'read only' } as const

export interface SnapshotOptions {
  /** Session time zone for the transaction: date_trunc, ::date and to_char then work in the program's zone. */
  timezone?: string
}

export async function inSnapshot<T>(database: Database, fn: (tx: Executor) => Promise<T>, options: SnapshotOptions = {}): Promise<T> {
  return database.db.transaction(async (raw) => {
    const tx = raw as unknown as Executor
    if (options.timezone) await tx.execute(sql`select set_config('TimeZone', ${options.timezone}, true)`)
    return fn(tx)
  }, SNAPSHOT)
}

export type ChunkWriter = (chunk: string) => Promise<void>

/**
 * A byte stream produced inside one snapshot with bounded memory: `produce` writes chunks and each
 * write waits while the reader is more than one buffer behind, so at most one batch plus the
 * stream buffer is ever held. Resolves once the first chunk is written (or `produce` finished), so
 * a failure before any output (a bad query, the database down) still becomes a proper error
 * response; a failure later destroys the stream and the connection is cut (a truncated body).
 */
export async function streamSnapshot(
  database: Database,
  produce: (tx: Executor, write: ChunkWriter) => Promise<void>,
  options: SnapshotOptions & { highWaterMark?: number } = {},
): Promise<Readable> {
  return streamWhenStarted(options.highWaterMark ?? 64 * 1024, (out, started) => {
    const write: ChunkWriter = async (chunk) => {
      if (out.destroyed) throw new StreamClosed()
      started()
      if (!out.write(chunk)) await drained(out)
    }
    return inSnapshot(database, (tx) => produce(tx, write), options)
  })
}

function drained(stream: PassThrough): Promise<void> {
  return new Promise((resolve, reject) => {
    if (stream.destroyed) return reject(new StreamClosed())
    const onDrain = () => {
      stream.off('close', onClose)
      resolve()
    }
    const onClose = () => {
      stream.off('drain', onDrain)
      reject(new StreamClosed())
    }
    stream.once('drain', onDrain)
    stream.once('close', onClose)
  })
}
