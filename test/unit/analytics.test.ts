import t from 'tap'
import { assertCohortRange, bucketLabel, bucketsSpanned, cohortTable, MAX_COHORT_BUCKETS } from '../../src/modules/analytics/cohorts.js'
import { resolvePeriod } from '../../src/shared/period.js'
import { ratio } from '../../src/modules/segments/counted.js'
import { netPromoterScore, npsCategory } from '../../src/modules/surveys/nps.js'

t.test('NPS categories and score', async (t) => {
  t.same([0, 6, 7, 8, 9, 10].map(npsCategory), ['detractor', 'detractor', 'passive', 'passive', 'promoter', 'promoter'])
  t.throws(() => npsCategory(11))
  t.throws(() => npsCategory(4.5))
  t.equal(netPromoterScore({ promoters: 0, passives: 0, detractors: 0 }), null)
  t.equal(netPromoterScore({ promoters: 10, passives: 0, detractors: 0 }), 100)
  t.equal(netPromoterScore({ promoters: 0, passives: 0, detractors: 3 }), -100)
  t.equal(netPromoterScore({ promoters: 1, passives: 0, detractors: 2 }), -33.33)
  t.equal(netPromoterScore({ promoters: 2, passives: 1, detractors: 0 }), 66.67, 'half up')
})

t.test('ratios are exact decimals rounded half up', async (t) => {
  t.equal(ratio(1, 3), 0.3333)
  t.equal(ratio(2, 3), 0.6667)
  t.equal(ratio(1n, 8n), 0.125)
  t.equal(ratio('5', '0'), null)
  t.equal(ratio(7, 5, 0), 1)
})

t.test('cohort buckets and the table', async (t) => {
  t.equal(bucketLabel('2024-04-01', 'month'), '2024-04')
  t.equal(bucketLabel('2024-04-01', 'quarter'), '2024-Q2')
  t.equal(bucketLabel('2024-10-01', 'quarter'), '2024-Q4')
  t.equal(bucketLabel('2024-01-01', 'year'), '2024')
  const rows = cohortTable(
    [
      { cohort: '2024-11-01', bucket: '2024-11-01', active: 4 },
      { cohort: '2024-11-01', bucket: '2025-01-01', active: 1 },
    ],
    '2025-02-01',
    'month',
  )
  t.same(
    rows[0]!.retention.map((r) => [r.offset, r.period, r.active, r.rate]),
    [
      [0, '2024-11', 4, 1],
      [1, '2024-12', 0, 0],
      [2, '2025-01', 1, 0.25],
      [3, '2025-02', 0, 0],
    ],
    'months without activity are zeros, across the year end',
  )
})

t.test('a cohort table spans at most 120 buckets of its unit', async (t) => {
  const period = (from: string, to: string) => resolvePeriod({ from, to }, 'Asia/Ho_Chi_Minh')
  t.equal(bucketsSpanned(period('2016-01-01', '2025-12-31'), 'Asia/Ho_Chi_Minh', 'month'), 120, 'ten calendar years of months')
  t.equal(bucketsSpanned(period('2016-01-31', '2016-02-01'), 'Asia/Ho_Chi_Minh', 'month'), 2, 'two days across a month end')
  t.equal(bucketsSpanned(period('2025-03-31', '2025-04-01'), 'Asia/Ho_Chi_Minh', 'quarter'), 2)
  t.equal(bucketsSpanned(period('1900-01-01', '2999-12-31'), 'Asia/Ho_Chi_Minh', 'year'), 1100, 'the supported calendar, LMT start included')
  t.doesNotThrow(() => assertCohortRange(period('2016-01-01', '2025-12-31'), 'Asia/Ho_Chi_Minh', 'month'))
  t.throws(() => assertCohortRange(period('2016-01-01', '2026-01-01'), 'Asia/Ho_Chi_Minh', 'month'), { status: 422, code: 'RANGE_TOO_LONG', extensions: { by: 'month', maxBuckets: MAX_COHORT_BUCKETS, buckets: 121 } })
  t.doesNotThrow(() => assertCohortRange(period('1990-01-01', '2019-12-31'), 'Asia/Ho_Chi_Minh', 'quarter'), 'thirty years of quarters')
  t.throws(() => assertCohortRange(period('1900-01-01', '2999-12-31'), 'UTC', 'year'), { code: 'RANGE_TOO_LONG' })
})
