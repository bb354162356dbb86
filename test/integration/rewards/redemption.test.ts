// Redeeming rewards for points through the API: the points debited through the ledger, a coupon
// issued to the member, stock and limits held under concurrent redemptions (on PostgreSQL they
// really run at once: one wins the last unit), the refusals, another program's reward not found,
// a retry with its key answered once, and the ledger verified clean after.
import t, { type Test } from 'tap'
import { startTestApp } from '../../helpers/app.js'
import { idemKey, Till } from '../../helpers/pos.js'
import { pgErrorOf } from '../../../src/shared/errors.js'
import { newId } from '../../../src/shared/ids.js'
import { rewardsWithCampaigns } from '../../../src/modules/rewards/redeem.js'
import { redemptionPlan, redemptionRefusal, type RedemptionPlan } from '../../../src/modules/rewards/redeem-plan.js'

const ctx = await startTestApp(t)
const shop = await ctx.createProgram()
const other = await ctx.createProgram()
const pos = await ctx.createClient(shop.id, ['pos'])
const till = new Till(ctx, shop.token)

async function reward(body: Record<string, unknown> = {}, token = shop.token) {
  const res = await ctx.call(token, 'POST', '/v1/rewards', { name: 'Cà phê sữa đá', pointsPrice: 100, gives: { kind: 'item', sku: 'CF-01' }, ...body }, { 'idempotency-key': idemKey('rw') })
  if (res.statusCode !== 201) throw new Error(res.body)
  return res.json() as { id: string }
}
async function memberWith(points: number, token = shop.token) {
  const m = await ctx.enrol(token)
  if (points > 0) await new Till(ctx, token).grantPoints(m.id, points)
  return m.id
}
const redeem = (memberId: string, rewardId: string, key = idemKey('rd'), token = pos.token) =>
  ctx.call(token, 'POST', `/v1/members/${memberId}/rewards/${rewardId}/redemptions`, undefined, { 'idempotency-key': key })
const points = async (memberId: string) => (await ctx.call(shop.token, 'GET', `/v1/members/${memberId}/balances`)).json().points.available as number
const rewardNow = async (id: string) => (await ctx.call(shop.token, 'GET', `/v1/rewards/${id}`)).json()
const verify = (t: Test) => ctx.assertLedgerClean(t, shop.token)

t.test('an item for 100 points: the debit through the ledger, the stock taken, the balance after', async (t) => {
  const r = await reward({ stock: 5 })
  const m = await memberWith(300)
  const res = await redeem(m, r.id)
  t.equal(res.statusCode, 201, res.body)
  const body = res.json()
  t.match(body, {
    redemption: { memberId: m, reward: { id: r.id, name: 'Cà phê sữa đá' }, points: 100, gives: { kind: 'item', sku: 'CF-01', description: null }, status: 'active', cancelledAt: null, cancellationEntryId: null },
    balances: { memberId: m, points: { balance: 200, available: 200, pending: 0 } },
  })
  t.match(await rewardNow(r.id), { stock: 4, redemptions: 1 })
  t.equal(await points(m), 200)
  const entry = (await ctx.call(shop.token, 'GET', `/v1/ledger/entries/${body.redemption.entryId}`)).json()
  t.match(entry, { kind: 'reward_redemption', memberId: m, reason: 'Cà phê sữa đá', reference: { type: 'reward_redemption', id: body.redemption.id } })
  t.same(
    entry.postings.map((p: { accountType: string; amount: string; balanceAfter: string | null }) => [p.accountType, p.amount, p.balanceAfter]),
    [
      ['member_points', '-100', '200'],
      ['points_redeemed', '100', null],
    ],
  )
  const activity = (await ctx.call(pos.token, 'GET', `/v1/members/${m}/activity`)).json().data
  t.match(activity[0], { kind: 'reward_redemption', points: -100, pointsBalanceAfter: 200 })
  await verify(t)
})

t.test('a coupon reward issues a unique code of its campaign to the member alone', async (t) => {
  const c = (await ctx.call(shop.token, 'POST', '/v1/coupons/campaigns', { name: '35k off', kind: 'fixed', value: '35000', codeMode: 'unique', maxUsesPerCode: 1 }, { 'idempotency-key': idemKey() })).json()
  const r = await reward({ name: 'Phiếu 35k', pointsPrice: 250, gives: { kind: 'coupon', campaignId: c.id } })
  const m = await memberWith(600)
  const [a, b] = [await redeem(m, r.id), await redeem(m, r.id)]
  t.equal(a.statusCode, 201, a.body)
  t.equal(b.statusCode, 201, b.body)
  const [codeA, codeB] = [a.json().redemption.gives.couponCode, b.json().redemption.gives.couponCode]
  t.match(a.json().redemption.gives, { kind: 'coupon', campaignId: c.id, couponCode: /^[0-9A-Z]{10}$/ })
  t.not(codeA, codeB, 'each redemption its own code')
  t.equal(b.json().balances.points.available, 100)
  const mine = (await ctx.call(pos.token, 'GET', `/v1/coupons/${codeA}?memberId=${m}`)).json()
  t.match(mine, { memberId: m, state: 'usable', usesLeft: 1 })
  const stranger = await memberWith(0)
  t.equal((await ctx.call(pos.token, 'GET', `/v1/coupons/${codeA}?memberId=${stranger}`)).json().state, 'not_for_member')
  // The member spends it at the till.
  const sale = await till.purchase(m, [{ sku: 'X', quantity: 1, unitPrice: '100000' }], [{ type: 'cash', amount: '65000' }], { couponCodes: [codeA] })
  t.equal(sale.statusCode, 201, sale.body)
  await verify(t)
})

t.test('refusals: points short, a limit per member, not available now; nothing is written', async (t) => {
  const r = await reward({ stock: 10, maxPerMember: 2 })
  const poor = await memberWith(99)
  const short = await redeem(poor, r.id)
  t.equal(short.statusCode, 422)
  t.match(short.json(), { code: 'INSUFFICIENT_FUNDS', asset: 'POINTS' })
  t.equal(await points(poor), 99)

  const m = await memberWith(1000)
  t.equal((await redeem(m, r.id)).statusCode, 201)
  t.equal((await redeem(m, r.id)).statusCode, 201)
  const third = await redeem(m, r.id)
  t.equal(third.statusCode, 409)
  t.match(third.json(), { code: 'REWARD_LIMIT_REACHED', rewardId: r.id })
  t.equal(await points(m), 800, 'the refused third took nothing')
  t.match(await rewardNow(r.id), { stock: 8, redemptions: 2 })

  const later = await reward({ validFrom: new Date(Date.now() + 86_400_000).toISOString() })
  const past = await reward({ validFrom: '2025-01-01T00:00:00Z', validTo: '2025-02-01T00:00:00Z' })
  const paused = await reward()
  await ctx.call(shop.token, 'PATCH', `/v1/rewards/${paused.id}`, { active: false })
  for (const [id, reason] of [
    [later.id, 'not_started'],
    [past.id, 'ended'],
    [paused.id, 'inactive'],
  ] as const) {
    const res = await redeem(m, id)
    t.equal(res.statusCode, 409, reason)
    t.match(res.json(), { code: 'REWARD_NOT_AVAILABLE', reason }, reason)
  }
  const none = await reward({ stock: 0 })
  t.match((await redeem(m, none.id)).json(), { status: 409, code: 'REWARD_OUT_OF_STOCK' })
  await ctx.call(shop.token, 'DELETE', `/v1/members/${poor}`)
  t.match((await redeem(poor, r.id)).json(), { status: 409, code: 'MEMBER_ERASED' })
  t.equal(await points(m), 800)
  await verify(t)
})

t.test('another program’s reward or member is not found; a reader cannot redeem', async (t) => {
  const theirs = await reward({}, other.token)
  const m = await memberWith(500)
  const res = await redeem(m, theirs.id)
  t.equal(res.statusCode, 404)
  t.equal(res.json().code, 'REWARD_NOT_FOUND')
  const theirMember = await memberWith(500, other.token)
  const mine = await reward()
  const res2 = await redeem(theirMember, mine.id)
  t.equal(res2.statusCode, 404)
  t.equal(res2.json().code, 'MEMBER_NOT_FOUND')
  const reader = await ctx.createClient(shop.id, ['members:read'])
  t.equal((await redeem(m, mine.id, idemKey(), reader.token)).statusCode, 403)
  t.equal(await points(m), 500)
})

t.test('a redemption retried with its key answers the same body once; the generic reversal refuses its entry', async (t) => {
  const r = await reward({ stock: 3 })
  const m = await memberWith(300)
  const key = idemKey('same')
  const first = await redeem(m, r.id, key)
  const again = await redeem(m, r.id, key)
  t.equal(first.statusCode, 201)
  t.equal(again.statusCode, 201)
  t.equal(again.headers['idempotent-replayed'], 'true')
  t.same(again.json(), first.json(), 'the same bytes')
  t.equal(await points(m), 200, 'debited once')
  t.match(await rewardNow(r.id), { stock: 2 })
  const reversal = await ctx.call(shop.token, 'POST', `/v1/ledger/entries/${first.json().redemption.entryId}/reversal`, { reason: 'till mistake' }, { 'idempotency-key': idemKey() })
  t.equal(reversal.statusCode, 409)
  t.equal(reversal.json().code, 'CANNOT_REVERSE_REWARD_REDEMPTION')
  t.equal(await points(m), 200)
})

t.test('10 members redeem the last unit at once: exactly one wins, the others are out of stock', async (t) => {
  const r = await reward({ name: 'Last one', stock: 1, pointsPrice: 50 })
  const members = await Promise.all(Array.from({ length: 10 }, () => memberWith(100)))
  const answers = await Promise.all(members.map((m) => redeem(m, r.id)))
  const won = answers.filter((a) => a.statusCode === 201)
  t.equal(won.length, 1, 'one 201')
  t.same(
    answers.filter((a) => a.statusCode !== 201).map((a) => [a.statusCode, a.json().code]),
    Array.from({ length: 9 }, () => [409, 'REWARD_OUT_OF_STOCK']),
  )
  t.match(await rewardNow(r.id), { stock: 0, redemptions: 1 })
  const balances = await Promise.all(members.map(points))
  t.same(balances.sort(), [50, ...Array(9).fill(100)].sort(), 'only the winner paid')
  await verify(t)
})

t.test('one member redeems a reward limited to one per member five times at once: one wins', async (t) => {
  const r = await reward({ name: 'One each', maxPerMember: 1, pointsPrice: 10 })
  const m = await memberWith(100)
  const answers = await Promise.all([1, 2, 3, 4, 5].map(() => redeem(m, r.id)))
  t.equal(answers.filter((a) => a.statusCode === 201).length, 1)
  t.same(
    answers.filter((a) => a.statusCode !== 201).map((a) => a.json().code),
    ['REWARD_LIMIT_REACHED', 'REWARD_LIMIT_REACHED', 'REWARD_LIMIT_REACHED', 'REWARD_LIMIT_REACHED'],
  )
  t.equal(await points(m), 90)
  await verify(t)
})

t.test('a plan loaded before another took the last unit or the member’s last redemption is refused by the database', async (t) => {
  const program = { id: shop.id, currency: 'VND' }
  const r = await reward({ name: 'Raced', stock: 1, maxPerMember: 1, pointsPrice: 10 })
  const [a, b] = [await memberWith(100), await memberWith(100)]
  const [found] = await rewardsWithCampaigns(ctx.database.db, shop.id, r.id)
  const stale = (memberId: string) =>
    redemptionPlan(program, { ...found!, memberRedemptions: 0, pointsAvailable: 100n }, { now: new Date(), actor: 'test', memberId, redemptionId: newId(), entryId: newId(), couponCode: 'UNUSED0000' })
  const planA = stale(a)
  const planA2 = stale(a)
  t.equal((await redeem(b, r.id)).statusCode, 201, 'b takes the last unit after a’s load')
  const outcome = (data: RedemptionPlan['data']) =>
    ctx.database.apply(data).then(
      () => 'applied',
      (err) => redemptionRefusal(pgErrorOf(err), found!.reward)?.code ?? String(err),
    )
  t.equal(await outcome(planA.data), 'REWARD_OUT_OF_STOCK', 'rewards_stock_check')
  await ctx.call(shop.token, 'PATCH', `/v1/rewards/${r.id}`, { stock: 5 })
  const restocked = stale(a)
  t.equal(await outcome(restocked.data), 'applied', 'a’s first once restocked')
  t.equal(await outcome(planA2.data), 'REWARD_LIMIT_REACHED', 'reward_member_counts_limit_check')
  t.equal(await points(a), 90)
  await verify(t)
})

t.test('a reward paused after the load makes the plan stale; planned again, it is refused as not available', async (t) => {
  const r = await reward({ name: 'Paused meanwhile', pointsPrice: 10 })
  const m = await memberWith(100)
  const [found] = await rewardsWithCampaigns(ctx.database.db, shop.id, r.id)
  const plan = redemptionPlan({ id: shop.id, currency: 'VND' }, { ...found!, memberRedemptions: 0, pointsAvailable: 100n }, { now: new Date(), actor: 'test', memberId: m, redemptionId: newId(), entryId: newId(), couponCode: 'UNUSED0001' })
  await ctx.call(shop.token, 'PATCH', `/v1/rewards/${r.id}`, { active: false })
  const err = await ctx.database.apply(plan.data).then(() => undefined, (e: unknown) => pgErrorOf(e).code)
  t.equal(err, 'LL300', 'stale')
  t.match((await redeem(m, r.id)).json(), { code: 'REWARD_NOT_AVAILABLE', reason: 'inactive' })
  t.equal(await points(m), 100)
})
