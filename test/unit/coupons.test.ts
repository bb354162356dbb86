// Coupon arithmetic (pure): percentages round down to a whole minor unit, fixed amounts are
// capped at the amount, minimum spend is a refusal, several coupons never take more than the amount.
import t from 'tap'
import fc from 'fast-check'
import { AppError } from '../../src/shared/errors.js'
import { assertMinSpend, couponDiscount, couponSteps, planCouponDiscounts, type ResolvedCoupon } from '../../src/modules/coupons/service.js'
import { defaultRules } from '../../src/modules/programs/rules.js'
import { computePurchase, percentOff, type DiscountStep } from '../../src/modules/purchases/calculator.js'

const coupon = (over: Partial<ResolvedCoupon>): ResolvedCoupon => ({
  code: 'C',
  campaignId: '0190a0a0-0000-7000-8000-000000000001',
  campaignName: 'c',
  kind: 'percent',
  percentOff: '10',
  amountOff: null,
  minSpend: 0n,
  maxUsesPerMember: null,
  assignedTo: null,
  ...over,
})
const percent = (p: string, over: Partial<ResolvedCoupon> = {}) => coupon({ kind: 'percent', percentOff: p, ...over })
const fixed = (a: bigint, over: Partial<ResolvedCoupon> = {}) => coupon({ kind: 'fixed', percentOff: null, amountOff: a, ...over })

t.test('a percentage rounds down to a whole minor unit', async (t) => {
  t.equal(couponDiscount(percent('10'), 125_000n), 12_500n)
  t.equal(couponDiscount(percent('12.5'), 99_999n), 12_499n, '12,499.875 -> 12,499')
  t.equal(couponDiscount(percent('33.33'), 100n), 33n, '33.33 -> 33')
  t.equal(couponDiscount(percent('0.01'), 9_999n), 0n, 'less than one minor unit is nothing')
  t.equal(couponDiscount(percent('100'), 4_567n), 4_567n, '100% is the whole amount')
  t.equal(couponDiscount(percent('15'), 1_999n), 299n, 'USD cents: 19.99 * 15% = 2.9985 -> 2.99')
})

t.test('a fixed amount is capped at the amount', async (t) => {
  t.equal(couponDiscount(fixed(50_000n), 200_000n), 50_000n)
  t.equal(couponDiscount(fixed(50_000n), 30_000n), 30_000n)
  t.equal(couponDiscount(fixed(50_000n), 0n), 0n)
})

t.test('below the minimum spend is a refusal naming the minimum in major units', async (t) => {
  const c = percent('10', { code: 'VIP', minSpend: 20_000n })
  t.doesNotThrow(() => assertMinSpend(c, 20_000n, 2), 'exactly the minimum is enough')
  const err = (() => {
    try {
      assertMinSpend(c, 19_999n, 2)
    } catch (e) {
      return e
    }
  })() as AppError
  t.ok(err instanceof AppError)
  t.match(err, { status: 422, code: 'COUPON_MIN_SPEND_NOT_MET', extensions: { couponCode: 'VIP', minSpend: '200.00' } })
  t.throws(() => planCouponDiscounts([percent('5'), fixed(1n, { minSpend: 500n })], 499n, 0), { code: 'COUPON_MIN_SPEND_NOT_MET' }, 'each coupon checks against the amount before coupons')
})

t.test('several coupons: percentages first, then fixed amounts, whatever the order typed', async (t) => {
  const p = percent('10', { code: 'P' })
  const f = fixed(20_000n, { code: 'F' })
  t.same(
    planCouponDiscounts([p, f], 200_000n, 0).map((x) => [x.coupon.code, x.discount]),
    [
      ['P', 20_000n],
      ['F', 20_000n],
    ],
  )
  t.same(
    planCouponDiscounts([f, p], 200_000n, 0).map((x) => [x.coupon.code, x.discount]),
    [
      ['F', 20_000n],
      ['P', 20_000n],
    ],
    'the same discounts, in the order given',
  )
  t.same(
    planCouponDiscounts([percent('50', { code: 'A' }), percent('50', { code: 'B' })], 1_001n, 0).map((x) => x.discount),
    [500n, 250n],
    'the second percentage applies to what the first left (500.5 -> 500, then 250.5 -> 250)',
  )
  t.same(
    planCouponDiscounts([fixed(700n), fixed(700n, { code: 'G' })], 1_000n, 0).map((x) => x.discount),
    [700n, 300n],
    'the second fixed amount is capped at what is left',
  )
})

t.test('property: coupons never take more than the amount, each discount is non-negative', async (t) => {
  const arbCoupon = fc.oneof(
    fc.integer({ min: 1, max: 10_000 }).map((bp) => percent(`${Math.floor(bp / 100)}${bp % 100 ? `.${String(bp % 100).padStart(2, '0')}` : ''}`)),
    fc.bigInt({ min: 1n, max: 10n ** 12n }).map((a) => fixed(a)),
  )
  t.doesNotThrow(() =>
    fc.assert(
      fc.property(fc.array(arbCoupon, { minLength: 1, maxLength: 5 }), fc.bigInt({ min: 0n, max: 10n ** 13n }), (coupons, amount) => {
        const plan = planCouponDiscounts(coupons, amount, 0)
        const total = plan.reduce((s, x) => s + x.discount, 0n)
        return total <= amount && plan.every((x) => x.discount >= 0n)
      }),
    ),
  )
})

t.test('couponSteps plug into computePurchase after the tier step: min spend on the amount before coupons', async (t) => {
  const rules = defaultRules()
  const lines = [
    { sku: 'A', name: 'A', quantity: 2, unitPrice: 50_000n, discount: 10_000n },
    { sku: 'B', name: 'B', quantity: 1, unitPrice: 60_000n, discount: 0n },
  ]
  const tier: DiscountStep = { type: 'tier', code: 'silver', percent: '10', amountOf: (base) => percentOff(base, '10') }
  const steps: DiscountStep[] = [tier, ...couponSteps([fixed(20_000n, { code: 'F', minSpend: 135_000n }), percent('10', { code: 'P' })], 0)]
  const totals = computePurchase({ lines, tenders: [{ type: 'cash', amount: 101_500n }], rules, exponent: 0, discounts: steps })
  t.same(
    totals.discounts.map((d) => [d.type, d.code, d.amount]),
    [
      ['tier', 'silver', 15_000n],
      ['coupon', 'P', 13_500n],
      ['coupon', 'F', 20_000n],
    ],
    '150,000 - 10% tier = 135,000 (meets F’s minimum exactly); 10% = 13,500; then 20,000 fixed',
  )
  t.equal(totals.total, 101_500n)
  t.equal(
    totals.lines.reduce((s, l) => s + l.orderDiscount, 0n),
    48_500n,
    'spread over the lines',
  )
  t.throws(
    () => computePurchase({ lines, tenders: [{ type: 'cash', amount: 1n }], rules, exponent: 0, discounts: [tier, ...couponSteps([fixed(1n, { minSpend: 135_001n })], 0)] }),
    { code: 'COUPON_MIN_SPEND_NOT_MET' },
    'the minimum is checked after the tier discount',
  )
})
