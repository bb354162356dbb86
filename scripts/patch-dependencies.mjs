// postinstall: repairs two defects of postgres.js 3.4.x (the newest release) that show when
// PostgreSQL drops a connection: a restart, a failover, pg_terminate_backend. Both are reported
// upstream (porsager/postgres#1154, #1208; fixes proposed, not released). The reliability suite
// (test/reliability/db-outage.test.ts) terminates the service's backends and fails without them.
//
// 1. connection.js: `nextWrite` runs from a setImmediate after `closed()` has set the socket to
//    null and throws a TypeError no caller can catch: the process dies. Teardown also cleared the
//    write timer without forgetting it, so a reconnected connection never flushed again.
//    And it kept the answer state of the lost session (the current query, and the FATAL error
//    PostgreSQL sent before closing): the reconnected session then failed its first statement
//    with that old error (57P01 for a request that arrived after the outage).
//    And a statement written after the socket failed but before it closed (a transaction's
//    ROLLBACK, sent as soon as its statement failed with ECONNRESET) stayed queued for an answer
//    across the reconnect: every answer of the new session then went to the statement before
//    the one that asked, and the last one waited forever (seen as a purchase answered 503 at the
//    transaction deadline after a terminated backend). Every statement still waiting is now
//    rejected when the connection closes.
//    Not a defect but measured: it wrote any statement of 1 kB or more to the socket at once, so a
//    pipelined purchase (statements carrying JSON) cost several writes; it now gathers up to 64 kB
//    and writes once per event-loop turn, as it already did for small statements (npm run bench:
//    low-contention purchases 300-318/s before, 324-403/s after, on this 2-core machine).
//    And every new session reads the type catalog before it runs the statement that opened it,
//    and that read's promise was dropped: when the session was lost during the read and the
//    reconnect refused (a restarting server), the rejection went unhandled, which stops the
//    service (close-with-grace). It is now observed; the waiting statement still fails with the
//    same error (db-outage.test.ts, "type catalog").
// 2. index.js: a transaction (`sql.begin`) whose connection closed kept sending: the pool
//    reconnects the same connection object, and the dead transaction's ROLLBACK and any
//    statement its callback still issued ran on the new session, inside another request's
//    transaction or outside any (a partial write), and could leave that request waiting forever.
//    Now a transaction whose connection closed rejects every later statement at once.
// 3. index.js: statements queued on a reserved connection (`sql.reserve()`, used by the pipelined
//    hot path) while it was busy were never settled when it closed: the request hung forever, and
//    releasing the dead connection put it back in the pool as if it were open.
//
// Idempotent. When the driver's code has changed (a new release), it says so and changes nothing.
import { existsSync, readFileSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'

const MARK = '/* loyalty-ledger: closed-connection guard */'

const patches = {
  'connection.js': [
    ['    if (fn || chunk.length >= 1024)\n', '    if (fn || chunk.length >= 65536)\n'],
    [
      "    !hadError && (query || sent.length) && error(Errors.connection('CONNECTION_CLOSED', options, socket))\n",
      "    !hadError && (query || sent.length) && error(Errors.connection('CONNECTION_CLOSED', options, socket))\n    while (sent.length) queryError(sent.shift(), Errors.connection('CONNECTION_CLOSED', options))\n    query = results = errorResponse = null\n    result = new Result()\n",
    ],
    [
      '  function nextWrite(fn) {\n    const x = socket.write(chunk, fn)',
      `  function nextWrite(fn) {\n    if (!socket) { ${MARK}\n      nextWriteTimer !== null && clearImmediate(nextWriteTimer)\n      chunk = nextWriteTimer = null\n      error(Errors.connection('CONNECTION_CLOSED', options))\n      return false\n    }\n    const x = socket.write(chunk, fn)`,
    ],
    ['    clearImmediate(nextWriteTimer)\n    if (socket) {', '    clearImmediate(nextWriteTimer)\n    chunk = nextWriteTimer = null\n    if (socket) {'],
    ['    clearImmediate(nextWriteTimer)\n    socket.removeListener(', '    clearImmediate(nextWriteTimer)\n    chunk = nextWriteTimer = null\n    socket.removeListener('],
    [
      '        initial.reserve && (initial = null)\n        return fetchArrayTypes()\n',
      '        initial.reserve && (initial = null)\n        return fetchArrayTypes().catch(() => {}) // the statement waiting for the session fails with the same error\n',
    ],
  ],
  'index.js': [
    [
      "      return await Promise.race([\n        scope(connection, fn),\n        new Promise((_, reject) => connection.onclose = reject)\n      ])",
      `      return await Promise.race([\n        scope(connection, fn),\n        new Promise((_, reject) => connection.onclose = (e) => { ${MARK}\n          lost = e\n          while (queries.length) queries.shift().reject(e)\n          reject(e)\n        })\n      ])`,
    ],
    [
      '    let savepoints = 0\n      , connection\n      , prepare = null',
      '    let savepoints = 0\n      , connection\n      , prepare = null\n      , lost = null',
    ],
    [
      '      function handler(q) {\n        q.catch(e => uncaughtError || (uncaughtError = e))\n        c.queue === full',
      '      function handler(q) {\n        q.catch(e => uncaughtError || (uncaughtError = e))\n        if (lost)\n          return q.reject(lost)\n        c.queue === full',
    ],
    [
      '    c.reserved.release = true\n\n    const sql = Sql(handler)\n    sql.release = () => {\n      c.reserved = null\n      onopen(c)\n    }',
      `    c.reserved.release = true\n    c.reservedQueue = queue ${MARK}\n\n    const sql = Sql(handler)\n    sql.release = () => {\n      c.reserved = null\n      c.reservedQueue = null\n      c.queue === closed || onopen(c)\n    }`,
    ],
    [
      '    function handler(q) {\n      c.queue === full\n        ? queue.push(q)\n        : c.execute(q) || move(c, full)\n    }',
      "    function handler(q) {\n      c.queue === closed\n        ? q.reject(Errors.connection('CONNECTION_CLOSED', options))\n        : c.queue === full\n        ? queue.push(q)\n        : c.execute(q) || move(c, full)\n    }",
    ],
    [
      '  function onclose(c, e) {\n    move(c, closed)\n    c.reserved = null',
      '  function onclose(c, e) {\n    move(c, closed)\n    while (c.reservedQueue && c.reservedQueue.length) c.reservedQueue.shift().reject(e)\n    c.reserved = null',
    ],
  ],
}

let root
try {
  root = dirname(dirname(dirname(createRequire(import.meta.url).resolve('postgres')))) // <root>/cjs/src/index.js
} catch {
  process.exit(0) // not installed (a partial install): nothing to patch
}
for (const [name, edits] of Object.entries(patches)) {
  for (const file of ['src', 'cjs/src', 'cf/src'].map((d) => join(root, d, name))) {
    if (!existsSync(file)) continue
    let text = readFileSync(file, 'utf8')
    if (text.includes(MARK)) continue
    if (!edits.every(([from]) => text.includes(from))) {
      console.warn(`patch-dependencies: ${file} differs from postgres.js 3.4.9; the closed-connection guard was not applied (check whether the release fixed it)`)
      continue
    }
    for (const [from, to] of edits) text = text.replace(from, to)
    writeFileSync(file, text)
    console.log(`patch-dependencies: applied the closed-connection guard to ${file}`)
  }
}
