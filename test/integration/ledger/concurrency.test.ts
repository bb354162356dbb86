// The ledger under concurrent writers. On PGlite (one connection) the requests below are
// serialised and the file checks the same bookkeeping; on PostgreSQL (TEST_DATABASE_URL) they
// are real races: 50+ clients on one pool with a connection each, contending on the same rows.
import t, { type Test } from 'tap'
import { sql } from 'drizzle-orm'
import type { LightMyRequestResponse } from 'fastify'
import { buildCheckedApp } from '../../helpers/contract-hooks.js'
import { openDatabase, queryRows } from '../../../src/db/client.js'
import { memberPoints, pointsAdjustments } from '../../../src/modules/ledger/accounts.js'
import { transfer } from '../../../src/modules/ledger/planner.js'
import { ensureAccounts } from '../../../src/modules/ledger/repository.js'
import { postEntry } from '../../helpers/post-plan.js'
import { members as membersTable } from '../../../src/modules/members/tables.js'
import { newId } from '../../../src/shared/ids.js'
import { onRealPostgres, startTestApp, testConfig, testDatabaseUrl, TestApp, type ProgramFixture } from '../../helpers/app.js'

const WORKERS = 50
// PGlite runs every request one after the other: fewer operations there keep the file fast; the same races on PostgreSQL.
const OPS_PER_WORKER = onRealPostgres ? 10 : 6
const LOW_CONTENTION_MEMBERS = 1000

/** On PostgreSQL, a pool wide enough for every worker to hold its own connection at once. */
async function startConcurrentApp(): Promise<TestApp> {
  if (!onRealPostgres) return startTestApp(t)
  const database = await openDatabase({ url: testDatabaseUrl, dataDir: 'memory://', poolSize: WORKERS + 10 })
  const app = await buildCheckedApp(t, testConfig(), { database })
  await app.ready()
  t.teardown(async () => {
    await app.close()
    await database.close()
  })
  return new TestApp(app, database)
}

const ctx = await startConcurrentApp()
t.comment(`database: ${onRealPostgres ? 'PostgreSQL (pool of ' + (WORKERS + 10) + ')' : 'PGlite (one connection: requests serialise)'}`)

// A seeded generator: the operation mix of a failing run can be replayed with CONCURRENCY_SEED.
const seed = Number(process.env.CONCURRENCY_SEED ?? Math.floor(Math.random() * 2 ** 31))
t.comment(`CONCURRENCY_SEED=${seed}`)
function mulberry32(a: number) {
  return () => {
    a |= 0
    a = (a + 0x6d2b79f5) | 0
    let r = Math.imul(a ^ (a >>> 15), 1 | a)
    r = (r + Math.imul(r ^ (r >>> 7), 61 | r)) ^ r
    return ((r ^ (r >>> 14)) >>> 0) / 4294967296
  }
}
const random = mulberry32(seed)
const randomInt = (min: number, max: number) => min + Math.floor(random() * (max - min + 1))

let keyCounter = 0
const newKey = (prefix: string) => `conc-${prefix}-${process.pid}-${++keyCounter}`

interface Adjustment {
  memberId: string
  points: number
  key: string
  reason: string
}

interface Outcome extends Adjustment {
  status: number
  code?: string
  body: Record<string, any>
  replayed: boolean
}

const adjustmentRequest = (program: ProgramFixture, a: Adjustment) =>
  ctx.call(program.token, 'POST', `/v1/members/${a.memberId}/points/adjustments`, { points: a.points, reason: a.reason }, { 'idempotency-key': a.key })

function outcomeOf(a: Adjustment, res: LightMyRequestResponse): Outcome {
  const body = safeJson(res)
  return { ...a, status: res.statusCode, code: body.code, body, replayed: res.headers['idempotent-replayed'] === 'true' }
}

function safeJson(res: LightMyRequestResponse): Record<string, any> {
  try {
    return res.json()
  } catch {
    return { raw: res.body }
  }
}

/** `workers` async clients, each running its own operations one after the other; all start together. */
async function runWorkers<T>(workers: number, work: (worker: number) => Promise<T[]>): Promise<T[]> {
  const results = await Promise.all(Array.from({ length: workers }, (_, w) => work(w)))
  return results.flat()
}

/** Runs `fn` over `items` with at most `limit` in flight. */
async function inPool<I, O>(items: I[], limit: number, fn: (item: I) => Promise<O>): Promise<O[]> {
  const out: O[] = new Array(items.length)
  let next = 0
  await Promise.all(
    Array.from({ length: Math.min(limit, items.length) }, async () => {
      while (next < items.length) {
        const i = next++
        out[i] = await fn(items[i]!)
      }
    }),
  )
  return out
}

const balanceOf = async (program: ProgramFixture, memberId: string): Promise<number> => {
  const res = await ctx.call(program.token, 'GET', `/v1/members/${memberId}/balances`)
  if (res.statusCode !== 200) throw new Error(`balances: ${res.statusCode} ${res.body}`)
  return res.json().points.balance
}

const verify = async (program: ProgramFixture) => {
  const res = await ctx.call(program.token, 'GET', '/v1/ledger/verify')
  if (res.statusCode !== 200) throw new Error(`verify: ${res.statusCode} ${res.body}`)
  return res.json()
}

const walletPosting = (entry: { postings: { accountType: string; amount: string; balanceAfter: string | null }[] }) =>
  entry.postings.find((p) => p.accountType === 'member_points')

/**
 * The balances a wallet went through, read from the 201 responses, must form one chain from
 * `start` to `final` that uses every posting exactly once (an Eulerian path over balance values,
 * edge `after - amount -> after`). A lost update (two writers reading the same balance) or a
 * balance_after computed outside the row lock breaks it.
 */
function chainProblem(start: number, steps: { amount: number; after: number }[], final: number): string | undefined {
  if (steps.length === 0) return start === final ? undefined : `no postings but the balance moved from ${start} to ${final}`
  const degree = new Map<number, number>() // out - in
  const parent = new Map<number, number>()
  const find = (x: number): number => {
    if (!parent.has(x)) parent.set(x, x)
    const p = parent.get(x)!
    if (p === x) return x
    const root = find(p)
    parent.set(x, root)
    return root
  }
  for (const s of steps) {
    const from = s.after - s.amount
    if (from < 0 || s.after < 0) return `a posting of ${s.amount} went from ${from} to ${s.after}: below zero`
    degree.set(from, (degree.get(from) ?? 0) + 1)
    degree.set(s.after, (degree.get(s.after) ?? 0) - 1)
    parent.set(find(from), find(s.after))
  }
  for (const [node, d] of degree) {
    const expected = start === final ? 0 : node === start ? 1 : node === final ? -1 : 0
    if (d !== expected) return `balance ${node} is entered and left ${d > 0 ? 'out' : 'in'} of turn (out - in = ${d}, expected ${expected}): not one serial history`
  }
  if (!degree.has(start)) return `no posting starts from the opening balance ${start}`
  const root = find(start)
  for (const node of degree.keys()) if (find(node) !== root) return `balance ${node} is not reachable from ${start}: not one serial history`
  return undefined
}

interface Tally {
  sent: number
  created: number
  refused: number
  retryLater: number
  other: Outcome[]
}

/**
 * The common assertions of a random-adjustments run: only 201 and 422 INSUFFICIENT_FUNDS (a 503
 * RETRY_LATER is a deadlock or serialisation failure and fails the test: wallets are locked in one
 * order), each 201 coherent, each wallet's final balance the exact sum of its 201s through one serial
 * chain of non-negative balances, and verify clean with one entry per 201.
 */
async function checkRun(
  t: Test,
  program: ProgramFixture,
  outcomes: Outcome[],
  opening: Map<string, number>,
  before: { entries: number; postings: number },
): Promise<Tally> {
  const tally: Tally = { sent: outcomes.length, created: 0, refused: 0, retryLater: 0, other: [] }
  for (const o of outcomes) {
    if (o.status === 201) tally.created++
    else if (o.status === 422 && o.code === 'INSUFFICIENT_FUNDS') tally.refused++
    else if (o.status === 503 && o.code === 'RETRY_LATER') tally.retryLater++
    else tally.other.push(o)
  }
  t.equal(tally.retryLater, 0, 'no 503 RETRY_LATER (deadlock or serialisation failure)')
  t.same(
    tally.other.map((o) => ({ status: o.status, code: o.code, points: o.points })),
    [],
    'every answer is 201 or 422 INSUFFICIENT_FUNDS',
  )
  t.equal(tally.created + tally.refused + tally.retryLater + tally.other.length, outcomes.length)
  t.equal(
    outcomes.filter((o) => o.status === 422 && o.points > 0).length,
    0,
    'a credit is never refused',
  )
  t.equal(outcomes.filter((o) => o.replayed).length, 0, 'distinct keys: nothing is a replay')

  const incoherent: string[] = []
  const byMember = new Map<string, { amount: number; after: number }[]>()
  const entryIds = new Set<string>()
  for (const o of outcomes.filter((x) => x.status === 201)) {
    const posting = walletPosting(o.body.entry)
    const after = Number(posting?.balanceAfter)
    if (!posting || Number(posting.amount) !== o.points || o.body.entry.memberId !== o.memberId) incoherent.push(`${o.key}: the entry does not post ${o.points} to the member`)
    if (o.body.balances.points.balance !== after) incoherent.push(`${o.key}: balances say ${o.body.balances.points.balance}, the posting ${after}`)
    if (after < 0 || o.body.balances.points.available < 0) incoherent.push(`${o.key}: balance ${after} below zero`)
    entryIds.add(o.body.entry.id)
    byMember.set(o.memberId, [...(byMember.get(o.memberId) ?? []), { amount: o.points, after }])
  }
  t.same(incoherent.slice(0, 10), [], 'each 201 posts its own amount and reports the balance after it, never below zero')
  t.equal(entryIds.size, tally.created, 'one distinct entry per 201')

  // Final balances: every wallet of the program in one read, and the API's own answer for each wallet the run touched.
  const stored = await queryRows<{ member_id: string; balance: string }>(
    ctx.database.db,
    sql`select member_id, (credits_posted - debits_posted)::text as balance from ledger_accounts where program_id = ${program.id} and type = 'member_points'`,
  )
  const storedBalance = new Map(stored.map((r) => [r.member_id, Number(r.balance)]))
  const finals = [...opening.keys()].map((memberId) => [memberId, storedBalance.get(memberId) ?? 0] as const)
  const viaApi = await inPool([...byMember.keys()], 20, async (memberId) => [memberId, await balanceOf(program, memberId)] as const)
  t.same(
    viaApi.filter(([memberId, balance]) => balance !== storedBalance.get(memberId)),
    [],
    'the balances API agrees with the stored running totals',
  )
  const wrong: string[] = []
  const broken: string[] = []
  for (const [memberId, final] of finals) {
    const steps = byMember.get(memberId) ?? []
    const expected = opening.get(memberId)! + steps.reduce((s, x) => s + x.amount, 0)
    if (final !== expected) wrong.push(`${memberId}: balance ${final}, the 201s add up to ${expected}`)
    if (final < 0) wrong.push(`${memberId}: balance ${final} below zero`)
    const problem = chainProblem(opening.get(memberId)!, steps, final)
    if (problem) broken.push(`${memberId}: ${problem}`)
  }
  t.same(wrong.slice(0, 10), [], 'every final balance is the opening balance plus exactly the successful adjustments')
  t.same(broken.slice(0, 10), [], 'every wallet went through one serial chain of non-negative balances')

  const report = await verify(program)
  t.equal(report.ok, true, 'verify is ok')
  t.same(report.discrepancies, [], 'no discrepancies')
  t.equal(report.entries, before.entries + tally.created, 'exactly one journal entry per 201')
  t.equal(report.postings, before.postings + tally.created * 2, 'two postings per adjustment')
  t.same(report.assets, [{ asset: 'POINTS', total: '0' }])
  return tally
}

/**
 * Sends every answered request again, concurrently, with its key: each gets its original answer
 * back and nothing moves. (A 5xx is not stored under its key, so its retry would run afresh: those
 * are left out, and the run has already failed on them.)
 */
async function checkReplayStorm(t: Test, program: ProgramFixture, allOutcomes: Outcome[], entriesBefore: number) {
  const outcomes = allOutcomes.filter((o) => o.status < 500)
  const replays = await runWorkers(WORKERS, async (w) => {
    const mine = outcomes.filter((_, i) => i % WORKERS === w)
    const out: [Outcome, Outcome][] = []
    for (const o of mine) out.push([o, outcomeOf(o, await adjustmentRequest(program, o))])
    return out
  })
  const differing = replays.filter(([o, r]) => r.status !== o.status || !r.replayed || (o.status === 201 ? JSON.stringify(r.body) !== JSON.stringify(o.body) : r.code !== o.code))
  t.same(
    differing.slice(0, 5).map(([o, r]) => ({ key: o.key, first: [o.status, o.code], replay: [r.status, r.code, r.replayed] })),
    [],
    `${replays.length} concurrent retries with the same keys all get the original answer, marked as replays`,
  )
  const report = await verify(program)
  t.equal(report.ok, true)
  t.equal(report.entries, entriesBefore, 'the retries posted nothing')
}

t.test('high contention: 50 clients adjusting 3 wallets at once', async (t) => {
  const started = Date.now()
  const program = await ctx.createProgram({ name: 'High contention' })
  const wallets = await Promise.all([1, 2, 3].map(() => ctx.enrol(program.token)))
  const opening = new Map(wallets.map((m) => [m.id, 0]))

  // Brand-new wallets and a brand-new adjustments account: the first writes also race to create them.
  const plans: Adjustment[][] = Array.from({ length: WORKERS }, (_, w) =>
    Array.from({ length: OPS_PER_WORKER }, (_, i) => {
      const credit = random() < 0.5
      return {
        memberId: wallets[randomInt(0, wallets.length - 1)]!.id,
        points: credit ? randomInt(1, 100) : -randomInt(1, 110),
        key: newKey(`high-${w}-${i}`),
        reason: credit ? 'concurrent grant' : 'concurrent take',
      }
    }),
  )
  const outcomes = await runWorkers(WORKERS, async (w) => {
    const out: Outcome[] = []
    for (const a of plans[w]!) out.push(outcomeOf(a, await adjustmentRequest(program, a)))
    return out
  })
  const sentAt = Date.now()
  const tally = await checkRun(t, program, outcomes, opening, { entries: 0, postings: 0 })
  t.ok(tally.created > 0 && tally.refused > 0, 'the mix both succeeds and runs out of points')
  const replayedAt = Date.now()
  await checkReplayStorm(t, program, outcomes, tally.created)
  t.comment(
    `high contention: ${tally.sent} adjustments by ${WORKERS} clients on ${wallets.length} wallets in ${sentAt - started} ms: ` +
      `${tally.created} × 201, ${tally.refused} × 422, ${tally.retryLater} × 503, ${tally.other.length} other; ` +
      `${tally.created + tally.refused} concurrent replays in ${Date.now() - replayedAt} ms; ${Date.now() - started} ms in all`,
  )
})

t.test('low contention: 50 clients adjusting 1,000 members at random', async (t) => {
  const started = Date.now()
  const program = await ctx.createProgram({ name: 'Low contention' })
  // Enrolment is not what is under test here: the members are written straight to their table.
  const members = Array.from({ length: LOW_CONTENTION_MEMBERS }, (_, i) => ({ programId: program.id, id: newId(), name: `Member ${i}` }))
  await ctx.database.transaction(async (tx) => {
    for (let i = 0; i < members.length; i += 250) await tx.insert(membersTable).values(members.slice(i, i + 250))
  })
  t.equal(await balanceOf(program, members[LOW_CONTENTION_MEMBERS - 1]!.id), 0, 'the members exist for the API')

  // Opening balances, posted as one plan of one entry (one posting per wallet), so that takes can succeed.
  const opening = new Map(members.map((m) => [m.id, randomInt(1, 200)]))
  await postEntry(
    ctx.database,
    program.id,
    {
      kind: 'adjustment',
      effectiveAt: new Date(),
      reason: 'opening balances',
      referenceType: 'adjustment',
      legs: [...opening].flatMap(([memberId, points]) => transfer(pointsAdjustments(), memberPoints(memberId), BigInt(points))),
    },
    'concurrency-test',
  )
  const funded = Date.now()

  const outcomes = await runWorkers(WORKERS, async (w) => {
    const out: Outcome[] = []
    for (let i = 0; i < OPS_PER_WORKER; i++) {
      const credit = random() < 0.5
      const a: Adjustment = {
        memberId: members[randomInt(0, members.length - 1)]!.id,
        points: credit ? randomInt(1, 100) : -randomInt(1, 250),
        key: newKey(`low-${w}-${i}`),
        reason: credit ? 'concurrent grant' : 'concurrent take',
      }
      out.push(outcomeOf(a, await adjustmentRequest(program, a)))
    }
    return out
  })
  const sentAt = Date.now()
  const tally = await checkRun(t, program, outcomes, opening, { entries: 1, postings: members.length + 1 })
  t.ok(tally.created > 0 && tally.refused > 0, 'the mix both succeeds and runs out of points')
  t.comment(
    `low contention: ${members.length} members enrolled and funded in ${funded - started} ms; ` +
      `${tally.sent} random adjustments by ${WORKERS} clients in ${sentAt - funded} ms: ${tally.created} × 201, ${tally.refused} × 422, ${tally.retryLater} × 503, ${tally.other.length} other; ${Date.now() - started} ms in all`,
  )
})

class RollBack extends Error {}

t.test(
  'first writes of a fresh program: a grant and a take wait on a writer that rolls back its new accounts',
  { skip: onRealPostgres ? false : 'needs a second connection to hold rows while requests wait (PostgreSQL only)' },
  async (t) => {
    // The first writes of a program create its adjustments account and each member's wallet
    // (ensureAccounts, in the entry's leg order). Here a refused take by another new member has
    // inserted the adjustments account and rolls back while five grants and one take of member M
    // wait on it; when it goes, they must all finish with 201 or 422, not deadlock (503).
    const started = Date.now()
    const ROUNDS = 5
    const answers = new Map<string, number>()
    for (let round = 0; round < ROUNDS; round++) {
      const program = await ctx.createProgram({ name: `Fresh program ${round}` })
      const [m, other] = await Promise.all([ctx.enrol(program.token), ctx.enrol(program.token)])

      let release!: () => void
      const released = new Promise<void>((resolve) => (release = resolve))
      let holding!: (pid: number) => void
      const holderPid = new Promise<number>((resolve) => (holding = resolve))
      const holder = ctx.database
        .transaction(async (tx) => {
          const [row] = await queryRows<{ pid: number }>(tx, sql`select pg_backend_pid() as pid`)
          await ensureAccounts(tx, program.id, [memberPoints(other.id), pointsAdjustments()])
          holding(Number(row!.pid))
          await released
          throw new RollBack()
        })
        .catch((err) => {
          if (!(err instanceof RollBack)) throw err
        })
      const pid = await Promise.race([
        holderPid,
        holder.then(() => {
          throw new Error('the rolling-back writer ended before holding its rows')
        }),
      ])

      const plans: Adjustment[] = [10, 10, 10, 10, 10, -10].map((points, i) => ({ memberId: m.id, points, key: newKey(`fresh-${round}-${i}`), reason: 'first writes' }))
      const pending = plans.map((a) => adjustmentRequest(program, a).then((res) => outcomeOf(a, res)))
      const waitingSince = Date.now()
      for (;;) {
        // Every request blocked, on the writer or (accounts are created in id order) behind the
        // first request that queued on it.
        const [row] = await queryRows<{ n: number }>(
          ctx.database.db,
          sql`select count(*)::int as n from pg_stat_activity
               where datname = current_database() and pid <> ${pid}::int and cardinality(pg_blocking_pids(pid)) > 0
                 and (${pid}::int = any(pg_blocking_pids(pid)) or query like '%ledger_accounts%' or query like '%ledger_post_entry%' or query like '%ll_apply%')`,
        )
        // Adjustments are plans of the group-commit executor (src/db/apply.ts): requests waiting
        // together share a statement, so every request is waiting once each group in flight is
        // blocked and the rest are queued behind them.
        const { groupsInFlight, plansPending } = ctx.database.applier.load
        if (Number(row!.n) >= 1 && Number(row!.n) >= groupsInFlight && plansPending >= plans.length) break
        if (Date.now() - waitingSince > 10_000) {
          release()
          throw new Error(`only ${row!.n} of ${plans.length} requests came to wait behind the rolling-back writer`)
        }
        await new Promise((resolve) => setTimeout(resolve, 5))
      }
      release()
      await holder
      const outcomes = await Promise.all(pending)
      for (const o of outcomes) {
        const answer = `${o.status} ${o.code ?? ''}`.trim()
        answers.set(answer, (answers.get(answer) ?? 0) + 1)
      }
      const tally = await checkRun(t, program, outcomes, new Map([[m.id, 0]]), { entries: 0, postings: 0 })
      if (tally.retryLater > 0 || tally.other.length > 0) {
        t.comment(`round ${round + 1}: ${outcomes.map((o) => `${o.points > 0 ? '+' : ''}${o.points} → ${o.status} ${o.code ?? ''}`.trim()).join(', ')}`)
        break
      }
    }
    t.comment(`fresh programs: ${[...answers].map(([k, n]) => `${n} × ${k}`).join(', ')}; ${Date.now() - started} ms`)
  },
)

t.test('double spend: concurrent takes of the whole balance, one wins', async (t) => {
  const program = await ctx.createProgram({ name: 'Double spend' })
  const ROUNDS = 5
  for (const clients of [2, 20]) {
    await t.test(`${clients} concurrent takes of 100 from a wallet of exactly 100 (${ROUNDS} rounds)`, async (t) => {
      for (let round = 0; round < ROUNDS; round++) {
        const m = await ctx.enrol(program.token)
        const fund = await adjustmentRequest(program, { memberId: m.id, points: 100, key: newKey('fund'), reason: 'funding' })
        t.equal(fund.statusCode, 201)
        const takes = await Promise.all(
          Array.from({ length: clients }, () => {
            const a = { memberId: m.id, points: -100, key: newKey('spend'), reason: 'spend it all' }
            return adjustmentRequest(program, a).then((res) => outcomeOf(a, res))
          }),
        )
        const won = takes.filter((o) => o.status === 201)
        t.equal(won.length, 1, `round ${round}: exactly one 201`)
        t.same(
          takes.filter((o) => o.status !== 201).map((o) => [o.status, o.code]),
          Array.from({ length: clients - 1 }, () => [422, 'INSUFFICIENT_FUNDS']),
          `round ${round}: every other take is refused with 422 INSUFFICIENT_FUNDS`,
        )
        t.equal(won[0]?.body.balances.points.balance, 0, 'the winner leaves 0')
        t.equal(await balanceOf(program, m.id), 0, 'final balance 0')
      }
    })
  }
  const report = await verify(program)
  t.equal(report.ok, true)
  t.same(report.discrepancies, [])
  t.equal(report.entries, 2 * 2 * ROUNDS, 'one funding and one take per round')
})

t.test('double reversal race: concurrent reversals of one entry, one wins', async (t) => {
  const program = await ctx.createProgram({ name: 'Double reversal' })
  const CLIENTS = 10
  const reverse = (entryId: string, reason: string) =>
    ctx.call(program.token, 'POST', `/v1/ledger/entries/${entryId}/reversal`, { reason }, { 'idempotency-key': newKey('reverse') })
  let entries = 0

  const race = async (t: Test, memberId: string, grantId: string, expectedAfter: number) => {
    const answers = await Promise.all(Array.from({ length: CLIENTS }, (_, i) => reverse(grantId, `race ${i}`)))
    const created = answers.filter((r) => r.statusCode === 201)
    t.equal(created.length, 1, 'exactly one 201')
    t.same(
      answers.filter((r) => r.statusCode !== 201).map((r) => [r.statusCode, safeJson(r).code]),
      Array.from({ length: CLIENTS - 1 }, () => [409, 'ALREADY_REVERSED']),
      'every other reversal is refused with 409 ALREADY_REVERSED',
    )
    t.equal(created[0]?.json().reversesEntryId, grantId)
    t.equal((await ctx.call(program.token, 'GET', `/v1/ledger/entries/${grantId}`)).json().reversedByEntryId, created[0]?.json().id, 'the original links to the one reversal')
    t.equal(await balanceOf(program, memberId), expectedAfter, 'the grant is undone once')
    entries += 1
    const report = await verify(program)
    t.equal(report.ok, true)
    t.same(report.discrepancies, [])
    t.equal(report.entries, entries, 'exactly one reversal entry posted')
  }

  await t.test('the wallet holds more than the grant', async (t) => {
    const m = await ctx.enrol(program.token)
    await adjustmentRequest(program, { memberId: m.id, points: 500, key: newKey('fund'), reason: 'funding' })
    const grant = (await adjustmentRequest(program, { memberId: m.id, points: 100, key: newKey('grant'), reason: 'mistaken grant' })).json().entry
    entries += 2
    await race(t, m.id, grant.id, 500)
  })

  await t.test('the wallet holds exactly the grant', async (t) => {
    const m = await ctx.enrol(program.token)
    const grant = (await adjustmentRequest(program, { memberId: m.id, points: 100, key: newKey('grant'), reason: 'mistaken grant' })).json().entry
    entries += 1
    await race(t, m.id, grant.id, 0)
  })
})

t.test('concurrent duplicates with one Idempotency-Key post once', async (t) => {
  const program = await ctx.createProgram({ name: 'Idempotent duplicates' })
  const CLIENTS = 10

  await t.test('same key, same body: one entry, ten identical 201s', async (t) => {
    const m = await ctx.enrol(program.token)
    const a: Adjustment = { memberId: m.id, points: 75, key: newKey('dup'), reason: 'sent ten times' }
    const answers = await Promise.all(Array.from({ length: CLIENTS }, () => adjustmentRequest(program, a).then((res) => outcomeOf(a, res))))
    t.same(
      answers.map((o) => o.status),
      Array.from({ length: CLIENTS }, () => 201),
      'all answer 201',
    )
    const first = answers[0]!.body
    t.ok(
      answers.every((o) => JSON.stringify(o.body) === JSON.stringify(first)),
      'identical bodies',
    )
    t.equal(new Set(answers.map((o) => o.body.entry?.id)).size, 1, 'the same entry id')
    t.equal(answers.filter((o) => !o.replayed).length, 1, 'one original, the others marked as replays')
    t.equal(first.balances.points.balance, 75)
    t.equal(await balanceOf(program, m.id), 75, 'the balance moved once')
    const report = await verify(program)
    t.equal(report.ok, true)
    t.same(report.discrepancies, [])
    t.equal(report.entries, 1, 'exactly one entry posted')
  })

  await t.test('same key, same refused body: ten identical refusals, nothing posted', async (t) => {
    const m = await ctx.enrol(program.token)
    const a: Adjustment = { memberId: m.id, points: -10, key: newKey('dup-refused'), reason: 'nothing to take' }
    const answers = await Promise.all(Array.from({ length: CLIENTS }, () => adjustmentRequest(program, a).then((res) => outcomeOf(a, res))))
    t.same(
      answers.map((o) => [o.status, o.code]),
      Array.from({ length: CLIENTS }, () => [422, 'INSUFFICIENT_FUNDS']),
    )
    t.equal(await balanceOf(program, m.id), 0)
    t.equal((await verify(program)).entries, 1, 'nothing more posted')
  })

  await t.test('same key, different bodies: one posts, the others are told the key was reused', async (t) => {
    const m = await ctx.enrol(program.token)
    const key = newKey('dup-reused')
    const answers = await Promise.all(
      Array.from({ length: CLIENTS }, (_, i) => {
        const a: Adjustment = { memberId: m.id, points: 10 + i, key, reason: 'different bodies' }
        return adjustmentRequest(program, a).then((res) => outcomeOf(a, res))
      }),
    )
    const created = answers.filter((o) => o.status === 201 && !o.replayed)
    t.equal(created.length, 1, 'one request posts')
    t.same(
      answers.filter((o) => o !== created[0]).map((o) => [o.status, o.code]),
      Array.from({ length: CLIENTS - 1 }, () => [422, 'IDEMPOTENCY_KEY_REUSED']),
      'the others get 422 IDEMPOTENCY_KEY_REUSED',
    )
    t.equal(await balanceOf(program, m.id), created[0]?.points, 'only the winner moved the balance')
    const report = await verify(program)
    t.equal(report.ok, true)
    t.equal(report.entries, 2)
  })

  await t.test('same key on a purchase (the pipelined path): one purchase, identical 201s', async (t) => {
    const shop = await ctx.createProgram({ name: 'Duplicate purchases', rules: { earning: { points: 1, per: '10000' } } })
    const m = await ctx.enrol(shop.token)
    const key = newKey('dup-purchase')
    const body = {
      memberId: m.id,
      storeId: 'S1',
      terminalId: 'T1',
      externalId: key,
      currency: 'VND',
      lines: [{ sku: 'A', name: 'A', quantity: 1, unitPrice: '50000' }],
      tenders: [{ type: 'cash', amount: '50000' }],
    }
    const answers = await Promise.all(Array.from({ length: CLIENTS }, () => ctx.call(shop.token, 'POST', '/v1/purchases', body, { 'idempotency-key': key })))
    t.same(
      answers.map((r) => r.statusCode),
      Array.from({ length: CLIENTS }, () => 201),
    )
    t.equal(new Set(answers.map((r) => r.body)).size, 1, 'identical bodies')
    t.equal(answers.filter((r) => r.headers['idempotent-replayed'] !== 'true').length, 1, 'one original')
    t.equal(answers[0]!.json().balances.points.balance, 5)
    t.equal(await balanceOf(shop, m.id), 5, 'points earned once')
    const report = await verify(shop)
    t.equal(report.ok, true)
    t.equal(report.entries, 1, 'one purchase entry')
  })

  await t.test('same key on a reversal: one reversal entry, identical 201s', async (t) => {
    const m = await ctx.enrol(program.token)
    const grant = (await adjustmentRequest(program, { memberId: m.id, points: 40, key: newKey('grant'), reason: 'to reverse' })).json().entry
    const key = newKey('dup-reverse')
    const answers = await Promise.all(
      Array.from({ length: CLIENTS }, () => ctx.call(program.token, 'POST', `/v1/ledger/entries/${grant.id}/reversal`, { reason: 'retried reversal' }, { 'idempotency-key': key })),
    )
    t.same(
      answers.map((r) => r.statusCode),
      Array.from({ length: CLIENTS }, () => 201),
    )
    t.equal(new Set(answers.map((r) => r.body)).size, 1, 'identical bodies')
    t.equal(await balanceOf(program, m.id), 0)
    const report = await verify(program)
    t.equal(report.ok, true)
    t.equal(report.entries, 4, 'one grant, one reversal more')
  })
})
