import t from 'tap'
import { lotExpiry, restoredPointsExpiry } from '../../src/modules/ledger/lots.js'
import { defaultRules } from '../../src/modules/programs/rules.js'
import { computePurchase, percentOff } from '../../src/modules/purchases/calculator.js'
import { addMonthsIn, qualifyingIndex, type TierRules } from '../../src/modules/tiers/service.js'

const HCM = 'Asia/Ho_Chi_Minh'
const earned = new Date('2026-01-15T10:00:00+07:00')

t.test('lot expiry: afterDays from the local day earned, rounded up to the end of the day, month, quarter or year', async (t) => {
  t.equal(lotExpiry(null, HCM, earned), null, 'no policy: never')
  const policy = (roundUpTo: 'day' | 'month' | 'quarter' | 'year') => ({ afterDays: 365, roundUpTo, restoredGraceDays: 30 })
  t.equal(lotExpiry(policy('day'), HCM, earned)!.toISOString(), '2027-01-15T17:00:00.000Z', 'usable through 2027-01-15 local')
  t.equal(lotExpiry(policy('month'), HCM, earned)!.toISOString(), '2027-01-31T17:00:00.000Z', 'end of January 2027')
  t.equal(lotExpiry(policy('quarter'), HCM, earned)!.toISOString(), '2027-03-31T17:00:00.000Z', 'end of Q1 2027')
  t.equal(lotExpiry(policy('year'), HCM, earned)!.toISOString(), '2027-12-31T17:00:00.000Z', 'end of 2027')
  // Late evening UTC is already the next day in Ho Chi Minh City.
  t.equal(lotExpiry({ afterDays: 1, roundUpTo: 'day', restoredGraceDays: 0 }, HCM, new Date('2026-03-14T18:30:00Z'))!.toISOString(), '2026-03-16T17:00:00.000Z')
  // Across a DST change: midnight is 04:00Z in New York summer time.
  t.equal(lotExpiry({ afterDays: 10, roundUpTo: 'day', restoredGraceDays: 0 }, 'America/New_York', new Date('2026-03-01T12:00:00-05:00'))!.toISOString(), '2026-03-12T04:00:00.000Z')
  const now = new Date('2026-05-01T00:00:00Z')
  t.equal(restoredPointsExpiry({ ...defaultRules(), pointsExpiry: policy('day') }, now)!.toISOString(), '2026-05-31T00:00:00.000Z', 'grace of 30 days')
  t.equal(restoredPointsExpiry(defaultRules(), now), null)
})

t.test('tier arithmetic: months in the program zone, thresholds', async (t) => {
  t.equal(addMonthsIn(new Date('2026-01-31T10:00:00+07:00'), 1, HCM).toISOString(), '2026-02-28T03:00:00.000Z', 'clamped to the end of February')
  t.equal(addMonthsIn(new Date('2026-03-15T10:00:00+07:00'), -12, HCM).toISOString(), '2025-03-15T03:00:00.000Z')
  const tiers: TierRules = {
    metric: 'spend',
    windowMonths: 12,
    retentionMonths: 12,
    levels: [
      { code: 'a', name: 'A', threshold: '0', earnMultiplier: '1', discountPercent: '0', birthdayBonusPoints: 0 },
      { code: 'b', name: 'B', threshold: '10.50', earnMultiplier: '1', discountPercent: '0', birthdayBonusPoints: 0 },
    ],
  }
  t.equal(qualifyingIndex(tiers, 1049n, 2), 0, '10.49 USD is below 10.50')
  t.equal(qualifyingIndex(tiers, 1050n, 2), 1)
})

t.test('order discounts: percent rounded down, spread over lines by largest remainder, earning on what was paid', async (t) => {
  t.equal(percentOff(1_000_000n, '5'), 50_000n)
  t.equal(percentOff(999n, '12.5'), 124n, '124.875 rounds down')
  const rules = { ...defaultRules(), earning: { points: 1, per: '10000', rounding: 'down' as const, excludedCategories: [], categoryMultipliers: {} } }
  const totals = computePurchase({
    lines: [
      { sku: 'A', name: 'A', quantity: 1, unitPrice: 600_001n, discount: 0n },
      { sku: 'B', name: 'B', quantity: 1, unitPrice: 400_000n, discount: 1n },
    ],
    tenders: [{ type: 'cash', amount: 900_000n }],
    rules,
    exponent: 0,
    discounts: [
      { type: 'tier', code: 'silver', percent: '5', amountOf: (b) => percentOff(b, '5') },
      { type: 'coupon', code: 'TEN', amountOf: () => 50_000n },
    ],
    earnMultiplier: '1.5',
  })
  t.same(
    totals.discounts.map((d) => [d.type, d.amount]),
    [
      ['tier', 50_000n],
      ['coupon', 50_000n],
    ],
  )
  t.equal(totals.total, 900_000n)
  t.equal(totals.discountTotal, 100_001n, 'line discount plus order discounts')
  t.same(
    totals.lines.map((l) => l.orderDiscount),
    [60_000n, 40_000n],
  )
  t.equal(
    totals.lines.reduce((s, l) => s + l.amount, 0n),
    900_000n,
    'the lines add up to the total',
  )
  t.equal(totals.pointsEarned, 135n, '90 points x 1.5')
  t.throws(() => computePurchase({ lines: [{ sku: 'A', name: 'A', quantity: 1, unitPrice: 100n, discount: 0n }], tenders: [{ type: 'cash', amount: 100n }], rules, exponent: 0, discounts: [{ type: 'tier', code: 'x', amountOf: () => 10n }] }), {
    code: 'TENDERS_DO_NOT_MATCH_TOTAL',
  })
})
