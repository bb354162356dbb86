import t from 'tap'
import fc from 'fast-check'
import { allocateProportionally, D, roundToInteger } from '../../src/shared/rounding.js'
import { computePurchase, earnedPoints, splitRefund, type RefundableTender } from '../../src/modules/purchases/calculator.js'
import { defaultRules, type ProgramRules } from '../../src/modules/programs/rules.js'

const rules = (over: Partial<ProgramRules> = {}): ProgramRules => ({
  ...defaultRules(),
  earning: { points: 1, per: '10000', rounding: 'down', excludedCategories: [], categoryMultipliers: {} },
  pointValue: '100',
  ...over,
})

t.test('largest remainder splits always sum exactly and never exceed a weight', async (t) => {
  t.same(allocateProportionally(100n, [1n, 1n, 1n]), [34n, 33n, 33n])
  t.same(allocateProportionally(0n, [5n, 7n]), [0n, 0n])
  t.same(allocateProportionally(10n, [10n, 0n]), [10n, 0n])
  t.throws(() => allocateProportionally(1n, [0n, 0n]))
  fc.assert(
    fc.property(fc.array(fc.bigInt({ min: 0n, max: 10n ** 12n }), { minLength: 1, maxLength: 6 }), fc.bigInt({ min: 0n, max: 10n ** 12n }), (weights, raw) => {
      const sum = weights.reduce((a, b) => a + b, 0n)
      if (sum === 0n) return true
      const total = raw % (sum + 1n)
      const parts = allocateProportionally(total, weights)
      return parts.reduce((a, b) => a + b, 0n) === total && parts.every((p, i) => p >= 0n && p <= weights[i]!)
    }),
  )
})

t.test('the rounding modes round as named', async (t) => {
  t.equal(roundToInteger(D('10.5'), 'down'), 10n)
  t.equal(roundToInteger(D('10.5'), 'half_up'), 11n)
  t.equal(roundToInteger(D('10.4'), 'half_up'), 10n)
  t.equal(roundToInteger(D('10.01'), 'up'), 11n)
})

t.test('earning: per purchase, on money paid, with categories', async (t) => {
  t.equal(earnedPoints([{ amount: 105_000n }], 105_000n, 105_000n, rules(), 0), 10n, '105,000 VND earns 10 (DOMAIN example)')
  t.equal(earnedPoints([{ amount: 99_999n }], 99_999n, 99_999n, rules(), 0), 9n)
  t.equal(earnedPoints([{ amount: 100_000n }], 50_000n, 100_000n, rules(), 0), 5n, 'half paid with points earns half')
  t.equal(earnedPoints([{ amount: 100_000n }], 100_000n, 100_000n, rules({ earning: null }), 0), 0n)
  const r = rules({ earning: { points: 3, per: '10000', rounding: 'half_up', excludedCategories: ['x'], categoryMultipliers: { y: '1.5' } } })
  t.equal(earnedPoints([{ amount: 10_000n, category: 'x' }, { amount: 10_000n, category: 'y' }, { amount: 5_000n }], 25_000n, 25_000n, r, 0), 6n, '(15,000 + 5,000)/10,000 x 3 = 6')
})

t.test('a purchase must be paid exactly; points are valued at the point value', async (t) => {
  const totals = computePurchase({
    lines: [{ sku: 'A', name: 'A', quantity: 2, unitPrice: 50_000n, discount: 5_000n }],
    tenders: [{ type: 'points', points: 150n }, { type: 'cash', amount: 80_000n }],
    rules: rules(),
    exponent: 0,
  })
  t.equal(totals.total, 95_000n)
  t.equal(totals.moneyPaid, 80_000n)
  t.equal(totals.pointsEarned, 8n)
  t.throws(() => computePurchase({ lines: [{ sku: 'A', name: 'A', quantity: 1, unitPrice: 10n, discount: 0n }], tenders: [{ type: 'cash', amount: 9n }], rules: rules(), exponent: 0 }), {
    code: 'TENDERS_DO_NOT_MATCH_TOTAL',
  })
})

t.test('refund splits: exact sums, whole points, never more than left, and the last return empties every tender', async () => {
  fc.assert(
    fc.property(
      fc.bigInt({ min: 0n, max: 1_000_000n }),
      fc.bigInt({ min: 0n, max: 5_000n }),
      fc.bigInt({ min: 0n, max: 1_000_000n }),
      fc.array(fc.integer({ min: 1, max: 100 }), { minLength: 1, maxLength: 5 }),
      (sv, points, card, steps) => {
        const pv = 100n
        let remaining: RefundableTender[] = [
          { type: 'storedValue' as const, amount: sv },
          { type: 'points' as const, amount: points * pv, points },
          { type: 'card' as const, amount: card },
        ]
        const total = sv + points * pv + card
        if (total === 0n) return true
        const weightSum = steps.reduce((a, b) => a + b, 0)
        let left = total
        for (const [i, w] of steps.entries()) {
          const refund = i === steps.length - 1 ? left : (total * BigInt(w)) / BigInt(weightSum) > left ? left : (total * BigInt(w)) / BigInt(weightSum)
          const parts = splitRefund(refund, remaining, pv)
          for (const [j, p] of parts.entries()) {
            if (p.amount < 0n || p.amount > remaining[j]!.amount) return false
            if (p.points !== undefined && p.amount !== p.points * pv) return false
          }
          const given = parts.reduce((a, p) => a + p.amount, 0n)
          if (given < refund && remaining[1]!.points === 0n) return false
          left -= given
          remaining = remaining.map((r, j) => ({ ...r, amount: r.amount - parts[j]!.amount, ...(r.points !== undefined ? { points: r.points - (parts[j]!.points ?? 0n) } : {}) }))
          if (left < 0n) return false
        }
        return remaining.every((r) => r.amount === 0n) && left === 0n
      },
    ),
  )
})
