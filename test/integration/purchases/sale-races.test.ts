// Two sales of the executor racing where the plan decides on what the load read (PostgreSQL: a
// second connection holds the rows while both sales load and plan). Two sales of one member across
// a tier threshold: the member's row, locked at the version loaded and written back by each plan,
// makes the later plan stale, it loads again and upgrades exactly once; the receipts' tier lines
// follow the order they applied in. Two sales for the last use of a coupon: one wins, the other is
// refused as the pipelined path refused it (COUPON_USED_UP). The same for two captures of two held
// sales of one member across the threshold (upgraded once), and for a held sale and a captured
// sale racing for a coupon's last use.
import t from 'tap'
import { sql } from 'drizzle-orm'
import { queryRows } from '../../../src/db/client.js'
import { onRealPostgres, startTestApp } from '../../helpers/app.js'
import { idemKey, Till, VND_RULES } from '../../helpers/pos.js'

const ctx = await startTestApp(t)
const skip = onRealPostgres ? false : 'needs a second connection to hold rows while the sales plan (PostgreSQL only)'
const cash = (amount: string) => [{ type: 'cash', amount }]
const TIERS = {
  metric: 'spend',
  windowMonths: 12,
  retentionMonths: 12,
  levels: [
    { code: 'member', name: 'Member', threshold: '0' },
    { code: 'silver', name: 'Silver', threshold: '1000000' },
  ],
}

async function until(what: string, check: () => Promise<boolean>): Promise<void> {
  const since = Date.now()
  while (!(await check())) {
    if (Date.now() - since > 10_000) throw new Error(`timed out waiting until ${what} (executor: ${JSON.stringify(ctx.database.applier.load)})`)
    await new Promise((resolve) => setTimeout(resolve, 5))
  }
}

async function blockedBy(pid: number): Promise<number> {
  const rows = await queryRows<{ n: number }>(ctx.database.db, sql`select count(*)::int as n from pg_stat_activity where datname = current_database() and ${pid}::int = any(pg_blocking_pids(pid))`)
  return Number(rows[0]!.n)
}

/** Holds `lock` (a statement locking rows) in a transaction of its own until `release` is called. */
async function holding(lock: ReturnType<typeof sql>) {
  let release!: () => void
  const released = new Promise<void>((resolve) => (release = resolve))
  let pid = 0
  let held!: () => void
  const ready = new Promise<void>((resolve) => (held = resolve))
  const done = ctx.database.transaction(async (tx) => {
    pid = Number((await queryRows<{ pid: number }>(tx, sql`select pg_backend_pid() as pid`))[0]!.pid)
    await queryRows(tx, lock)
    held()
    await released
  })
  await ready
  return { pid, release, done }
}

t.test('two sales of one member across a tier threshold: the upgrade happens once, the tier lines agree', { skip }, async (t) => {
  const p = await ctx.createProgram({ rules: { ...VND_RULES, tiers: TIERS } })
  const till = new Till(ctx, p.token)
  const m = await ctx.enrol(p.token)
  t.equal((await till.purchase(m.id, [{ sku: 'A', quantity: 1, unitPrice: '600000' }], cash('600000'))).statusCode, 201)

  // Both sales load 600,000 and plan 900,000 (no upgrade) while the member's row is held.
  const holder = await holding(sql`select id from members where program_id = ${p.id} and id = ${m.id} for update`)
  const sales = [0, 1].map(() => till.purchase(m.id, [{ sku: 'A', quantity: 1, unitPrice: '300000' }], cash('300000')))
  await until('both sales wait on the member’s row', async () => (await blockedBy(holder.pid)) >= 1 && ctx.database.applier.load.plansPending === 2)
  holder.release()
  await holder.done
  const answers = await Promise.all(sales)
  t.same(answers.map((a) => a.statusCode), [201, 201], answers.map((a) => a.body).join('\n'))

  const changes = await queryRows<{ from_tier: string | null; to_tier: string; metric: string; purchase_id: string }>(
    ctx.database.db,
    sql`select from_tier, to_tier, metric::text, purchase_id from tier_changes where program_id = ${p.id} and member_id = ${m.id} order by at, id`,
  )
  t.same(changes.map((c) => [c.from_tier, c.to_tier]), [[null, 'member'], ['member', 'silver']], 'the base tier, then silver exactly once')
  t.equal(changes[1]!.metric, '1200000', 'decided on both sales')
  const tier = (await ctx.call(p.token, 'GET', `/v1/members/${m.id}/tier`)).json()
  t.equal(tier.tier.code, 'silver')

  const lines = await Promise.all(answers.map(async (a) => (await ctx.call(p.token, 'GET', `/v1/receipts/${a.json().receipt.id}`, undefined, { accept: 'application/json' })).json().tier))
  const upgrader = answers.findIndex((a) => a.json().id === changes[1]!.purchase_id)
  t.not(upgrader, -1, 'one of the two sales upgraded')
  t.same(lines[upgrader], { name: 'Silver', next: null }, 'the later sale: silver')
  t.same(lines[1 - upgrader], { name: 'Member', next: { name: 'Silver', remaining: '100000', unit: 'money' } }, 'the earlier sale: 100,000 short')
  t.equal(answers[upgrader]!.json().tierCode, 'member', 'the crossing sale was priced at the old tier')
  const events = await queryRows<{ n: number }>(ctx.database.db, sql`select count(*)::int as n from events where program_id = ${p.id} and type = 'tier.changed'`)
  t.ok(Number(events[0]!.n) <= 2, 'tier.changed at most once per change')
})

t.test('two sales for the last use of a coupon: one wins, the other is refused COUPON_USED_UP', { skip }, async (t) => {
  const p = await ctx.createProgram({ rules: VND_RULES })
  const till = new Till(ctx, p.token)
  const campaign = await ctx.call(p.token, 'POST', '/v1/coupons/campaigns', { name: 'Last', kind: 'fixed', value: '10000', codeMode: 'unique', maxUsesPerCode: 1 }, { 'idempotency-key': idemKey() })
  t.equal(campaign.statusCode, 201, campaign.body)
  const issued = await ctx.call(p.token, 'POST', `/v1/coupons/campaigns/${campaign.json().id}/codes`, { count: 1 }, { 'idempotency-key': idemKey() })
  t.equal(issued.statusCode, 201, issued.body)
  const code = (issued.json().codes as string[])[0]!
  const [a, b] = await Promise.all([ctx.enrol(p.token), ctx.enrol(p.token)])

  // Both load the code with one use left and plan it while the code's row is held.
  const holder = await holding(sql`select code from coupons where program_id = ${p.id} and code = ${code} for update`)
  const sales = [a, b].map((m) => till.purchase(m.id, [{ sku: 'A', quantity: 1, unitPrice: '100000' }], cash('90000'), { couponCodes: [code] }))
  await until('both sales wait on the coupon', async () => (await blockedBy(holder.pid)) >= 1 && ctx.database.applier.load.plansPending === 2)
  holder.release()
  await holder.done
  const answers = await Promise.all(sales)
  t.same(answers.map((r) => r.statusCode).sort(), [201, 409], answers.map((r) => r.body).join('\n'))
  const refused = answers.find((r) => r.statusCode === 409)!.json()
  t.match(refused, { code: 'COUPON_USED_UP', couponCode: code })
  const uses = await queryRows<{ uses: number }>(ctx.database.db, sql`select uses from coupons where program_id = ${p.id} and code = ${code}`)
  t.equal(Number(uses[0]!.uses), 1, 'used once')
  const redemptions = await queryRows<{ n: number }>(ctx.database.db, sql`select count(*)::int as n from coupon_redemptions where program_id = ${p.id} and code = ${code}`)
  t.equal(Number(redemptions[0]!.n), 1, 'one redemption recorded')
  await ctx.assertLedgerClean(t, p.token)
})

t.test('two captures of two held sales of one member across a tier threshold: upgraded once, by the later capture', { skip }, async (t) => {
  const p = await ctx.createProgram({ rules: { ...VND_RULES, tiers: TIERS } })
  const till = new Till(ctx, p.token)
  const m = await ctx.enrol(p.token)
  t.equal((await till.purchase(m.id, [{ sku: 'A', quantity: 1, unitPrice: '600000' }], cash('600000'))).statusCode, 201)
  const held = await Promise.all([0, 1].map(() => till.purchase(m.id, [{ sku: 'A', quantity: 1, unitPrice: '300000' }], cash('300000'), { capture: false })))
  t.same(held.map((h) => [h.statusCode, h.json().status]), [[201, 'pending'], [201, 'pending']], 'held sales count for nothing yet')
  t.equal((await ctx.call(p.token, 'GET', `/v1/members/${m.id}/tier`)).json().tier.code, 'member')

  // Both captures load 600,000 and plan 900,000 (no upgrade) while the member's row is held.
  const holder = await holding(sql`select id from members where program_id = ${p.id} and id = ${m.id} for update`)
  const captures = held.map((h) => ctx.call(p.token, 'POST', `/v1/purchases/${h.json().id}/capture`, undefined, { 'idempotency-key': idemKey('c') }))
  await until('both captures wait on the member’s row', async () => (await blockedBy(holder.pid)) >= 1 && ctx.database.applier.load.plansPending === 2)
  holder.release()
  await holder.done
  const answers = await Promise.all(captures)
  t.same(answers.map((a) => [a.statusCode, a.json().status]), [[200, 'completed'], [200, 'completed']], answers.map((a) => a.body).join('\n'))

  const changes = await queryRows<{ from_tier: string | null; to_tier: string; metric: string; purchase_id: string }>(
    ctx.database.db,
    sql`select from_tier, to_tier, metric::text, purchase_id from tier_changes where program_id = ${p.id} and member_id = ${m.id} order by at, id`,
  )
  t.same(changes.map((c) => [c.from_tier, c.to_tier]), [[null, 'member'], ['member', 'silver']], 'the base tier, then silver exactly once')
  t.equal(changes[1]!.metric, '1200000', 'decided on both captures')
  t.ok(held.some((h) => h.json().id === changes[1]!.purchase_id), 'by one of the two captures')
  t.equal((await ctx.call(p.token, 'GET', `/v1/members/${m.id}/tier`)).json().tier.code, 'silver')
  const events = await queryRows<{ n: number }>(ctx.database.db, sql`select count(*)::int as n from events where program_id = ${p.id} and type = 'tier.changed'`)
  t.ok(Number(events[0]!.n) <= 2, 'tier.changed at most once per change')
  t.ok((await ctx.call(p.token, 'GET', '/v1/ledger/verify')).json().ok, 'ledger verify clean')
})

t.test('a held sale and a captured sale for the last use of a coupon: one wins, the other is refused COUPON_USED_UP', { skip }, async (t) => {
  const p = await ctx.createProgram({ rules: VND_RULES })
  const till = new Till(ctx, p.token)
  const campaign = await ctx.call(p.token, 'POST', '/v1/coupons/campaigns', { name: 'Last', kind: 'fixed', value: '10000', codeMode: 'unique', maxUsesPerCode: 1 }, { 'idempotency-key': idemKey() })
  t.equal(campaign.statusCode, 201, campaign.body)
  const issued = await ctx.call(p.token, 'POST', `/v1/coupons/campaigns/${campaign.json().id}/codes`, { count: 1 }, { 'idempotency-key': idemKey() })
  const code = (issued.json().codes as string[])[0]!
  const [a, b] = await Promise.all([ctx.enrol(p.token), ctx.enrol(p.token)])

  const holder = await holding(sql`select code from coupons where program_id = ${p.id} and code = ${code} for update`)
  const sales = [a, b].map((m, i) => till.purchase(m.id, [{ sku: 'A', quantity: 1, unitPrice: '100000' }], cash('90000'), { couponCodes: [code], capture: i === 1 }))
  await until('both sales wait on the coupon', async () => (await blockedBy(holder.pid)) >= 1 && ctx.database.applier.load.plansPending === 2)
  holder.release()
  await holder.done
  const answers = await Promise.all(sales)
  t.same(answers.map((r) => r.statusCode).sort(), [201, 409], answers.map((r) => r.body).join('\n'))
  t.match(answers.find((r) => r.statusCode === 409)!.json(), { code: 'COUPON_USED_UP', couponCode: code })
  const won = answers.find((r) => r.statusCode === 201)!.json()
  t.equal(won.status, won.memberId === a.id ? 'pending' : 'completed')
  const uses = await queryRows<{ uses: number }>(ctx.database.db, sql`select uses from coupons where program_id = ${p.id} and code = ${code}`)
  t.equal(Number(uses[0]!.uses), 1, 'used once')
  const redemptions = await queryRows<{ n: number }>(ctx.database.db, sql`select count(*)::int as n from coupon_redemptions where program_id = ${p.id} and code = ${code}`)
  t.equal(Number(redemptions[0]!.n), 1, 'one redemption recorded')
})
