import { PassThrough, type Readable } from 'node:stream'
import { sql } from 'drizzle-orm'
import type { Database, Executor } from './client.js'

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
  /** Other settings for the transaction alone (set_config(name, value, true)): work_mem for a large aggregate, say. */
  settings?: Record<string, string>
}

export async function inSnapshot<T>(database: Database, fn: (tx: Executor) => Promise<T>, options: SnapshotOptions = {}): Promise<T> {
  return database.db.transaction(async (raw) => {
    const tx = raw as unknown as Executor
    if (options.timezone) await tx.execute(sql`select set_config('TimeZone', ${options.timezone}, true)`)
    for (const [name, value] of Object.entries(options.settings ?? {})) await tx.execute(sql`select set_config(${name}, ${value}, true)`)
    return fn(tx)
  }, SNAPSHOT)
}

/** The reader went away (client disconnected): the producer stops and the snapshot is rolled back. */
export class StreamClosed extends Error {
  override name = 'StreamClosed'
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
  const out = new PassThrough({ highWaterMark: options.highWaterMark ?? 64 * 1024 })
  let begun = false
  let begin!: () => void
  let failEarly!: (err: unknown) => void
  const ready = new Promise<void>((resolve, reject) => {
    begin = resolve
    failEarly = reject
  })

  const write: ChunkWriter = async (chunk) => {
    if (out.destroyed) throw new StreamClosed()
    if (!begun) {
      begun = true
      begin()
    }
    if (!out.write(chunk)) await drained(out)
  }

  inSnapshot(database, (tx) => produce(tx, write), options).then(
    () => {
      begun = true
      begin()
      out.end()
    },
    (err: unknown) => {
      if (!begun) failEarly(err)
      else if (!(err instanceof StreamClosed)) out.destroy(err as Error)
    },
  )
  await ready
  return out
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
