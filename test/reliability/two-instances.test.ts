import t from 'tap'
import { setTimeout as sleep } from 'node:timers/promises'
import postgres from 'postgres'
import { onRealPostgres, testDatabaseUrl, uniqueVnMobile } from '../helpers/app.js'
import { call, checkLedger, drivePurchases, freePort, seedProgram, ServiceProcess, checkServiceAnswers } from '../helpers/service.js'
import { idemKey } from '../helpers/pos.js'

checkServiceAnswers(t)

// Two service processes on one database, as behind a load balancer: both take purchases, both run the daily jobs on their own schedule (every second here). Afterwards
// every acknowledged purchase is in the ledger once, the ledger verifies, every job ran once per
// program and date whichever instance claimed it, and no birthday was granted twice.
// The run gets a database of its own: the schedulers act on every program they find.
const PROGRAMS = 4
const BIRTHDAY_MEMBERS = 5
const BONUS = 500

t.test('two instances under load with jobs in both: nothing doubled, every job once per date', { skip: onRealPostgres ? false : 'needs real PostgreSQL (TEST_DATABASE_URL): two processes cannot share an in-process PGlite' }, async (t) => {
  const admin = postgres(testDatabaseUrl!, { max: 1, onnotice: () => {} })
  const dbName = `loyalty_two_instances_${process.pid}`
  await admin.unsafe(`drop database if exists ${dbName}`)
  await admin.unsafe(`create database ${dbName}`)
  const url = new URL(testDatabaseUrl!)
  url.pathname = `/${dbName}`
  // The programs and their members exist before the schedulers start: a daily job that ran for
  // a program today does not run again for members enrolled after it.
  const setup = new ServiceProcess(url.toString(), await freePort(), { MIGRATE_ON_START: '1', JOBS_INTERVAL_SECONDS: '0' })
  const env = { MIGRATE_ON_START: '1', JOBS_INTERVAL_SECONDS: '1' }
  const a = new ServiceProcess(url.toString(), await freePort(), env)
  const b = new ServiceProcess(url.toString(), await freePort(), env)
  t.teardown(async () => {
    // SIGKILL as in the crash test: a process stopped gracefully would write its own coverage, under tsx's source maps
    await Promise.all([setup.kill(), a.kill(), b.kill()])
    await admin.unsafe(`drop database if exists ${dbName} with (force)`)
    await admin.end({ timeout: 5 })
  })
  await setup.start()

  // Program 1 takes the load; every program has birthday members for the birthday job.
  const tz = 'Asia/Ho_Chi_Minh'
  const monthDay = new Intl.DateTimeFormat('en-CA', { timeZone: tz, month: '2-digit', day: '2-digit' }).format(new Date())
  const rules = { birthday: { bonusPoints: BONUS } } // programs keep the default zone, Asia/Ho_Chi_Minh
  const programs = [await seedProgram(setup.base, 10, 100_000_000n, rules)]
  for (let i = 1; i < PROGRAMS; i++) programs.push(await seedProgram(setup.base, 0, 0n, rules))
  const birthdayMembers: { program: number; id: string }[] = []
  for (const [i, p] of programs.entries()) {
    for (let k = 0; k < BIRTHDAY_MEMBERS; k++) {
      // 1992 is a leap year: today is a valid birthday whatever today is.
      const m = await call(setup.base, 'POST', '/v1/members', p.token, { name: `Birthday ${k}`, phone: uniqueVnMobile(), birthday: `1992-${monthDay}` }, { 'idempotency-key': idemKey() })
      t.equal(m.status, 201, `birthday member enrolled ${m.status === 201 ? '' : JSON.stringify(m.body)}`)
      birthdayMembers.push({ program: i, id: m.body.id })
    }
  }

  await setup.kill()
  await Promise.all([a.start(), b.start()])

  const seeded = programs[0]!
  let running = true
  const load = drivePurchases({ base: () => (Math.random() < 0.5 ? a.base : b.base), token: seeded.token, members: seeded.members, workers: 8, running: () => running })
  await sleep(6000) // several scheduler ticks in each instance while purchases flow
  running = false
  const sent = await load

  const sql = postgres(url.toString(), { max: 1, onnotice: () => {} })
  t.teardown(() => sql.end({ timeout: 5 }))
  // The jobs of today are claimed by now; wait (bounded) for any still running to finish.
  type Run = { program_id: string; job: string; run_date: string; status: string; claimed_by: string; n: string }
  let runs: Run[] = []
  for (let i = 0; i < 100; i++) {
    runs = await sql<Run[]>`select program_id, job, run_date::text, status, claimed_by, count(*) over (partition by program_id, job, run_date) as n from job_runs`
    if (runs.length >= PROGRAMS * 3 && runs.every((r) => r.status !== 'running')) break
    await sleep(200)
  }
  const jobs = new Set(runs.map((r) => r.job))
  const claimers = new Map<string, number>()
  for (const r of runs) claimers.set(r.claimed_by, (claimers.get(r.claimed_by) ?? 0) + 1)
  t.comment(`${sent.length} purchases over both instances; ${runs.length} job runs (${[...jobs].join(', ')}) claimed by ${JSON.stringify(Object.fromEntries(claimers))}`)
  t.ok(jobs.has('birthday-rewards') && jobs.has('expire-points') && jobs.has('review-tiers'), 'the daily jobs ran')
  t.equal(new Set(runs.map((r) => r.program_id)).size, PROGRAMS, 'for every program')
  t.same(runs.filter((r) => Number(r.n) !== 1), [], 'each job ran once per program and date')
  t.same(runs.filter((r) => r.status !== 'succeeded'), [], 'and succeeded')

  const grants = await sql<{ member_id: string; n: string }[]>`select member_id, count(*) as n from birthday_rewards group by member_id`
  t.equal(grants.length, birthdayMembers.length, 'every birthday member was granted')
  t.same(grants.filter((g) => Number(g.n) !== 1), [], 'once')
  for (const m of birthdayMembers) {
    const balance = await call(b.base, 'GET', `/v1/members/${m.id}/balances`, programs[m.program]!.token)
    if (balance.body?.points?.balance !== BONUS) t.fail(`member ${m.id}: ${balance.status} ${JSON.stringify(balance.body).slice(0, 300)}`)
  }
  t.pass(`every birthday member holds ${BONUS} points, granted once`)

  const result = await checkLedger(url.toString(), b.base, seeded, sent)
  t.comment(`requests ${result.requests}, acknowledged ${result.acknowledged}, found exactly once ${result.found}`)
  t.ok(result.requests > 0, 'purchases were sent')
  t.equal(result.found, result.requests, 'every purchase acknowledged and in the ledger exactly once')
  t.same(result.problems, [], 'no lost, duplicated or partial purchase; balances and ledger verify')
  for (const p of programs) t.equal((await call(a.base, 'GET', '/v1/ledger/verify', p.token)).body.ok, true, `program ${p.programId} verifies`)
  t.ok(a.alive && b.alive, 'both instances still running')
})
