import type { PassThrough, Readable } from 'node:stream'
import { StreamClosed, streamWhenStarted } from './output-stream.js'
import type postgres from 'postgres'
import type { SQL } from 'drizzle-orm'
import { PgDialect } from 'drizzle-orm/pg-core'

// PostgreSQL only: a query whose rows are single text columns (lines already formatted in SQL),
// streamed with `COPY (query) TO STDOUT (FORMAT binary)` through postgres.js. The rows arrive as
// the database sends them (no row objects, no per-row parsing beyond the framing), with
// back-pressure: the driver pauses the socket while the reader is behind, and PostgreSQL waits.

/**
 * COPY takes no bind parameters, so the query's parameters are written into its text as literals
 * (drizzle's inlining: strings quoted with '' doubled, numbers as they are). Only values the service
 * made go in (ids, ISO instants, zone names, currency codes); a backslash is refused so that the
 * text means the same whatever standard_conforming_strings is.
 */
export function inlinedText(query: SQL): string {
  const { sql, params } = new PgDialect().sqlToQuery(query.inlineParams())
  if (params.length > 0) throw new Error('a COPY query cannot take parameters')
  if (sql.includes('\\')) throw new Error('a COPY query must not contain a backslash')
  return sql
}

/** The binary COPY framing: "PGCOPY\n\377\r\n\0", flags (int32), header extension (int32 length + bytes). */
const SIGNATURE = Buffer.from('PGCOPY\n\xff\r\n\0', 'latin1')
const EMPTY = Buffer.alloc(0)

/**
 * Turns the bytes of a binary COPY of one text column into the concatenated texts: a tuple is a
 * field count (int16; -1 ends the data) and, per field, its length (int32; -1 is NULL) and bytes.
 * Chunks may split anything anywhere; what is not yet whole waits for the next chunk.
 */
export class BinaryCopyLines {
  private pending: Buffer = EMPTY
  private headerRead = false
  ended = false

  /**
   * The texts of the whole tuples in `chunks` (and before them), copied into one new buffer as the
   * tuples are found: no buffer object per tuple, and no buffer for the chunks joined.
   */
  push(chunks: Buffer[]): Buffer {
    const out = Buffer.allocUnsafe(chunks.reduce((n, c) => n + c.length, this.pending.length))
    let size = 0
    for (const chunk of chunks) size = this.read(this.pending.length === 0 ? chunk : Buffer.concat([this.pending, chunk]), out, size)
    return out.subarray(0, size)
  }

  /** Copies the texts of the whole tuples of `buf` into `out` from `size`; keeps what is not whole; the new size. */
  private read(buf: Buffer, out: Buffer, size: number): number {
    let at = 0
    if (!this.headerRead) {
      if (buf.length < 19) {
        this.pending = buf
        return size
      }
      if (!buf.subarray(0, 11).equals(SIGNATURE)) throw new Error('not a binary COPY stream')
      const extension = buf.readInt32BE(15)
      if (buf.length < 19 + extension) {
        this.pending = buf
        return size
      }
      at = 19 + extension
      this.headerRead = true
    }
    while (!this.ended && buf.length - at >= 2) {
      const fields = buf.readInt16BE(at)
      if (fields === -1) {
        this.ended = true
        at += 2
        break
      }
      if (fields !== 1) throw new Error(`a COPY of lines has one column, not ${fields}`)
      if (buf.length - at < 6) break
      const length = buf.readInt32BE(at + 2)
      if (length < 0) throw new Error('a COPY of lines has no NULL line')
      if (buf.length - at < 6 + length) break
      size += buf.copy(out, size, at + 6, at + 6 + length)
      at += 6 + length
    }
    // Keep a copy of the rest: a subarray would keep the whole (large) chunk alive.
    this.pending = at >= buf.length || this.ended ? EMPTY : Buffer.from(buf.subarray(at))
    return size
  }
}

/** About how many bytes of lines go to the reader in one write. */
const WRITE_BYTES = 256 * 1024

export interface CopyOptions {
  /** set_config(name, value, is_local) for the COPY's transaction (TimeZone, work_mem, …). */
  settings?: Record<string, string>
  /** First bytes of the stream, written before the COPY's lines (a CSV header). */
  head?: string
  /** Last bytes, written after them (e.g. nothing, or a footer the query cannot make). */
  highWaterMark?: number
}

/**
 * Streams the lines of `query` (one text column per row) inside a REPEATABLE READ READ ONLY
 * transaction. Resolves once the first bytes are ready (or the COPY ended without a row), so a
 * failure before any output (a bad query, the database down) is an ordinary error response; a
 * failure later destroys the stream (a truncated body: the client sees the connection cut).
 *
 * When the reader goes away mid-stream (the client closed its socket, so fastify destroyed the
 * stream), the statement is cancelled and the rest of the COPY is read and dropped until PostgreSQL
 * answers the cancel; the transaction then rolls back and the connection goes back to the pool.
 */
export async function copyLines(raw: postgres.Sql, query: SQL, options: CopyOptions = {}): Promise<Readable> {
  const text = `copy (${inlinedText(query)}) to stdout with (format binary)`
  return streamWhenStarted(options.highWaterMark ?? 64 * 1024, (out, started) =>
    raw.begin('isolation level repeatable read read only', async (tx) => {
      for (const [name, value] of Object.entries(options.settings ?? {})) await tx`select set_config(${name}, ${value}, true)`
      const copy = tx.unsafe(text)
      const source = (await copy.readable()) as unknown as Readable
      await pump(source, out, options.head ?? '', started, () => copy.cancel())
    }),
  )
}

/**
 * Moves the COPY's lines from the driver's stream to `out` with back-pressure. The driver's stream
 * is never destroyed here: the COPY's statement owns the connection until PostgreSQL has ended it
 * (a ROLLBACK sent before is refused: "COPY_IN_PROGRESS"), so when the reader goes away the
 * statement is cancelled and this waits, reading and dropping the rest, until the driver closes
 * the stream (done or cancelled); only then does the transaction end.
 */
function pump(source: Readable, out: PassThrough, head: string, start: () => void, cancel: () => unknown): Promise<void> {
  const lines = new BinaryCopyLines()
  // The driver hands over one chunk per CopyData message, i.e. one per row: the chunks are gathered
  // and their texts written to `out` in pieces of about WRITE_BYTES (or when the socket has nothing
  // more for now), not parsed and written a row at a time, which cost the service more CPU than
  // receiving them.
  let gathered: Buffer[] = []
  let gatheredBytes = 0
  let flushQueued = false
  return new Promise<void>((resolve, reject) => {
    let failure: unknown
    let ended = false
    const abandon = (err: unknown) => {
      if (failure !== undefined) return
      failure = err
      gathered = []
      source.off('data', onData)
      source.resume()
      void Promise.resolve(cancel()).catch(() => {})
    }
    const flush = () => {
      flushQueued = false
      if (failure !== undefined) return
      if (out.destroyed) return abandon(new StreamClosed())
      let body: Buffer
      try {
        body = lines.push(gathered)
      } catch (err) {
        return abandon(err)
      }
      gathered = []
      gatheredBytes = 0
      if (body.length === 0 && !(head && ended)) return
      const ok = out.write(head ? Buffer.concat([Buffer.from(head), body]) : body)
      head = ''
      start()
      if (!ok && !ended) {
        source.pause()
        out.once('drain', () => failure === undefined && source.resume())
      }
    }
    const onData = (chunk: Buffer) => {
      if (out.destroyed) return abandon(new StreamClosed())
      gathered.push(chunk)
      gatheredBytes += chunk.length
      if (gatheredBytes >= WRITE_BYTES) flush()
      else if (!flushQueued) {
        flushQueued = true
        setImmediate(flush)
      }
    }
    source.on('data', onData)
    out.once('close', () => {
      if (!ended) abandon(new StreamClosed())
    })
    source.once('end', () => {
      ended = true
      if (failure !== undefined) return
      flush()
      if (failure === undefined && !lines.ended) abandon(new Error('the COPY ended before its end marker'))
    })
    source.once('error', (err) => {
      if (failure === undefined) failure = err
    })
    source.once('close', () => (failure === undefined && ended ? resolve() : reject(failure ?? new Error('the COPY stream closed before its end'))))
  })
}
