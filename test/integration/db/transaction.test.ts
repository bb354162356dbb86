// Transactions of the one executor type (drizzle's, src/db/core.ts): they commit or roll back as a
// whole, commit hooks run only after a commit, and on PostgreSQL a deadline answers 503.
import t from 'tap'
import { setTimeout as sleep } from 'node:timers/promises'
import { sql } from 'drizzle-orm'
import { afterCommit, openDatabase, queryRows, type Executor } from '../../../src/db/client.js'
import { toAppError } from '../../../src/plugins/errors.js'
import { pgErrorOf } from '../../../src/shared/errors.js'
import { newId } from '../../../src/shared/ids.js'
import { onRealPostgres, openTestDatabase, testDatabaseUrl } from '../../helpers/app.js'

const database = await openTestDatabase()
t.teardown(() => database.close())
const programId = newId()

const insertKey = (ex: Executor, key: string) =>
  ex.execute(sql`insert into idempotency_keys (program_id, key, request_hash, response_status, response_body) values (${programId}::uuid, ${key}, 'h', 201, '{}'::jsonb)`)
const keysNamed = async (key: string) =>
  Number((await queryRows<{ n: string }>(database.db, sql`select count(*) as n from idempotency_keys where program_id = ${programId}::uuid and key = ${key}`))[0]!.n)

t.test('statements of one transaction commit together, and commit hooks run after', async (t) => {
  const hooks: string[] = []
  const answer = await database.transaction(async (tx) => {
    await insertKey(tx, 'ok-1')
    await insertKey(tx, 'ok-2')
    afterCommit(tx, () => hooks.push('committed'))
    t.same(hooks, [], 'no hook before the commit')
    return 'done'
  })
  t.equal(answer, 'done')
  t.same(hooks, ['committed'])
  t.equal(await keysNamed('ok-1'), 1)
  t.equal(await keysNamed('ok-2'), 1)
})

t.test('a failed statement rolls the whole transaction back and is the error', async (t) => {
  const hooks: string[] = []
  const failure = await database
    .transaction(async (tx) => {
      await insertKey(tx, 'dup-1')
      afterCommit(tx, () => hooks.push('committed'))
      await insertKey(tx, 'dup-1')
      return 'not reached'
    })
    .then(
      () => undefined,
      (err: unknown) => err,
    )
  t.equal(pgErrorOf(failure).constraint, 'idempotency_keys_pkey', 'the duplicate key is the answer')
  t.equal(await keysNamed('dup-1'), 0, 'the first insert was rolled back with it')
  t.same(hooks, [], 'no commit hook ran')
})

t.test('a thrown error rolls back what was written before it', async (t) => {
  await t.rejects(
    database.transaction(async (tx) => {
      await insertKey(tx, 'thrown-1')
      throw new Error('refused')
    }),
    { message: 'refused' },
  )
  t.equal(await keysNamed('thrown-1'), 0)
})

t.test('reads sent together on the executor answer each in its place', async (t) => {
  const [a, b] = await Promise.all([queryRows(database.db, sql`select 1 as one`), queryRows(database.db, sql`select 2 as two`)])
  t.same([a, b], [[{ one: 1 }], [{ two: 2 }]])
})

t.test('a transaction that outlives its deadline is answered as unavailable, and never commits', { skip: onRealPostgres ? false : 'the deadline is a PostgreSQL setting: PGlite runs in process' }, async (t) => {
  const short = await openDatabase({ url: testDatabaseUrl, dataDir: 'memory://', poolSize: 2, transactionTimeoutMs: 300 })
  t.teardown(() => short.close())
  const started = Date.now()
  const slow = await short
    .transaction(async (tx) => {
      await insertKey(tx, 'slow-1')
      await tx.execute(sql`select pg_sleep(2)`)
      return 'not reached'
    })
    .catch((e: unknown) => e)
  t.equal((slow as { code?: string }).code, 'TRANSACTION_TIMEOUT', 'a busy transaction gets the deadline')
  t.ok(Date.now() - started < 1500, 'answered at the deadline, not when the work ended')
  t.equal(toAppError(slow as Error).status, 503, 'which the API answers 503')

  // A session left idle inside a transaction is ended by the server: its locks and connection come back.
  const idle = await short
    .transaction(async (tx) => {
      await insertKey(tx, 'idle-1')
      await sleep(800)
      return tx.execute(sql`select 1`)
    })
    .catch((e: unknown) => e)
  t.ok(idle instanceof Error, 'the idle transaction failed')
  await sleep(2000) // pg_sleep ends; nothing of either transaction may have committed
  t.equal(await keysNamed('slow-1'), 0, 'the slow transaction did not commit')
  t.equal(await keysNamed('idle-1'), 0, 'the idle one neither')
  t.same(await queryRows<{ one: number }>(short.db, sql`select 1 as one`), [{ one: 1 }], 'the pool still works')
})
