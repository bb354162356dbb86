// Pipelined transactions (src/db/pipeline.ts): statements sent without waiting for each other
// still commit or roll back together, on PGlite and on PostgreSQL.
import t from 'tap'
import { setTimeout as sleep } from 'node:timers/promises'
import { openDatabase } from '../../../src/db/client.js'
import { allInOrder } from '../../../src/db/pipeline.js'
import { toAppError } from '../../../src/plugins/errors.js'
import { pgErrorOf } from '../../../src/shared/errors.js'
import { newId } from '../../../src/shared/ids.js'
import { onRealPostgres, openTestDatabase, testDatabaseUrl } from '../../helpers/app.js'

const database = await openTestDatabase()
t.teardown(() => database.close())
const programId = newId()

const insertKey = 'insert into idempotency_keys (program_id, key, request_hash, response_status, response_body) values ($1::uuid, $2, $3, 201, $4::jsonb)'
const keysNamed = async (key: string) =>
  Number((await database.pipelined((p) => p.run<{ n: string }>('select count(*) as n from idempotency_keys where program_id = $1::uuid and key = $2', [programId, key])))[0]!.n)

t.test('statements sent together commit together, and commit hooks run after', async (t) => {
  const hooks: string[] = []
  const answer = await database.pipelined(async (p) => {
    const first = p.run(insertKey, [programId, 'ok-1', 'h', '{}'])
    void p.run(insertKey, [programId, 'ok-2', 'h', '{}']) // never awaited by the caller
    p.afterCommit(() => hooks.push('committed'))
    await first
    t.same(hooks, [], 'no hook before the commit')
    return 'done'
  })
  t.equal(answer, 'done')
  t.same(hooks, ['committed'])
  t.equal(await keysNamed('ok-1'), 1)
  t.equal(await keysNamed('ok-2'), 1)
})

t.test('a failed statement nobody awaited rolls the whole transaction back and is the error', async (t) => {
  const hooks: string[] = []
  const failure = await database
    .pipelined(async (p) => {
      await p.run(insertKey, [programId, 'dup-1', 'h', '{}'])
      void p.run(insertKey, [programId, 'dup-1', 'h', '{}'])
      p.afterCommit(() => hooks.push('committed'))
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

t.test('a thrown error rolls back what was sent before it', async (t) => {
  await t.rejects(
    database.pipelined(async (p) => {
      void p.run(insertKey, [programId, 'thrown-1', 'h', '{}'])
      throw new Error('refused')
    }),
    { message: 'refused' },
  )
  t.equal(await keysNamed('thrown-1'), 0)
})

t.test('allInOrder reports the first failure in the order sent', async (t) => {
  const error = await database
    .pipelined(async (p) => {
      const a = p.run('select 1 as one')
      const b = p.run('select 1 / 0 as boom')
      const c = p.run('select 2 as two') // runs in an aborted transaction
      return allInOrder([a, b, c] as const)
    })
    .then(
      () => undefined,
      (err: unknown) => err,
    )
  t.equal(pgErrorOf(error).code, '22012', 'division by zero, not the aborted-transaction error after it')
  t.same(await database.pipelined((p) => allInOrder([p.run('select 1 as one'), p.run('select 2 as two')] as const)), [[{ one: 1 }], [{ two: 2 }]])
})

t.test('a transaction that outlives its deadline is answered as unavailable, and never commits', { skip: onRealPostgres ? false : 'the deadline is a PostgreSQL setting: PGlite runs in process' }, async (t) => {
  const short = await openDatabase({ url: testDatabaseUrl, dataDir: 'memory://', poolSize: 2, transactionTimeoutMs: 300 })
  t.teardown(() => short.close())
  const started = Date.now()
  const slow = await short
    .pipelined(async (p) => {
      await p.run(insertKey, [programId, 'slow-1', 'h', '{}'])
      await p.run('select pg_sleep(2)')
      return 'not reached'
    })
    .catch((e: unknown) => e)
  t.equal((slow as { code?: string }).code, 'TRANSACTION_TIMEOUT', 'a busy transaction gets the deadline')
  t.ok(Date.now() - started < 1500, 'answered at the deadline, not when the work ended')
  t.equal(toAppError(slow as Error).status, 503, 'which the API answers 503')

  // A session left idle inside a transaction is ended by the server: its locks and connection come back.
  const idle = await short
    .pipelined(async (p) => {
      await p.run(insertKey, [programId, 'idle-1', 'h', '{}'])
      await sleep(800)
      return p.run('select 1')
    })
    .catch((e: unknown) => e)
  t.ok(idle instanceof Error, 'the idle transaction failed')
  await sleep(2000) // pg_sleep ends; nothing of either transaction may have committed
  t.equal(await keysNamed('slow-1'), 0, 'the slow transaction did not commit')
  t.equal(await keysNamed('idle-1'), 0, 'the idle one neither')
  t.same(await short.pipelined((p) => p.run<{ one: number }>('select 1 as one')), [{ one: 1 }], 'the pool still works')
})
