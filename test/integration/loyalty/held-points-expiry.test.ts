// Issue 14 part 3: points reserved by a pending purchase come out of the lots they will consume and
// are never expired while held; a void, an expired hold or the uncaptured part of a capture gives
// them back to their lots, and what is past due then expires at once. The job runs live on a later
// day through the injected clock (app.now()), never by dating a run in the future.
import t from 'tap'
import { sql } from 'drizzle-orm'
import { startTestApp } from '../../helpers/app.js'
import { idemKey, Till, VND_RULES } from '../../helpers/pos.js'

const DAY = 86_400_000
const clock = { at: new Date() }
const ctx = await startTestApp(t, {}, { now: () => clock.at })
t.afterEach(() => {
  clock.at = new Date()
})
const daysLater = (days: number) => {
  clock.at = new Date(Date.now() + days * DAY)
}

async function runJob(token: string, name: string) {
  const res = await ctx.call(token, 'POST', `/v1/jobs/${name}/runs`, {})
  if (res.statusCode !== 201 && res.statusCode !== 200) throw new Error(`${name}: ${res.statusCode} ${res.body}`)
  return res.json()
}

/** A member with a lot of 50 points earned `soonerDaysAgo` days ago and one of 100 earned now, and the program's till. */
async function memberWithTwoLots(rules: Record<string, unknown>, soonerDaysAgo: number) {
  const p = await ctx.createProgram({ name: 'Held points', rules: { ...VND_RULES, offlineWindowHours: 24 * 90, ...rules } })
  const till = new Till(ctx, p.token)
  const m = await ctx.enrol(p.token)
  const sooner = await till.purchase(m.id, [{ sku: 'A', quantity: 1, unitPrice: '500000' }], [{ type: 'cash', amount: '500000' }], {
    occurredAt: new Date(Date.now() - soonerDaysAgo * DAY).toISOString(),
  })
  const later = await till.purchase(m.id, [{ sku: 'B', quantity: 1, unitPrice: '1000000' }], [{ type: 'cash', amount: '1000000' }])
  if (sooner.json().pointsEarned !== 50 || later.json().pointsEarned !== 100) throw new Error(`setup: ${sooner.body} ${later.body}`)
  return { p, till, m }
}

/** A pending purchase paying 40 points (4,000 VND). */
async function holdForty(till: Till, memberId: string) {
  const res = await till.purchase(memberId, [{ sku: 'H', quantity: 1, unitPrice: '4000' }], [{ type: 'points', points: 40 }], { capture: false })
  if (res.statusCode !== 201) throw new Error(`hold: ${res.statusCode} ${res.body}`)
  return res.json().id as string
}

const capture = (token: string, id: string, body?: Record<string, unknown>) => ctx.call(token, 'POST', `/v1/purchases/${id}/capture`, body, { 'idempotency-key': idemKey('c') })
const expiredPoints = async (token: string, memberId: string) =>
  ((await ctx.call(token, 'GET', `/v1/members/${memberId}/activity?limit=100`)).json().data as { kind: string; points: number }[])
    .filter((a) => a.kind === 'expiry')
    .map((a) => a.points)

// Lots: 50 points expiring in 10 days, 100 in 90 days.
const TEN_DAYS_LEFT = { pointsExpiry: { afterDays: 90, roundUpTo: 'day', restoredGraceDays: 30 } }

t.test('points held before the sooner lot expires are not expired under the hold; the capture takes them from that lot', async (t) => {
  const { p, till, m } = await memberWithTwoLots(TEN_DAYS_LEFT, 80)
  const held = await holdForty(till, m.id)
  daysLater(12)
  const run = await runJob(p.token, 'expire-points')
  t.match(run.result, { members: 1, points: 10, deferredByHolds: 1 }, 'only the 10 free points of the sooner lot expire; the 40 held stay')
  t.match((await till.balances(m.id)).points, { balance: 140, pending: 40, available: 100 })

  const captured = await capture(p.token, held)
  t.equal(captured.statusCode, 200, captured.body)
  t.match((await till.balances(m.id)).points, { balance: 100, pending: 0, available: 100 }, 'the later lot is untouched: the member lost nothing')
  t.same(await expiredPoints(p.token, m.id), [-10], 'breakage counted once, for the free points only')
  t.same((await till.verify()).discrepancies, [])
})

t.test('a hold that expires after its lot is past due gives the points back and expires them at once', async (t) => {
  const { p, till, m } = await memberWithTwoLots(TEN_DAYS_LEFT, 80)
  await holdForty(till, m.id)
  daysLater(12)
  t.match((await runJob(p.token, 'expire-points')).result, { points: 10 })
  t.match((await runJob(p.token, 'void-expired-holds')).result, { voided: 1 }, 'the 7-day hold has ended by then')
  t.match((await till.balances(m.id)).points, { balance: 100, pending: 0 }, 'the 40 points went back to their lot, past due, and expired')
  t.same((await expiredPoints(p.token, m.id)).sort(), [-10, -40])
  t.same((await till.verify()).discrepancies, [])
})

t.test('a void before the lot is due gives the points back free; the next run expires them', async (t) => {
  const { p, till, m } = await memberWithTwoLots(TEN_DAYS_LEFT, 80)
  const held = await holdForty(till, m.id)
  daysLater(12)
  t.match((await runJob(p.token, 'expire-points')).result, { points: 10 })
  const voided = await ctx.call(p.token, 'POST', `/v1/purchases/${held}/void`, {}, { 'idempotency-key': idemKey('v') })
  t.equal(voided.statusCode, 200, voided.body)
  t.match((await till.balances(m.id)).points, { balance: 140, pending: 0 }, 'the lot is not due yet by the till’s clock: nothing expires at the void')
  daysLater(13)
  t.match((await runJob(p.token, 'expire-points')).result, { points: 40, deferredByHolds: 0 })
  t.match((await till.balances(m.id)).points, { balance: 100 })
  t.same((await till.verify()).discrepancies, [])
})

t.test('a smaller capture takes the held points of the lot past due and expires the rest of that lot at once', async (t) => {
  // afterDays 1: the lot earned 54 hours ago (two local days back at least) is past due; the job has not run yet.
  const { p, till, m } = await memberWithTwoLots({ pointsExpiry: { afterDays: 1, roundUpTo: 'day', restoredGraceDays: 30 } }, 54 / 24)
  const held = await holdForty(till, m.id)
  const captured = await capture(p.token, held, { amount: '2000' })
  t.equal(captured.statusCode, 200, captured.body)
  t.equal(captured.json().pointsRedeemed, 20)
  t.match((await till.balances(m.id)).points, { balance: 100, pending: 0 }, '20 spent and 30 expired from the due lot; the lot of today untouched')
  t.same(await expiredPoints(p.token, m.id), [-30])
  t.same((await till.verify()).discrepancies, [])
})

t.test('holds placed at once on one wallet reserve different parts of the lots', async (t) => {
  const { p, till, m } = await memberWithTwoLots(TEN_DAYS_LEFT, 80)
  await Promise.all([holdForty(till, m.id), holdForty(till, m.id), holdForty(till, m.id)])
  t.same((await till.verify()).discrepancies, [], 'every lot holds what the holds reserve of it')
  daysLater(12)
  t.match((await runJob(p.token, 'expire-points')).result, { points: 0, deferredByHolds: 1 }, 'all 50 points of the sooner lot are held')
  t.match((await till.balances(m.id)).points, { balance: 150, pending: 120 })
})

t.test('verify reports lots whose held part disagrees with the pending holds, and holds not backed by lots', async (t) => {
  const { p, till, m } = await memberWithTwoLots(TEN_DAYS_LEFT, 80)
  await holdForty(till, m.id)
  const db = ctx.database.db
  await db.execute(sql`update points_lots set held = 0 where program_id = ${p.id} and member_id = ${m.id}`)
  t.match((await till.verify()).discrepancies, [{ check: 'lots_held', detail: /0 of 50 points held, pending holds reserve 40/ }], 'held points that a debit or expiry could take')
  await db.execute(sql`update points_lots set held = 40 where program_id = ${p.id} and member_id = ${m.id} and points = 50`)
  t.same((await till.verify()).discrepancies, [])
  await db.execute(sql`update lot_holds set points = points - 5, cut = cut - 5 where program_id = ${p.id}`)
  t.match((await till.verify()).discrepancies, [{ check: 'holds_backed_by_lots', detail: /of 40 points reserved 35 of lots/ }], 'a hold that did not reserve its amount')
})

t.test('a clawback into a negative balance may take held points: the hold can no longer be captured, the ledger still reconciles', async (t) => {
  const p = await ctx.createProgram({ name: 'Overdraft', rules: { ...VND_RULES, clawbackPolicy: 'negative_balance', ...TEN_DAYS_LEFT } })
  const till = new Till(ctx, p.token)
  const m = await ctx.enrol(p.token)
  const sale = await till.purchase(m.id, [{ sku: 'A', quantity: 1, unitPrice: '1000000' }], [{ type: 'cash', amount: '1000000' }])
  const held = await till.purchase(m.id, [{ sku: 'H', quantity: 1, unitPrice: '8000' }], [{ type: 'points', points: 80 }], { capture: false })
  t.equal(held.statusCode, 201)
  const ret = await till.returnPurchase(sale.json().id, { lines: [{ sku: 'A', quantity: 1 }] })
  t.equal(ret.statusCode, 201, ret.body)
  t.match((await till.balances(m.id)).points, { balance: 0, pending: 80 })
  t.same((await till.verify()).discrepancies, [])
  const refused = await capture(p.token, held.json().id)
  t.equal(refused.json().code, 'INSUFFICIENT_FUNDS')
  t.equal((await ctx.call(p.token, 'POST', `/v1/purchases/${held.json().id}/void`, {}, { 'idempotency-key': idemKey('v') })).statusCode, 200)
  t.same((await till.verify()).discrepancies, [])
})
