import t from 'tap'
import { earningRules, vndProgram } from '../helpers/plan-fixtures.js'
import { assertSaleWindow, planPurchase, readSale, type PurchaseLoaded } from '../../src/modules/purchases/plan.js'
import type { PurchaseCreate } from '../../src/modules/purchases/schemas.js'
import type { ProgramRules } from '../../src/modules/programs/rules.js'
import type { ResolvedCoupon } from '../../src/modules/coupons/discounts.js'
import { accountId, memberPoints, memberStoredValue } from '../../src/modules/ledger/accounts.js'
import type { MemberBalances } from '../../src/modules/ledger/reads.js'
import { fundsRefusals, quotePurchase } from '../../src/modules/purchases/quote-plan.js'

const now = new Date('2026-12-01T10:00:00Z')
const program = vndProgram(now)
const memberId = '00000000-0000-4000-8000-0000000000aa'
const rules = earningRules
const gold: ProgramRules['tiers'] = {
  metric: 'spend',
  windowMonths: 12,
  retentionMonths: 12,
  levels: [
    { code: 'base', name: 'Base', threshold: '0', earnMultiplier: '1', discountPercent: '0', birthdayBonusPoints: 0 },
    { code: 'gold', name: 'Gold', threshold: '1000000', earnMultiplier: '2', discountPercent: '10', birthdayBonusPoints: 0 },
  ],
}
const coupon = (over: Partial<ResolvedCoupon> = {}): ResolvedCoupon => ({
  code: 'SAVE5',
  campaignId: '00000000-0000-4000-8000-0000000000cc',
  campaignName: 'Save',
  kind: 'fixed',
  percentOff: null,
  amountOff: 5_000n,
  minSpend: 0n,
  maxUsesPerMember: null,
  assignedTo: null,
  ...over,
})
const body = (over: Partial<PurchaseCreate> = {}): PurchaseCreate => ({
  memberId,
  storeId: 'S1',
  terminalId: 'T1',
  externalId: 'R-1',
  currency: 'VND',
  lines: [{ sku: 'A', name: 'A', quantity: 2, unitPrice: '50000' }],
  tenders: [{ type: 'cash', amount: '100000' }],
  capture: true,
  ...over,
})
const loaded = (over: Partial<PurchaseLoaded & { memberId: string }> = {}): PurchaseLoaded & { memberId: string } => ({ program, rules: rules(), rulesEffectiveFrom: program.rulesEffectiveFrom, memberId, tierCode: null, coupons: [], ...over })
const ctx = { now, actor: 'pos', purchaseId: '00000000-0000-4000-8000-0000000000b1', entryId: '00000000-0000-4000-8000-0000000000e1' }
const plan = (input: PurchaseCreate, l: PurchaseLoaded = loaded()) => planPurchase(l, readSale(program, input, now), input, ctx)
const refusal = (fn: () => unknown) => {
  try {
    fn()
  } catch (err) {
    const e = err as { status: number; code: string }
    return { status: e.status, code: e.code }
  }
  return undefined
}

t.test('a plain captured sale earns and plans one entry naming the purchase, no holds', async (t) => {
  const p = plan(body())
  t.equal(p.row.total, 100_000n)
  t.equal(p.row.pointsEarned, 10n)
  t.equal(p.row.status, 'completed')
  t.equal(p.row.entryId, ctx.entryId)
  t.same(p.holds, [])
  t.equal(p.entry?.referenceId, ctx.purchaseId)
  t.equal(p.entry?.effectiveAt, now)
  t.same(p.row.discounts, [])
})

t.test('a sale that moves nothing plans no entry', async (t) => {
  const p = plan(body({ lines: [{ sku: 'A', name: 'A', quantity: 1, unitPrice: '5000' }], tenders: [{ type: 'cash', amount: '5000' }] }))
  t.equal(p.entry, undefined)
  t.equal(p.row.entryId, null)
})

t.test('a tier member pays the tier price and earns at the tier rate', async (t) => {
  const p = plan(body({ tenders: [{ type: 'cash', amount: '90000' }] }), loaded({ rules: rules({ tiers: gold }), tierCode: 'gold' }))
  t.equal(p.row.total, 90_000n)
  t.same(p.row.discounts, [{ type: 'tier', code: 'gold', name: 'Gold', percent: '10', amount: '10000' }])
  t.equal(p.row.pointsEarned, 18n, '9 points at twice the rate')
  t.equal(p.row.tierCode, 'gold')
})

t.test('a coupon is taken after the tier and planned as a redemption', async (t) => {
  const p = plan(body({ tenders: [{ type: 'cash', amount: '85000' }] }), loaded({ rules: rules({ tiers: gold }), tierCode: 'gold', coupons: [coupon()] }))
  t.equal(p.row.total, 85_000n)
  t.same(p.redemptions.map((r) => [r.coupon.code, r.discount]), [['SAVE5', 5_000n]])
})

t.test('a pending sale wants holds in account-id order and earns nothing yet', async (t) => {
  const p = plan(body({ capture: false, tenders: [{ type: 'points', points: 100 }, { type: 'storedValue', amount: '90000' }] }))
  t.equal(p.entry, undefined)
  t.equal(p.row.status, 'pending')
  t.equal(p.row.pointsEarned, 0n)
  t.same(p.holds.map((h) => [h.kind, h.amount]).sort(), [['points', 100n], ['storedValue', 90_000n]])
  const ids = p.holds.map((h) => accountId(program.id, h.ref))
  t.same(ids, [...ids].sort(), 'in account-id order')
  t.same(p.row.holdExpiresAt, new Date(now.getTime() + rules().holdMinutes * 60_000))
  t.same(p.row.holds, { authorizedTotal: '100000' })
})

t.test('refusals: currency, time, tenders, coupons, redemption limits', async (t) => {
  t.same(refusal(() => readSale(program, body({ currency: 'USD' }), now)), { status: 422, code: 'CURRENCY_MISMATCH' })
  t.same(refusal(() => readSale(program, body({ occurredAt: '2026-12-01T10:06:00Z' }), now)), { status: 422, code: 'OCCURRED_AT_IN_FUTURE' })
  t.same(refusal(() => readSale(program, body({ lines: [{ sku: 'A', name: 'A', quantity: 1, unitPrice: '1.5' }] }), now)), { status: 400, code: 'VALIDATION_FAILED' })
  t.same(refusal(() => assertSaleWindow(rules({ offlineWindowHours: 1 }), new Date(now.getTime() - 2 * 3_600_000), now)), { status: 422, code: 'OCCURRED_AT_TOO_OLD' })
  t.equal(refusal(() => assertSaleWindow(rules({ offlineWindowHours: 1 }), new Date(now.getTime() - 3_600_000), now)), undefined, 'an hour old is inside a one-hour window')
  t.same(refusal(() => plan(body({ tenders: [{ type: 'cash', amount: '99999' }] }))), { status: 422, code: 'TENDERS_DO_NOT_MATCH_TOTAL' })
  t.same(refusal(() => plan(body({ tenders: [{ type: 'cash', amount: '95000' }] }), loaded({ coupons: [coupon({ minSpend: 200_000n })] }))), { status: 422, code: 'COUPON_MIN_SPEND_NOT_MET' })
  const redeem = rules({ redemption: { ...rules().redemption, minPoints: 200 } })
  t.same(refusal(() => plan(body({ tenders: [{ type: 'points', points: 100 }, { type: 'cash', amount: '90000' }] }), loaded({ rules: redeem }))), { status: 422, code: 'REDEMPTION_BELOW_MINIMUM' })
})

const wallets = (points: bigint, sv: bigint): MemberBalances => ({ points: { balance: points, pending: 0n, available: points }, storedValue: { balance: sv, pending: 0n, available: sv } })
const quote = (input: PurchaseCreate, l: PurchaseLoaded & { memberId: string }, balances: MemberBalances) => quotePurchase(l, readSale(program, input, now), input, ctx, balances)

t.test('a quote lists every refusal in the order a purchase checks them and still prices the sale', async (t) => {
  const input = body({ couponCodes: ['BIG'], tenders: [{ type: 'storedValue', amount: '40000' }, { type: 'cash', amount: '60000' }] })
  const q = quote(input, loaded({ coupons: [coupon({ code: 'BIG', minSpend: 500_000n }), coupon({ code: 'SAVE5', campaignId: '00000000-0000-4000-8000-0000000000cd' })] }), wallets(0n, 10_000n))
  t.same(q.refusals.map((r) => r.code), ['COUPON_MIN_SPEND_NOT_MET', 'TENDERS_DO_NOT_MATCH_TOTAL', 'INSUFFICIENT_FUNDS'])
  t.equal(q.priced.total, 95_000n, 'the coupon that qualifies is still taken')
  t.equal(q.pointsEarned, 9n, 'tenders short: earning as if money paid the total')
  t.equal(q.storedValueUsed, 40_000n, 'the stored value as sent')
})

t.test('a quote of a sale that would post equals its plan and refuses nothing', async (t) => {
  const input = body({ tenders: [{ type: 'cash', amount: '90000' }] })
  const l = loaded({ rules: rules({ tiers: gold }), tierCode: 'gold' })
  const q = quote(input, l, wallets(0n, 0n))
  t.same(q.refusals, [])
  t.same(q.priced.discounts, plan(input, l).totals.discounts)
  t.equal(q.pointsEarned, plan(input, l).row.pointsEarned)
  t.equal(q.tierCode, 'gold')
})

t.test('funds: each wallet short is refused, in account-id order; exactly the available pays', async (t) => {
  t.same(fundsRefusals(program, memberId, { pointsRedeemed: 0n, storedValueUsed: 10n }, wallets(0n, 9n)).map((r) => r.extensions), [{ asset: 'VND' }])
  t.same(fundsRefusals(program, memberId, { pointsRedeemed: 5n, storedValueUsed: 10n }, wallets(5n, 10n)), [])
  const both = fundsRefusals(program, memberId, { pointsRedeemed: 6n, storedValueUsed: 11n }, wallets(5n, 10n))
  const order = [accountId(program.id, memberPoints(memberId)), accountId(program.id, memberStoredValue(memberId, 'VND'))]
  t.same(both.map((r) => r.extensions.asset), order[0]! < order[1]! ? ['POINTS', 'VND'] : ['VND', 'POINTS'])
})
