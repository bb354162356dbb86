// POST /v1/purchases/quote: the body of a purchase, no Idempotency-Key, nothing written.
//
// Expected behaviour: 200 with the total after tier and coupon discounts, the discounts, the points
// the sale would earn and what the wallets can pay, equal to the purchase that follows; `refusals`
// lists every problem the real call would give (its answer is the first), as the real call gives it.
// What leaves nothing to quote (an unknown member, another program's member) is answered as the real call answers it.
import t from 'tap'
import { sql } from 'drizzle-orm'
import { queryRows } from '../../../src/db/client.js'
import { startTestApp, type ProgramFixture } from '../../helpers/app.js'
import { idemKey, receiptNo, Till, VND_RULES, type Line } from '../../helpers/pos.js'

const ctx = await startTestApp(t)
const cash = (amount: string) => [{ type: 'cash', amount }]
const TIERS = {
  metric: 'spend',
  levels: [
    { code: 'member', name: 'Member', threshold: '0' },
    { code: 'silver', name: 'Silver', threshold: '1000000', earnMultiplier: '1.5', discountPercent: '5' },
  ],
}

async function setup(rules: Record<string, unknown> = {}) {
  const p = await ctx.createProgram({ rules: { ...VND_RULES, ...rules } })
  return { p, till: new Till(ctx, p.token), member: await ctx.enrol(p.token) }
}
const quote = (token: string, memberId: string, lines: Line[], tenders: unknown[], extra: Record<string, unknown> = {}) =>
  ctx.call(token, 'POST', '/v1/purchases/quote', { memberId, storeId: 'S1', terminalId: 'T1', externalId: receiptNo(), currency: 'VND', lines: lines.map((l) => ({ name: l.sku, ...l })), tenders, ...extra })
async function sharedCoupon(p: ProgramFixture, body: Record<string, unknown>) {
  const res = await ctx.call(p.token, 'POST', '/v1/coupons/campaigns', { name: 'Promo', kind: 'percent', value: '10', codeMode: 'shared', ...body }, { 'idempotency-key': idemKey() })
  if (res.statusCode !== 201) throw new Error(res.body)
}
const TABLES = ['purchases', 'journal_entries', 'postings', 'idempotency_keys', 'coupon_redemptions', 'holds', 'receipts', 'events', 'ledger_accounts']
async function rowCounts(programId: string) {
  const counts: Record<string, number> = {}
  for (const table of TABLES) {
    const [row] = await queryRows<{ n: string }>(ctx.database.db, sql`select count(*) as n from ${sql.identifier(table)} where program_id = ${programId}`)
    counts[table] = Number(row!.n)
  }
  return counts
}
const priced = (b: Record<string, unknown>) => ({ subtotal: b.subtotal, discounts: b.discounts, discountTotal: b.discountTotal, total: b.total, pointsEarned: b.pointsEarned, tierCode: b.tierCode })
const problem = (b: Record<string, unknown>) => {
  const { requestId: _, ...rest } = b
  return rest
}

t.test('a quote equals the purchase that follows it: plain, tier-discounted, with a coupon', async (t) => {
  const { p, till, member } = await setup({ tiers: TIERS })
  await sharedCoupon(p, { sharedCode: 'TENOFF', budget: '1000000' })
  const sales: [string, Line[], string, Record<string, unknown>][] = [
    ['plain (crossing into silver)', [{ sku: 'A', quantity: 2, unitPrice: '500000' }], '1000000', {}],
    ['silver: 5% off, earning 1.5x', [{ sku: 'B', quantity: 1, unitPrice: '200000' }], '190000', {}],
    ['silver and a 10% coupon', [{ sku: 'C', quantity: 1, unitPrice: '200000', discount: '20000' }], '153900', { couponCodes: ['tenoff'] }],
  ]
  for (const [name, lines, total, extra] of sales) {
    const q = await quote(p.token, member.id, lines, cash(total), extra)
    t.equal(q.statusCode, 200, `${name}: ${q.body}`)
    const sale = await till.purchase(member.id, lines, cash(total), extra)
    t.equal(sale.statusCode, 201, sale.body)
    t.same(priced(q.json()), priced(sale.json()), `${name}: total, discounts and points as posted`)
    t.same(q.json().refusals, [], `${name}: nothing refused`)
    t.equal(q.json().total, total, `${name}: the total the tenders pay`)
  }
})

t.test('a quote equals the purchase that follows it: what the wallets pay, and what they could', async (t) => {
  const { p, till, member } = await setup({ tiers: TIERS })
  await sharedCoupon(p, { sharedCode: 'WALLET10', budget: '1000000' })
  await till.topUp(member.id, '80000')
  await till.grantPoints(member.id, 700)
  const before = await till.balances(member.id)
  // 300,000 less 10% = 270,000: 500 points (50,000), 80,000 of stored value, 140,000 in cash.
  const lines = [{ sku: 'A', quantity: 3, unitPrice: '100000' }]
  const tenders = [{ type: 'points', points: 500 }, { type: 'storedValue', amount: '80000' }, { type: 'cash', amount: '140000' }]
  const q = await quote(p.token, member.id, lines, tenders, { couponCodes: ['WALLET10'] })
  t.equal(q.statusCode, 200, q.body)
  t.same(q.json().refusals, [])
  t.same(q.json().canPay, { points: { available: before.points.available, value: '70000' }, storedValue: { available: before.storedValue.available } }, 'the wallets as read before the sale')
  const sale = await till.purchase(member.id, lines, tenders, { couponCodes: ['WALLET10'] })
  t.equal(sale.statusCode, 201, sale.body)
  const paid = (b: Record<string, unknown>) => ({ ...priced(b), pointsRedeemed: b.pointsRedeemed, storedValueUsed: b.storedValueUsed })
  t.same(paid(q.json()), paid(sale.json()), 'total, discounts, points earned, points and stored value paid, as posted')
  t.match(q.json(), { total: '270000', pointsRedeemed: 500, storedValueUsed: '80000', pointsEarned: 22 }, 'earning on the 220,000 paid in money and stored value')
  const after = sale.json().balances
  t.equal(after.points.balance, before.points.balance - 500 + q.json().pointsEarned, 'the points the quote said were spent and earned')
  t.equal(after.storedValue.balance, String(BigInt(before.storedValue.balance) - 80000n), 'the stored value the quote said was used')
})

t.test('a quote writes nothing and shows what the wallets can pay', async (t) => {
  const { p, till, member } = await setup()
  await sharedCoupon(p, { sharedCode: 'SAVE', budget: '1000000' })
  await till.topUp(member.id, '50000')
  await till.grantPoints(member.id, 300)
  const before = await rowCounts(p.id)
  const q = await quote(p.token, member.id, [{ sku: 'A', quantity: 1, unitPrice: '100000' }], [{ type: 'points', points: 100 }, { type: 'storedValue', amount: '50000' }, { type: 'cash', amount: '30000' }], { couponCodes: ['SAVE'] })
  t.equal(q.statusCode, 200, q.body)
  t.match(q.json(), { total: '90000', pointsRedeemed: 100, storedValueUsed: '50000', canPay: { points: { available: 300, value: '30000' }, storedValue: { available: '50000' } }, refusals: [] })
  t.same(await rowCounts(p.id), before, 'no purchase, entry, key, redemption, hold, receipt, event or account written')
  t.same((await till.balances(member.id)).points, { balance: 300, available: 300, pending: 0 }, 'no points held')
})

t.test('refusals match the real call: every one listed, the first as the purchase answers', async (t) => {
  const { p, till, member } = await setup()
  await sharedCoupon(p, { sharedCode: 'BIGSPEND', minSpend: '500000', budget: '1000000' })
  await till.topUp(member.id, '10000')
  const lines = [{ sku: 'A', quantity: 1, unitPrice: '100000' }]
  const tenders = [{ type: 'storedValue', amount: '40000' }, { type: 'cash', amount: '60000' }]
  const q = await quote(p.token, member.id, lines, tenders, { couponCodes: ['BIGSPEND'] })
  t.equal(q.statusCode, 200, q.body)
  const refusals = q.json().refusals as { code: string }[]
  t.same(refusals.map((r) => r.code), ['COUPON_MIN_SPEND_NOT_MET', 'INSUFFICIENT_FUNDS'], 'the coupon below its minimum and the stored value short')
  t.equal(q.json().total, '100000', 'priced without the refused coupon')
  const sale = await till.purchase(member.id, lines, tenders, { couponCodes: ['BIGSPEND'] })
  t.equal(sale.statusCode, 422)
  t.same(refusals[0], problem(sale.json()), 'the first refusal is the purchase’s problem, field for field')
  const withoutCoupon = await till.purchase(member.id, lines, tenders)
  t.same(refusals[1], problem(withoutCoupon.json()), 'the next is the problem the purchase gives once the coupon is gone')

  const short = await quote(p.token, member.id, lines, cash('90000'))
  const shortSale = await till.purchase(member.id, lines, cash('90000'))
  t.equal(short.statusCode, 200)
  t.same(short.json().refusals, [problem(shortSale.json())], 'tenders short of the total: TENDERS_DO_NOT_MATCH_TOTAL with total and tendered')
  t.match(short.json(), { total: '100000', pointsEarned: 10 }, 'still priced, earning as if money paid it all')

  const wrong = await quote(p.token, member.id, lines, cash('100000'), { currency: 'USD' })
  const wrongSale = await till.purchase(member.id, lines, cash('100000'), { currency: 'USD' })
  t.equal(wrong.statusCode, 422)
  t.same(problem(wrong.json()), problem(wrongSale.json()), 'nothing to quote in another currency: the purchase’s problem')
})

t.test('tenant isolation: another program’s member is 404, as for a purchase', async (t) => {
  const mine = await setup()
  const theirs = await setup()
  const q = await quote(mine.p.token, theirs.member.id, [{ sku: 'A', quantity: 1, unitPrice: '100000' }], cash('100000'))
  t.equal(q.statusCode, 404)
  t.equal(q.headers['content-type'], 'application/problem+json')
  t.equal(q.json().code, 'MEMBER_NOT_FOUND')
  const sale = await mine.till.purchase(theirs.member.id, [{ sku: 'A', quantity: 1, unitPrice: '100000' }], cash('100000'))
  t.same(problem(q.json()), problem(sale.json()))
})
