import t, { type Test } from 'tap'
import { request } from 'undici'
import postgres from 'postgres'
import { sql } from 'drizzle-orm'
import { setTimeout as sleep } from 'node:timers/promises'
import { buildApp } from '../../src/app.js'
import { openDatabase, queryRows, type Database } from '../../src/db/client.js'
import { onRealPostgres, testConfig, testDatabaseUrl, TestApp } from '../helpers/app.js'
import { accountCode, accountId, memberPoints, pointsIssued, POINTS } from '../../src/modules/ledger/accounts.js'

// An export cut off mid-stream gives its connection back: by the client closing its socket (the
// COPY is cancelled, the transaction rolled back) or by the database ending the session (the
// stream is destroyed, the pool reconnects). The app's pool has ONE connection, so a connection
// kept by a dead export would hang the next statement (the test would time out), and the session
// would still be seen in pg_stat_activity running the COPY or idle in its transaction.
const REAL_PG = onRealPostgres ? false : 'needs real PostgreSQL (TEST_DATABASE_URL): the COPY path is PostgreSQL only'
const APPLICATION = `export-interrupted-${process.pid}`

t.test('interrupted exports', { skip: REAL_PG }, async (t) => {
  const url = new URL(testDatabaseUrl!)
  url.searchParams.set('application_name', APPLICATION)
  const database = await openDatabase({ url: url.toString(), dataDir: 'memory://', poolSize: 1 })
  const app = await buildApp(testConfig(), { database })
  t.teardown(async () => {
    await app.close()
    await database.close()
  })
  await app.listen({ port: 0, host: '127.0.0.1' })
  const base = `http://127.0.0.1:${(app.server.address() as { port: number }).port}`
  const ctx = new TestApp(app, database)
  const program = await ctx.createProgram()
  await seedPostings(database, program.id, 60_000)

  // Another client watches the app's sessions: the app's only connection may be the export's.
  const admin = postgres(testDatabaseUrl!, { max: 1, onnotice: () => {} })
  t.teardown(() => admin.end())
  const sessions = () => admin<{ state: string; query: string }[]>`select state, left(query, 40) as query from pg_stat_activity where application_name = ${APPLICATION}`
  /** The export's session is gone or idle outside a transaction, and a statement on the pool of one runs. */
  async function released(t: Test) {
    let rest: { state: string; query: string }[] = []
    for (let i = 0; i < 100; i++) {
      rest = [...(await sessions())].filter((s) => s.state !== 'idle')
      if (rest.length === 0) break
      await sleep(50)
    }
    t.same(rest, [], 'no session of the app still in the export')
    // In a transaction of its own: one left open by the export would have an older now().
    t.same(await queryRows(database.db, sql`select now() = statement_timestamp() as fresh`), [{ fresh: true }], 'the pool of one runs the next statement, outside any transaction')
  }

  const open = async (path: string) => {
    const res = await request(`${base}${path}`, { headers: { authorization: `Bearer ${program.token}` } })
    t.equal(res.statusCode, 200)
    const reader = res.body[Symbol.asyncIterator]()
    const first = await reader.next()
    t.ok(!first.done && (first.value as Buffer).length > 0, 'the export has begun')
    return res
  }
  const year = 'from=2025-01-01&to=2026-01-01'

  for (const format of ['csv', 'ndjson']) {
    t.test(`the client closes its socket during the ${format} journal`, async (t) => {
      const res = await open(`/v1/exports/journal?${year}&format=${format}`)
      res.body.destroy()
      await released(t)
    })
  }

  t.test('the database ends the session during the journal', async (t) => {
    const res = await open(`/v1/exports/journal?${year}&format=csv`)
    const [copy] = await admin<{ pid: number }[]>`select pid from pg_stat_activity where application_name = ${APPLICATION} and query like 'copy (%'`
    t.ok(copy, 'the COPY runs')
    await admin`select pg_terminate_backend(${copy!.pid})`
    let failed = false
    try {
      for await (const chunk of res.body) void chunk
    } catch {
      failed = true
    }
    t.ok(failed, 'the body is cut, not ended as if complete')
    await released(t)
  })

  t.test('after all that, a whole export still streams', async (t) => {
    const res = await request(`${base}/v1/exports/journal?${year}&format=csv`, { headers: { authorization: `Bearer ${program.token}` } })
    const text = await res.body.text()
    t.equal(text.split('\r\n').length - 2, 60_000, 'a header and every posting')
  })
})

/** Entries of two postings each over 2025, written in one statement per table (as the export benchmark seeds). */
async function seedPostings(database: Database, programId: string, postings: number) {
  const issued = pointsIssued()
  const wallet = memberPoints('00000000-0000-4000-8000-000000000001')
  const entries = postings / 2
  await database.transaction(async (tx) => {
    await tx.execute(sql`set local session_replication_role = replica`)
    await tx.execute(sql`insert into ledger_accounts (program_id, id, code, type, asset, tracks_balance)
                         values (${programId}, ${accountId(programId, issued)}, ${accountCode(issued)}, ${issued.type}, ${POINTS}, false),
                                (${programId}, ${accountId(programId, wallet)}, ${accountCode(wallet)}, ${wallet.type}, ${POINTS}, false)
                         on conflict do nothing`)
    await tx.execute(sql`insert into journal_entries (program_id, id, kind, effective_at, store_id, reference_type, reference_id, created_by)
                         select ${programId}, gen_random_uuid(), 'purchase', timestamptz '2025-01-01 00:00:00+00' + i * interval '1 minute', 'S1', 'purchase', i::text, 'test'
                           from generate_series(1, ${entries}) as i`)
    await tx.execute(sql`insert into postings (program_id, entry_id, seq, account_id, asset, amount)
                         select ${programId}, e.id, s.seq, case when s.seq = 1 then ${accountId(programId, issued)}::uuid else ${accountId(programId, wallet)}::uuid end, ${POINTS},
                                case when s.seq = 1 then -5 else 5 end
                           from journal_entries e cross join (values (1), (2)) as s(seq) where e.program_id = ${programId}`)
  })
}
