import { PassThrough, type Readable } from 'node:stream'

// The ending both streamed answers share (./snapshot.ts's pages, ./copy.ts's COPY): the stream is
// handed to the route once its first bytes are ready, so a failure before any output (a bad query,
// the database down) is still an ordinary error response, while a failure after it destroys the
// stream (a truncated body: the client sees the connection cut).

/** The reader went away (client disconnected): the producer stops and its transaction is rolled back. */
export class StreamClosed extends Error {
  override name = 'StreamClosed'
}

/**
 * Runs `produce` writing to a new stream and resolves with that stream once `produce` calls
 * `started` (its first bytes are written) or finishes; rejects if `produce` fails before that. A
 * later failure destroys the stream, except StreamClosed: the reader is gone and there is no one
 * to tell.
 */
export async function streamWhenStarted(highWaterMark: number, produce: (out: PassThrough, started: () => void) => Promise<void>): Promise<Readable> {
  const out = new PassThrough({ highWaterMark })
  let begun = false
  let begin!: () => void
  let failEarly!: (err: unknown) => void
  const ready = new Promise<void>((resolve, reject) => {
    begin = resolve
    failEarly = reject
  })
  const started = () => {
    if (begun) return
    begun = true
    begin()
  }
  produce(out, started).then(
    () => {
      started()
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
