// The expire-points job on the executor while the same members spend and hold their points. On
// PostgreSQL (TEST_DATABASE_URL) the runs and the sales race on separate connections: an expiry
// plan whose lots a sale consumed (or a hold reserved) since its load is stale and that member is
// loaded again. Whatever the interleaving, no point is expired twice or taken twice: every lot's
// points are what is left plus what entries took, the wallets equal their lots, and the ledger
// verifies clean. On PGlite (one connection) the same operations serialise.
import t from 'tap'
import { sql } from 'drizzle-orm'
import { queryRows } from '../../../src/db/client.js'
import { memberPoints, pointsAdjustments } from '../../../src/modules/ledger/accounts.js'
import { expirePoints } from '../../../src/modules/ledger/expiry.js'
import { noticeExpiringPoints } from '../../../src/modules/ledger/expiry-notice.js'
import { transfer } from '../../../src/modules/ledger/planner.js'
import { postEntry } from '../../helpers/post-plan.js'
import { findProgram } from '../../../src/modules/programs/repository.js'
import type { ProgramRow } from '../../../src/modules/programs/tables.js'
import { onRealPostgres, startTestApp } from '../../helpers/app.js'
import { Till, VND_RULES } from '../../helpers/pos.js'
import { subscribeWebhook } from '../../helpers/webhooks.js'

const DAY = 86_400_000
const MEMBERS = 8
const SALES = 6
const RUNS = 3
const ctx = await startTestApp(t)
const programs = new Map<string, ProgramRow>()
const program = (id: string) => programs.get(id)!
t.comment(`database: ${onRealPostgres ? 'PostgreSQL: the job races the sales' : 'PGlite: everything serialises'}`)

t.test('expiry runs racing sales and holds of the same members expire each free due point once', async (t) => {
  const p = await ctx.createProgram({ name: 'Expiry races', rules: { ...VND_RULES, pointsExpiry: { afterDays: 90, roundUpTo: 'day', restoredGraceDays: 30 } } })
  const program = (await findProgram(ctx.database.db, p.id))!
  const till = new Till(ctx, p.token)
  const members: string[] = []
  for (let i = 0; i < MEMBERS; i++) {
    const m = await ctx.enrol(p.token)
    members.push(m.id)
    // Three lots of 100 due yesterday, one of 1,000 due next year (every sale can pay, before or after the expiry).
    for (const [days, n, points] of [[-1, 1, 100n], [-1, 2, 100n], [-1, 3, 100n], [365, 4, 1000n]] as const) {
      await postEntry(ctx.database, p.id, { kind: 'adjustment', effectiveAt: new Date(), memberId: m.id, reason: `lot ${n}`, pointsExpireAt: new Date(Date.now() + days * DAY + n), legs: transfer(pointsAdjustments(), memberPoints(m.id), points) }, 'test')
    }
  }
  const asOf = new Date()
  // 30 points a sale (3,000 VND at 100 VND a point), every third one held, not captured.
  const sales = members.flatMap((m) => Array.from({ length: SALES }, (_, i) => () => till.purchase(m, [{ sku: 'X', quantity: 1, unitPrice: '3000' }], [{ type: 'points', points: 30 }], { capture: i % 3 !== 2 })))
  const [runs, sold] = await Promise.all([
    Promise.all(Array.from({ length: RUNS }, () => expirePoints(ctx.database, program, asOf))),
    Promise.all(sales.map((sale) => sale())),
  ])
  t.same(sold.filter((r) => r.statusCode !== 201).map((r) => r.body), [], 'every sale answered 201')

  const expired = await queryRows<{ member_id: string; points: string }>(
    ctx.database.db,
    sql`select e.member_id, sum(p.amount)::text as points from journal_entries e join postings p on p.program_id = e.program_id and p.entry_id = e.id
         where e.program_id = ${p.id} and e.kind = 'expiry' and p.amount > 0 group by e.member_id`,
  )
  const total = expired.reduce((s, x) => s + Number(x.points), 0)
  t.equal(runs.reduce((s, r) => s + r.points, 0), total, 'the runs count what the expiry entries took')
  t.ok(total > 0, `${total} points expired`)

  const lots = await queryRows<{ id: string; member_id: string; points: string; remaining: string; held: string; due: boolean; taken: string }>(
    ctx.database.db,
    sql`select l.id, l.member_id, l.points::text, l.remaining::text, l.held::text, l.expires_at <= ${asOf.toISOString()} as due,
               coalesce((select -sum(m.points) from lot_movements m where m.program_id = l.program_id and m.lot_id = l.id and m.kind = 'take'), 0)::text as taken
          from points_lots l where l.program_id = ${p.id}`,
  )
  for (const l of lots) {
    t.equal(BigInt(l.remaining) + BigInt(l.taken), BigInt(l.points), `lot ${l.id}: every point left or taken once`)
    if (l.due) t.equal(l.remaining, l.held, `due lot ${l.id}: nothing free left (sold, expired or held)`)
  }
  const expiryTakes = await queryRows<{ entry_id: string; taken: string; posted: string }>(
    ctx.database.db,
    sql`select e.id as entry_id,
               (select -sum(m.points) from lot_movements m where m.program_id = e.program_id and m.entry_id = e.id)::text as taken,
               (select sum(p.amount) from postings p where p.program_id = e.program_id and p.entry_id = e.id and p.amount > 0)::text as posted
          from journal_entries e where e.program_id = ${p.id} and e.kind = 'expiry'`,
  )
  for (const x of expiryTakes) t.equal(x.taken, x.posted, `expiry ${x.entry_id} took from lots exactly what it posted`)
  for (const m of members) {
    const balance = (await ctx.call(p.token, 'GET', `/v1/members/${m}/balances`)).json().points.balance as number
    const inLots = lots.filter((l) => l.member_id === m).reduce((s, l) => s + Number(l.remaining), 0)
    t.equal(inLots, balance, 'the wallet holds what its lots hold')
  }
  const rerun = await expirePoints(ctx.database, program, asOf)
  t.same(rerun, { members: 0, lots: 0, points: 0, deferredByHolds: rerun.deferredByHolds }, 'a rerun expires nothing')
  await ctx.assertLedgerClean(t, p.token)
})

t.test('notice runs racing each other and sales tell each member once and mark each lot once', async (t) => {
  const p = await ctx.createProgram({ name: 'Notice races', rules: { ...VND_RULES, pointsExpiry: { afterDays: 90, roundUpTo: 'day', restoredGraceDays: 30 } } })
  await subscribeWebhook(ctx, p.token)
  programs.set(p.id, (await findProgram(ctx.database.db, p.id))!)
  const till = new Till(ctx, p.token)
  const members: string[] = []
  for (let i = 0; i < MEMBERS; i++) {
    const m = await ctx.enrol(p.token)
    members.push(m.id)
    // Two lots of 100 expiring within the notice window, one of 1,000 next year.
    for (const [days, n, points] of [[10, 1, 100n], [20, 2, 100n], [365, 3, 1000n]] as const) {
      await postEntry(ctx.database, p.id, { kind: 'adjustment', effectiveAt: new Date(), memberId: m.id, reason: `lot ${n}`, pointsExpireAt: new Date(Date.now() + days * DAY), legs: transfer(pointsAdjustments(), memberPoints(m.id), points) }, 'test')
    }
  }
  const asOf = new Date()
  const sales = members.flatMap((m) => Array.from({ length: 3 }, () => () => till.purchase(m, [{ sku: 'X', quantity: 1, unitPrice: '3000' }], [{ type: 'points', points: 30 }])))
  const [runs, sold] = await Promise.all([Promise.all(Array.from({ length: RUNS }, () => noticeExpiringPoints(ctx.database, program(p.id), asOf))), Promise.all(sales.map((s) => s()))])
  t.same(sold.filter((r) => r.statusCode !== 201).map((r) => r.body), [], 'every sale answered 201')
  t.equal(runs.reduce((s, n) => s + n, 0), MEMBERS, 'each member told by one run')
  const events = await queryRows<{ member_id: string; payload: { points: number } }>(ctx.database.db, sql`select member_id, payload from events where program_id = ${p.id} and type = 'points.expiringSoon'`)
  t.same(events.map((e) => e.member_id).sort(), [...members].sort(), 'one event a member')
  const [left] = await queryRows<{ n: number }>(
    ctx.database.db,
    sql`select count(*)::int as n from points_lots where program_id = ${p.id} and expires_at <= ${new Date(asOf.getTime() + 30 * DAY).toISOString()} and remaining > 0 and expiry_notice_at is null`,
  )
  t.equal(left!.n, 0, 'every lot expiring soon is noticed')
  t.equal(await noticeExpiringPoints(ctx.database, program(p.id), asOf), 0, 'a rerun tells nobody')
  await t.rejects(
    ctx.database.apply({ program: p.id, rows: [{ op: 'insert', table: 'points_lots', rows: [] }] }),
    { message: /a plan may not insert table points_lots/ },
    'a plan may only update lots as rows',
  )
})
