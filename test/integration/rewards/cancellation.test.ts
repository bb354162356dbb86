// Cancelling a reward redemption through the API: the points back through an entry reversing the
// redemption's, the stock and the member's limit given back, the coupon voided; a used coupon or a
// second cancellation refused (also when they race: on PostgreSQL they run at once); another
// member's or program's redemption not found; the ledger verified clean after.
import t, { type Test } from 'tap'
import { startTestApp } from '../../helpers/app.js'
import { idemKey, Till } from '../../helpers/pos.js'
import { PlanError } from '../../../src/db/apply.js'
import { newId } from '../../../src/shared/ids.js'
import { cancellationPlan } from '../../../src/modules/rewards/cancel-plan.js'
import { loadCancellation } from '../../../src/modules/rewards/cancel.js'

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
async function couponReward(body: Record<string, unknown> = {}) {
  const c = (await ctx.call(shop.token, 'POST', '/v1/coupons/campaigns', { name: '35k off', kind: 'fixed', value: '35000', codeMode: 'unique', maxUsesPerCode: 1 }, { 'idempotency-key': idemKey() })).json()
  return reward({ name: 'Phiếu 35k', pointsPrice: 250, gives: { kind: 'coupon', campaignId: c.id }, ...body })
}
async function memberWith(points: number, token = shop.token) {
  const m = await ctx.enrol(token)
  if (points > 0) await new Till(ctx, token).grantPoints(m.id, points)
  return m.id
}
async function redeem(memberId: string, rewardId: string, token = pos.token) {
  const res = await ctx.call(token, 'POST', `/v1/members/${memberId}/rewards/${rewardId}/redemptions`, undefined, { 'idempotency-key': idemKey('rd') })
  if (res.statusCode !== 201) throw new Error(res.body)
  return res.json().redemption as { id: string; entryId: string; gives: { couponCode?: string } }
}
const cancel = (memberId: string, redemptionId: string, key = idemKey('cx'), token = pos.token) =>
  ctx.call(token, 'POST', `/v1/members/${memberId}/rewards/redemptions/${redemptionId}/cancellation`, undefined, { 'idempotency-key': key })
const points = async (memberId: string) => (await ctx.call(shop.token, 'GET', `/v1/members/${memberId}/balances`)).json().points.available as number
const rewardNow = async (id: string) => (await ctx.call(shop.token, 'GET', `/v1/rewards/${id}`)).json()
const verify = (t: Test) => ctx.assertLedgerClean(t, shop.token)

t.test('a cancelled item gives the points back by an entry reversing the redemption’s; the unit goes back to stock', async (t) => {
  const r = await reward({ stock: 2 })
  const m = await memberWith(150)
  const redemption = await redeem(m, r.id)
  const res = await cancel(m, redemption.id)
  t.equal(res.statusCode, 200, res.body)
  const body = res.json()
  t.match(body, { redemption: { id: redemption.id, status: 'cancelled', cancelledAt: /Z$/, cancellationEntryId: /-/ }, balances: { points: { available: 150 } } })
  t.match(await rewardNow(r.id), { stock: 2, redemptions: 0 })
  const entry = (await ctx.call(shop.token, 'GET', `/v1/ledger/entries/${body.redemption.cancellationEntryId}`)).json()
  t.match(entry, { kind: 'reward_cancellation', reversesEntryId: redemption.entryId, reference: { type: 'reward_redemption', id: redemption.id } })
  t.same(
    entry.postings.map((p: { accountType: string; amount: string }) => [p.accountType, p.amount]),
    [
      ['points_redeemed', '-100'],
      ['member_points', '100'],
    ],
  )
  t.equal((await ctx.call(shop.token, 'GET', `/v1/ledger/entries/${redemption.entryId}`)).json().reversedByEntryId, body.redemption.cancellationEntryId)
  const again = await cancel(m, redemption.id)
  t.equal(again.statusCode, 409, 'a second cancellation')
  t.equal(again.json().code, 'REWARD_ALREADY_CANCELLED')
  t.equal(await points(m), 150)
  await verify(t)
})

t.test('a cancellation retried with its key answers the same body once', async (t) => {
  const r = await reward()
  const m = await memberWith(100)
  const redemption = await redeem(m, r.id)
  const key = idemKey('same')
  const first = await cancel(m, redemption.id, key)
  const replay = await cancel(m, redemption.id, key)
  t.equal(replay.statusCode, 200)
  t.equal(replay.headers['idempotent-replayed'], 'true')
  t.same(replay.json(), first.json())
  t.equal(await points(m), 100)
})

t.test('a cancelled coupon is voided; a used one cannot be cancelled', async (t) => {
  const r = await couponReward()
  const m = await memberWith(1000)
  const voided = await redeem(m, r.id)
  t.equal((await cancel(m, voided.id)).statusCode, 200)
  t.match((await ctx.call(pos.token, 'GET', `/v1/coupons/${voided.gives.couponCode}?memberId=${m}`)).json(), { state: 'used_up', usesLeft: 0 })
  const sale = await till.purchase(m, [{ sku: 'X', quantity: 1, unitPrice: '100000' }], [{ type: 'cash', amount: '65000' }], { couponCodes: [voided.gives.couponCode] })
  t.equal(sale.statusCode, 409)
  t.equal(sale.json().code, 'COUPON_USED_UP')

  const used = await redeem(m, r.id)
  const paid = await till.purchase(m, [{ sku: 'X', quantity: 1, unitPrice: '100000' }], [{ type: 'cash', amount: '65000' }], { couponCodes: [used.gives.couponCode] })
  t.equal(paid.statusCode, 201, paid.body)
  const res = await cancel(m, used.id)
  t.equal(res.statusCode, 409)
  t.match(res.json(), { code: 'REWARD_ALREADY_USED', couponCode: used.gives.couponCode })
  t.equal(await points(m), 1000 - 250, 'the used reward stays paid for')
  await verify(t)
})

t.test('a cancelled redemption no longer counts against the limit per member', async (t) => {
  const r = await reward({ maxPerMember: 1, stock: 1 })
  const m = await memberWith(300)
  const first = await redeem(m, r.id)
  await cancel(m, first.id)
  const second = await ctx.call(pos.token, 'POST', `/v1/members/${m}/rewards/${r.id}/redemptions`, undefined, { 'idempotency-key': idemKey() })
  t.equal(second.statusCode, 201, 'the unit and the member’s limit were given back')
  t.equal(await points(m), 200)
})

t.test('five cancellations of one redemption at once: one gives the points back', async (t) => {
  const r = await couponReward({ maxPerMember: 1 })
  const m = await memberWith(250)
  const redemption = await redeem(m, r.id)
  const answers = await Promise.all([1, 2, 3, 4, 5].map(() => cancel(m, redemption.id)))
  t.equal(answers.filter((a) => a.statusCode === 200).length, 1)
  t.same(
    answers.filter((a) => a.statusCode !== 200).map((a) => a.json().code),
    Array(4).fill('REWARD_ALREADY_CANCELLED'),
  )
  t.equal(await points(m), 250)
  t.match(await rewardNow(r.id), { redemptions: 0 })
  await verify(t)
})

t.test('a coupon used after the cancellation was loaded makes its plan stale; the API then refuses it as used', async (t) => {
  const r = await couponReward()
  const m = await memberWith(250)
  const redemption = await redeem(m, r.id)
  const loaded = (await loadCancellation(ctx.database, shop.id, m, redemption.id))!
  const sale = await till.purchase(m, [{ sku: 'X', quantity: 1, unitPrice: '100000' }], [{ type: 'cash', amount: '65000' }], { couponCodes: [redemption.gives.couponCode] })
  t.equal(sale.statusCode, 201, sale.body)
  const plan = cancellationPlan({ id: shop.id, currency: 'VND' }, loaded, { now: new Date(), actor: 'test', entryId: newId(), restoredPointsExpireAt: null })
  const err = await ctx.database.apply(plan.data).then(() => undefined, (e: unknown) => e)
  t.ok(err instanceof PlanError && err.code === 'LL300', 'stale: the coupon is not unused any more')
  t.equal((await cancel(m, redemption.id)).json().code, 'REWARD_ALREADY_USED')
  t.equal(await points(m), 0, 'still paid for')
  await verify(t)
})

t.test('another member’s or program’s redemption is not found; a reader cannot cancel', async (t) => {
  const r = await reward()
  const m = await memberWith(100)
  const redemption = await redeem(m, r.id)
  const stranger = await memberWith(0)
  for (const res of [await cancel(stranger, redemption.id), await cancel(m, newId())]) {
    t.equal(res.statusCode, 404)
    t.equal(res.json().code, 'REWARD_REDEMPTION_NOT_FOUND')
  }
  const theirs = await ctx.createClient(other.id, ['pos'])
  const res = await cancel(m, redemption.id, idemKey(), theirs.token)
  t.equal(res.statusCode, 404, 'another program’s till')
  const reader = await ctx.createClient(shop.id, ['members:read'])
  t.equal((await cancel(m, redemption.id, idemKey(), reader.token)).statusCode, 403)
  t.equal(await points(m), 0, 'still redeemed')
})

t.test('the liability roll-forward: redemptions as redeemed, a cancellation as reversed; it closes', async (t) => {
  const fresh = await ctx.createProgram()
  const from = new Date(Date.now() - 60_000).toISOString()
  const res = await ctx.call(fresh.token, 'POST', '/v1/rewards', { name: 'Trà', pointsPrice: 100, gives: { kind: 'item', sku: 'TEA' } }, { 'idempotency-key': idemKey('rw') })
  const r = res.json() as { id: string }
  const m = await memberWith(500, fresh.token)
  await redeem(m, r.id, fresh.token)
  const second = await redeem(m, r.id, fresh.token)
  t.equal((await cancel(m, second.id, idemKey(), fresh.token)).statusCode, 200)
  const to = new Date(Date.now() + 60_000).toISOString()
  const report = (await ctx.call(fresh.token, 'GET', `/v1/exports/liability?from=${encodeURIComponent(from)}&to=${encodeURIComponent(to)}`)).json()
  const points = report.assets.find((a: { asset: string }) => a.asset === 'POINTS')
  t.match(points, { opening: '0', adjusted: '500', redeemed: '200', reversed: '100', closing: '400' })
})
