import { randomFillSync } from 'node:crypto'
import { v7 as uuidv7 } from 'uuid'

// Random bytes are drawn from the CSPRNG 4 kB at a time: uuid's own v7 asks crypto.getRandomValues
// for 16 bytes per id, which cost about ten times the rest of making one (a sale makes some 15 ids).
const pool = new Uint8Array(4096)
let offset = pool.length
const state = { msecs: -Infinity, seq: 0 }

function random16(): Uint8Array {
  if (offset === pool.length) {
    randomFillSync(pool)
    offset = 0
  }
  offset += 16
  return pool.subarray(offset - 16, offset)
}

/**
 * Time-ordered ids (UUIDv7, RFC 9562): new rows land at the right edge of the index and sort by
 * creation. Within one millisecond a counter seeded at random orders them (RFC 9562 method 1, as
 * uuid's own v7 does); past its end the millisecond moves on, so ids of one process always increase.
 */
export function newId(): string {
  const random = random16()
  const now = Date.now()
  if (now > state.msecs) {
    state.msecs = now
    state.seq = ((random[6]! & 0x7f) << 24) | (random[7]! << 16) | (random[8]! << 8) | random[9]!
  } else {
    state.seq = (state.seq + 1) | 0
    if (state.seq === 0) state.msecs++
  }
  return uuidv7({ random, msecs: state.msecs, seq: state.seq })
}
