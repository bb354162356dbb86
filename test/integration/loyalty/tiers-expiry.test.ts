// Issue 5 scenarios driven by asOf dates: tiers (upgrade on the crossing purchase, kept through
// the retention period, lowered at review), points lots (FIFO, restored by returns, expired into
// breakage exactly once) and the points expiring soon on the balances.
import t from 'tap'
import { sql } from 'drizzle-orm'
import { queryRows } from '../../../src/db/client.js'
import { startTestApp } from '../../helpers/app.js'
import { TestClock } from '../../helpers/clock.js'
import { Till, VND_RULES } from '../../helpers/pos.js'
import { subscribeWebhook } from '../../helpers/webhooks.js'

const clock = new TestClock()
const ctx = await startTestApp(t, {}, { now: clock.now })
const DAY = 86_400_000

const TIERS = {
  metric: 'spend',
  windowMonths: 12,
  retentionMonths: 12,
  levels: [
    { code: 'member', name: 'Member', threshold: '0' },
    { code: 'silver', name: 'Silver', threshold: '1000000', earnMultiplier: '1.5', discountPercent: '5' },
    { code: 'gold', name: 'Gold', threshold: '5000000', earnMultiplier: '2', discountPercent: '10' },
  ],
}

async function program(rules: Record<string, unknown>) {
  const p = await ctx.createProgram({ name: 'Loyalty scenario', rules: { ...VND_RULES, offlineWindowHours: 24 * 90, ...rules } })
  // The outbox keeps the events an endpoint may receive (tier.changed, points.expiringSoon are checked there).
  await subscribeWebhook(ctx, p.token)
  return { p, till: new Till(ctx, p.token) }
}

const cash = (amount: string) => [{ type: 'cash', amount }]
/** Runs a job as of `asOf` on that day: the service's clock moves there first (a run may not be dated later than now). */
const runJob = async (token: string, name: string, asOf: Date) => {
  clock.set(asOf)
  const res = await ctx.call(token, 'POST', `/v1/jobs/${name}/runs`, { asOf: asOf.toISOString() })
  if (res.statusCode !== 201 && res.statusCode !== 200) throw new Error(`${name}: ${res.statusCode} ${res.body}`)
  return res.json()
}
const eventsOf = (programId: string, type: string) =>
  queryRows<{ member_id: string; payload: Record<string, unknown> }>(ctx.database.db, sql`select member_id, payload from events where program_id = ${programId} and type = ${type} order by id`)
const tierOf = async (token: string, memberId: string) => (await ctx.call(token, 'GET', `/v1/members/${memberId}/tier`)).json()

t.test('tiers: upgrade on the crossing purchase (old rate), better price and faster earning after, kept until review, lowered at review', async (t) => {
  const { p, till } = await program({ tiers: TIERS })
  const m = await ctx.enrol(p.token)

  let tier = await tierOf(p.token, m.id)
  t.equal(tier.tier, null, 'no tier before any purchase')
  t.match(tier.next, { code: 'silver', remaining: '1000000' }, 'the base tier (threshold 0) is reached by the first purchase')

  const first = await till.purchase(m.id, [{ sku: 'A', quantity: 1, unitPrice: '200000' }], cash('200000'))
  t.equal(first.statusCode, 201)
  t.equal(first.json().pointsEarned, 20)
  tier = await tierOf(p.token, m.id)
  t.equal(tier.tier.code, 'member', 'the first purchase qualifies for the base tier')
  t.same(tier.metric.value, '200000')
  t.match(tier.next, { code: 'silver', threshold: '1000000', remaining: '800000' })

  const crossing = await till.purchase(m.id, [{ sku: 'B', quantity: 1, unitPrice: '900000' }], cash('900000'))
  t.equal(crossing.json().pointsEarned, 90, 'the crossing purchase earns at the old rate')
  t.same(crossing.json().discounts, [], 'and gets no silver discount')
  t.equal(crossing.json().tierCode, 'member')
  tier = await tierOf(p.token, m.id)
  t.equal(tier.tier.code, 'silver', 'upgraded at once')
  const guaranteed = new Date(tier.guaranteedUntil)
  t.ok(Math.abs(guaranteed.getTime() - new Date(tier.since).getTime() - 365 * DAY) <= 2 * DAY, 'guaranteed for the 12-month retention period')

  const wrongTotal = await till.purchase(m.id, [{ sku: 'C', quantity: 2, unitPrice: '500000' }], cash('1000000'))
  t.equal(wrongTotal.statusCode, 422, 'tenders must match the discounted total')
  t.equal(wrongTotal.json().code, 'TENDERS_DO_NOT_MATCH_TOTAL')
  t.equal(wrongTotal.json().total, '950000')

  const silver = await till.purchase(m.id, [{ sku: 'C', quantity: 2, unitPrice: '500000' }], cash('950000'))
  t.equal(silver.statusCode, 201)
  const body = silver.json()
  t.same(body.discounts, [{ type: 'tier', code: 'silver', name: 'Silver', percent: '5', amount: '50000' }], 'the better price is a discount line')
  t.equal(body.total, '950000')
  t.equal(body.discountTotal, '50000')
  t.equal(body.lines[0].orderDiscount, '50000')
  t.equal(body.lines[0].amount, '950000')
  t.equal(body.pointsEarned, 142, '95 points x 1.5, rounded down')
  t.equal(body.tierCode, 'silver')

  // Returning one of the two items gives back what it really cost (after the tier discount) and claws back at 1.5x.
  const ret = await till.returnPurchase(body.id, { lines: [{ sku: 'C', quantity: 1 }] })
  t.equal(ret.statusCode, 201)
  t.equal(ret.json().amount, '475000')
  t.equal(ret.json().pointsClawedBack, 71, '142 - 71 = 71 still earned on 475,000 at 1.5x')

  const early = await runJob(p.token, 'review-tiers', new Date(Date.now() + 180 * DAY))
  t.same(early.result, { reviewed: 0, kept: 0, upgraded: 0, downgraded: 0 }, 'nobody is reviewed inside the retention period')
  t.equal((await tierOf(p.token, m.id)).tier.code, 'silver')

  const review = await runJob(p.token, 'review-tiers', new Date(guaranteed.getTime() + 2 * DAY))
  t.same(review.result, { reviewed: 1, kept: 0, upgraded: 0, downgraded: 1 }, 'after the guarantee the window holds no spend: lowered')
  tier = await tierOf(p.token, m.id)
  t.equal(tier.tier.code, 'member')
  t.match(
    (await eventsOf(p.id, 'tier.changed')).map((e) => e.payload),
    [
      { memberId: m.id, from: null, to: 'member', direction: 'up', reason: 'upgrade' },
      { memberId: m.id, from: 'member', to: 'silver', direction: 'up', reason: 'upgrade' },
      { memberId: m.id, from: 'silver', to: 'member', direction: 'down', reason: 'review' },
    ],
    'each change is a tier.changed event',
  )
  const again = await runJob(p.token, 'review-tiers', new Date(guaranteed.getTime() + 2 * DAY))
  t.equal(again.replayed, true, 'the same date does not run twice')
  t.same((await till.verify()).discrepancies, [])
})

t.test('tiers: a member who still qualifies at review keeps the tier for another period', async (t) => {
  const { p, till } = await program({ tiers: { ...TIERS, retentionMonths: 1 } })
  const m = await ctx.enrol(p.token)
  await till.purchase(m.id, [{ sku: 'A', quantity: 1, unitPrice: '6000000' }], cash('6000000'))
  const tier = await tierOf(p.token, m.id)
  t.equal(tier.tier.code, 'gold')
  const review = await runJob(p.token, 'review-tiers', new Date(new Date(tier.guaranteedUntil).getTime() + DAY))
  t.same(review.result, { reviewed: 1, kept: 1, upgraded: 0, downgraded: 0 })
  const after = await tierOf(p.token, m.id)
  t.equal(after.tier.code, 'gold')
  t.ok(new Date(after.guaranteedUntil) > new Date(tier.guaranteedUntil), 'guaranteed again')
})

t.test('points lots: redemption takes the soonest-expiring lot first, a return refills it, expiry posts breakage exactly once', async (t) => {
  const { p, till } = await program({ pointsExpiry: { afterDays: 365, roundUpTo: 'day', restoredGraceDays: 30 } })
  const m = await ctx.enrol(p.token)
  const old = await till.purchase(m.id, [{ sku: 'A', quantity: 1, unitPrice: '500000' }], cash('500000'), { occurredAt: new Date(Date.now() - 80 * DAY).toISOString() })
  t.equal(old.json().pointsEarned, 50)
  const recent = await till.purchase(m.id, [{ sku: 'B', quantity: 1, unitPrice: '300000' }], cash('300000'))
  t.equal(recent.json().pointsEarned, 30)

  // 30 points (3,000 VND) from the older lot.
  const spend = await till.purchase(m.id, [{ sku: 'C', quantity: 1, unitPrice: '10000' }], [{ type: 'points', points: 30 }, { type: 'cash', amount: '7000' }])
  t.equal(spend.statusCode, 201)
  t.equal(spend.json().balances.points.balance, 50 + 30 - 30)

  // The older lot expires first: 20 left of it go to breakage.
  const oldExpiry = new Date(Date.now() - 80 * DAY + 366 * DAY)
  const first = await runJob(p.token, 'expire-points', oldExpiry)
  t.match(first.result, { members: 1, points: 20 }, 'only what is left of the older lot expires')
  t.equal((await till.balances(m.id)).points.balance, 30)
  // Again on the same local date (an hour later could be the next day in the program zone).
  const twice = await runJob(p.token, 'expire-points', oldExpiry)
  t.equal(twice.replayed, true, 'the same date does not run twice')
  const nextDay = await runJob(p.token, 'expire-points', new Date(oldExpiry.getTime() + DAY))
  t.match(nextDay.result, { members: 0, points: 0 }, 'breakage is posted once, even on a later date')

  // Returning the points purchase after the older lot expired: its 30 points come back in a new lot with the grace period.
  const ret = await till.returnPurchase(spend.json().id, { lines: [{ sku: 'C', quantity: 1 }] })
  t.equal(ret.statusCode, 201)
  t.equal((await till.balances(m.id)).points.balance, 60)

  const all = await runJob(p.token, 'expire-points', new Date(Date.now() + 400 * DAY))
  t.match(all.result, { points: 60 }, 'the rest expires in the end, restored points included')
  t.equal((await till.balances(m.id)).points.balance, 0)
  const report = await till.verify()
  t.equal(report.ok, true)
  t.same(report.discrepancies, [])
})

t.test('points lots: a return before expiry refills the lot the points came from', async (t) => {
  const { p, till } = await program({ pointsExpiry: { afterDays: 10, roundUpTo: 'day', restoredGraceDays: 30 } })
  const m = await ctx.enrol(p.token)
  await till.grantPoints(m.id, 100)
  const spend = await till.purchase(m.id, [{ sku: 'C', quantity: 1, unitPrice: '5000' }], [{ type: 'points', points: 50 }])
  await till.returnPurchase(spend.json().id, { lines: [{ sku: 'C', quantity: 1 }] })
  const balances = await till.balances(m.id)
  t.equal(balances.points.balance, 100)
  const notice = await runJob(p.token, 'expire-points', new Date(Date.now() + DAY))
  t.match(notice.result, { points: 0, noticed: 1 }, 'nothing expired yet; the member is told')
  t.match((await eventsOf(p.id, 'points.expiringSoon')).map((e) => e.payload), [{ memberId: m.id, points: 100 }])
  const noticeAgain = await runJob(p.token, 'expire-points', new Date(Date.now() + 2 * DAY))
  t.match(noticeAgain.result, { noticed: 0 }, 'once per lot')
  t.equal(balances.pointsExpiring.length, 1, 'one lot, refilled: all 100 points expire together within 30 days')
  t.equal(balances.pointsExpiring[0].points, 100)
  const expiry = await runJob(p.token, 'expire-points', new Date(Date.now() + 12 * DAY))
  t.match(expiry.result, { points: 100 })
  t.same((await till.verify()).discrepancies, [])
})

t.test('points held by a pending purchase are not expired under it', async (t) => {
  const { p, till } = await program({ pointsExpiry: { afterDays: 5, roundUpTo: 'day', restoredGraceDays: 30 } })
  const m = await ctx.enrol(p.token)
  await till.grantPoints(m.id, 100)
  const held = await till.purchase(m.id, [{ sku: 'A', quantity: 1, unitPrice: '4000' }], [{ type: 'points', points: 40 }], { capture: false })
  t.equal(held.statusCode, 201)
  const run = await runJob(p.token, 'expire-points', new Date(Date.now() + 7 * DAY))
  t.match(run.result, { points: 60, deferredByHolds: 1 }, '60 expire, 40 stay under the hold')
  t.equal((await till.balances(m.id)).points.balance, 40)
  t.same((await till.verify()).discrepancies, [])
})
