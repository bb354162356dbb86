// Coupons and referrals on POST /v1/purchases, end to end.
//
// Expected behaviour: the body takes `couponCodes` (at most 5); the coupon discount is taken after
// line discounts and after the tier discount, is allocated over the lines, and is listed in
// `discounts` as { type: 'coupon', code, campaignId, amount }; tenders pay the discounted total.
// Redemption commits with the purchase (capture: false too); a full return or a void releases it.
// A referred member's first purchase rewards both members once.
import t, { type Test } from 'tap'
import { startTestApp, uniqueVnMobile, type ProgramFixture } from '../../helpers/app.js'
import { idemKey, Till, VND_RULES } from '../../helpers/pos.js'

const ctx = await startTestApp(t)
const cash = (amount: string) => [{ type: 'cash', amount }]

async function setup(rules: Record<string, unknown> = {}) {
  const p = await ctx.createProgram({ rules: { ...VND_RULES, ...rules } })
  return { p, till: new Till(ctx, p.token), member: await ctx.enrol(p.token) }
}
async function campaign(p: ProgramFixture, body: Record<string, unknown>) {
  const res = await ctx.call(p.token, 'POST', '/v1/coupons/campaigns', { name: 'Promo', kind: 'percent', value: '10', codeMode: 'shared', ...body }, { 'idempotency-key': idemKey() })
  if (res.statusCode !== 201) throw new Error(res.body)
  return res.json() as { id: string }
}
const campaignNow = async (p: ProgramFixture, id: string) => (await ctx.call(p.token, 'GET', `/v1/coupons/campaigns/${id}`)).json()
const couponDiscounts = (body: { discounts?: { type: string }[] }) => (body.discounts ?? []).filter((d) => d.type === 'coupon')
const assertLedgerClean = (t: Test, p: ProgramFixture) => ctx.assertLedgerClean(t, p.token)

t.test('a percent coupon after line discounts, allocated over the lines; tenders pay the discounted total', async (t) => {
  const { p, till, member } = await setup()
  const c = await campaign(p, { sharedCode: 'TENOFF', budget: '1000000' })
  const lines = [
    { sku: 'A', quantity: 2, unitPrice: '50000', discount: '10000' },
    { sku: 'B', quantity: 1, unitPrice: '60000' },
  ]
  const undiscounted = await till.purchase(member.id, lines, cash('150000'), { couponCodes: ['tenoff'] })
  t.equal(undiscounted.statusCode, 422, 'the tenders must pay the total after the coupon')
  t.equal(undiscounted.json().code, 'TENDERS_DO_NOT_MATCH_TOTAL')
  t.match(await campaignNow(p, c.id), { redemptions: 0, budgetUsed: '0' }, 'a refused purchase redeems nothing')

  const res = await till.purchase(member.id, lines, cash('135000'), { couponCodes: ['tenoff'] })
  t.equal(res.statusCode, 201, res.body)
  const body = res.json()
  t.match(couponDiscounts(body), [{ type: 'coupon', code: 'TENOFF', campaignId: c.id, amount: '15000' }], '10% of 150,000 (after the 10,000 line discount)')
  t.equal(body.subtotal, '160000')
  t.equal(body.discountTotal, '25000')
  t.equal(body.total, '135000')
  t.same(
    body.lines.map((l: { amount: string }) => l.amount),
    ['81000', '54000'],
    'the coupon is spread over the lines in proportion (9,000 and 6,000)',
  )
  t.equal(body.pointsEarned, 13, 'earning is on what was paid')
  t.match(await campaignNow(p, c.id), { redemptions: 1, budgetUsed: '15000', budgetLeft: '985000' })
  await assertLedgerClean(t, p)
})

t.test('a retried purchase (same Idempotency-Key) redeems its coupon once', async (t) => {
  const { p, member } = await setup()
  const c = await campaign(p, { sharedCode: 'ONCEONLY', kind: 'fixed', value: '20000' })
  const key = idemKey('coupon')
  const body = {
    memberId: member.id,
    storeId: 'S1',
    terminalId: 'T1',
    externalId: `R-${key}`,
    currency: 'VND',
    lines: [{ sku: 'A', name: 'A', quantity: 1, unitPrice: '100000' }],
    tenders: cash('80000'),
    couponCodes: ['ONCEONLY'],
  }
  const first = await ctx.call(p.token, 'POST', '/v1/purchases', body, { 'idempotency-key': key })
  t.equal(first.statusCode, 201, first.body)
  const again = await ctx.call(p.token, 'POST', '/v1/purchases', body, { 'idempotency-key': key })
  t.equal(again.statusCode, 201)
  t.equal(again.headers['idempotent-replayed'], 'true')
  t.same(again.json(), first.json())
  t.match(await campaignNow(p, c.id), { redemptions: 1, budgetUsed: '20000' })
})

t.test('the coupon comes after the tier discount', async (t) => {
  const tiers = {
    metric: 'spend',
    levels: [
      { code: 'member', name: 'Member', threshold: '0' },
      { code: 'silver', name: 'Silver', threshold: '100000', discountPercent: '5' },
    ],
  }
  const { p, till, member } = await setup({ tiers })
  t.equal((await till.purchase(member.id, [{ sku: 'Q', quantity: 1, unitPrice: '100000' }], cash('100000'))).statusCode, 201, 'qualifies for silver')
  const c = await campaign(p, { sharedCode: 'FIFTYK', kind: 'fixed', value: '50000', minSpend: '190000' })
  const res = await till.purchase(member.id, [{ sku: 'A', quantity: 1, unitPrice: '200000' }], cash('140000'), { couponCodes: ['FIFTYK'] })
  t.equal(res.statusCode, 201, res.body)
  t.match(res.json().discounts, [
    { type: 'tier', code: 'silver', amount: '10000' },
    { type: 'coupon', code: 'FIFTYK', campaignId: c.id, amount: '50000' },
  ])
  t.equal(res.json().total, '140000')
  await assertLedgerClean(t, p)
})

t.test('refusals: unknown code, minimum spend, too many codes, a used-up code; nothing is posted', async (t) => {
  const { p, till, member } = await setup()
  await campaign(p, { sharedCode: 'BIGSPEND', minSpend: '500000' })
  const used = await campaign(p, { sharedCode: 'JUSTONE', maxUsesPerCode: 1 })
  const line = [{ sku: 'A', quantity: 1, unitPrice: '100000' }]

  const unknown = await till.purchase(member.id, line, cash('90000'), { couponCodes: ['NOSUCH'] })
  t.equal(unknown.statusCode, 422)
  t.match(unknown.json(), { code: 'COUPON_NOT_FOUND', couponCode: 'NOSUCH' })

  const small = await till.purchase(member.id, line, cash('90000'), { couponCodes: ['BIGSPEND'] })
  t.equal(small.statusCode, 422)
  t.match(small.json(), { code: 'COUPON_MIN_SPEND_NOT_MET', couponCode: 'BIGSPEND', minSpend: '500000' })

  const six = await till.purchase(member.id, line, cash('100000'), { couponCodes: ['A1', 'A2', 'A3', 'A4', 'A5', 'A6'] })
  t.equal(six.statusCode, 400, 'at most 5 codes')

  t.equal((await till.purchase(member.id, line, cash('90000'), { couponCodes: ['JUSTONE'] })).statusCode, 201)
  const usedUp = await till.purchase(member.id, line, cash('90000'), { couponCodes: ['JUSTONE'] })
  t.equal(usedUp.statusCode, 409)
  t.equal(usedUp.json().code, 'COUPON_USED_UP')
  t.match(await campaignNow(p, used.id), { redemptions: 1 })
  t.equal((await till.balances(member.id)).points.balance, 9, 'only the one accepted purchase earned')
  await assertLedgerClean(t, p)
})

t.test('a full return releases the coupon; a partial return keeps it', async (t) => {
  const { p, till, member } = await setup()
  const c = await campaign(p, { sharedCode: 'RETURNME', maxUsesPerMember: 1, budget: '50000' })
  const lines = [
    { sku: 'A', quantity: 1, unitPrice: '100000' },
    { sku: 'B', quantity: 1, unitPrice: '100000' },
  ]
  const sale = (await till.purchase(member.id, lines, cash('180000'), { couponCodes: ['RETURNME'] })).json()
  t.match(await campaignNow(p, c.id), { redemptions: 1, budgetUsed: '20000' })

  const partial = await till.returnPurchase(sale.id, { lines: [{ sku: 'A', quantity: 1 }] })
  t.equal(partial.statusCode, 201, partial.body)
  t.equal(partial.json().amount, '90000', 'the returned line gives back what it cost after the coupon')
  t.match(await campaignNow(p, c.id), { redemptions: 1, budgetUsed: '20000' }, 'a partial return keeps the redemption')

  const rest = await till.returnPurchase(sale.id, { lines: [{ sku: 'B', quantity: 1 }] })
  t.equal(rest.statusCode, 201, rest.body)
  t.match(await campaignNow(p, c.id), { redemptions: 0, budgetUsed: '0' }, 'the full return releases it')
  const lookup = (await ctx.call(p.token, 'GET', `/v1/coupons/RETURNME?memberId=${member.id}`)).json()
  t.equal(lookup.memberUsesLeft, 1, 'the member may use it again')
  t.equal((await till.purchase(member.id, lines, cash('180000'), { couponCodes: ['RETURNME'] })).statusCode, 201)
  await assertLedgerClean(t, p)
})

t.test('capture: false redeems at once; a void releases', async (t) => {
  const { p, till, member } = await setup()
  const c = await campaign(p, { sharedCode: 'HELDONE', maxUsesPerCode: 1 })
  await till.topUp(member.id, '200000')
  const held = await till.purchase(member.id, [{ sku: 'A', quantity: 1, unitPrice: '100000' }], [{ type: 'storedValue', amount: '90000' }], { capture: false, couponCodes: ['HELDONE'] })
  t.equal(held.statusCode, 201, held.body)
  t.match(await campaignNow(p, c.id), { redemptions: 1 })
  t.equal((await till.purchase(member.id, [{ sku: 'A', quantity: 1, unitPrice: '100000' }], cash('90000'), { couponCodes: ['HELDONE'] })).json().code, 'COUPON_USED_UP', 'held, so used')
  const voided = await ctx.call(p.token, 'POST', `/v1/purchases/${held.json().id}/void`, {}, { 'idempotency-key': idemKey('v') })
  t.equal(voided.statusCode, 200, voided.body)
  t.match(await campaignNow(p, c.id), { redemptions: 0, budgetUsed: '0' })
  await assertLedgerClean(t, p)
})

t.test('concurrent purchases against a budget for 5: exactly 5 are posted', async (t) => {
  const { p, till } = await setup()
  const c = await campaign(p, { sharedCode: 'FIVEONLY', kind: 'fixed', value: '10000', budget: '50000' })
  const buyers = await Promise.all(Array.from({ length: 12 }, () => ctx.enrol(p.token)))
  const results = await Promise.all(buyers.map((b) => till.purchase(b.id, [{ sku: 'A', quantity: 1, unitPrice: '100000' }], cash('90000'), { couponCodes: ['FIVEONLY'] })))
  t.equal(results.filter((r) => r.statusCode === 201).length, 5, results.map((r) => r.statusCode).join(','))
  t.ok(
    results.filter((r) => r.statusCode !== 201).every((r) => r.json().code === 'COUPON_BUDGET_EXHAUSTED'),
    'the others are refused for the budget',
  )
  t.match(await campaignNow(p, c.id), { budgetUsed: '50000', budgetLeft: '0', redemptions: 5 })
  await assertLedgerClean(t, p)
})

t.test('a referred member’s first purchase rewards both, once', async (t) => {
  const { p, till, member: referrer } = await setup({ referral: { referrerPoints: 500, refereePoints: 200 } })
  const referee = (await ctx.call(p.token, 'POST', '/v1/members', { name: 'Referee', phone: uniqueVnMobile(), referralCode: (await ctx.call(p.token, 'GET', `/v1/members/${referrer.id}`)).json().referralCode }, { 'idempotency-key': idemKey() })).json()
  const first = await till.purchase(referee.id, [{ sku: 'A', quantity: 1, unitPrice: '100000' }], cash('100000'))
  t.equal(first.statusCode, 201, first.body)
  t.equal((await till.balances(referee.id)).points.balance, 210, '10 earned + 200 referral')
  t.equal((await till.balances(referrer.id)).points.balance, 500)
  await till.purchase(referee.id, [{ sku: 'A', quantity: 1, unitPrice: '100000' }], cash('100000'))
  t.equal((await till.balances(referee.id)).points.balance, 220, 'the second purchase earns only')
  t.equal((await till.balances(referrer.id)).points.balance, 500)

  const twin = (await ctx.call(p.token, 'POST', '/v1/members', { name: 'Twin', phone: uniqueVnMobile(), referralCode: (await ctx.call(p.token, 'GET', `/v1/members/${referrer.id}`)).json().referralCode }, { 'idempotency-key': idemKey() })).json()
  const both = await Promise.all([0, 1, 2].map(() => till.purchase(twin.id, [{ sku: 'A', quantity: 1, unitPrice: '100000' }], cash('100000'))))
  t.same(
    both.map((r) => r.statusCode),
    [201, 201, 201],
  )
  t.equal((await till.balances(twin.id)).points.balance, 230, 'concurrent first purchases: the reward once')
  t.equal((await till.balances(referrer.id)).points.balance, 1000)
  await assertLedgerClean(t, p)
})
