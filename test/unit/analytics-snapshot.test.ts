import t from 'tap'
import { periodKey, snapshotPeriods } from '../../src/modules/analytics/snapshot.js'
import { resolvePeriod } from '../../src/shared/period.js'

const HCM = 'Asia/Ho_Chi_Minh'

t.test('the periods the snapshot computes end with the day before the run, program zone', async (t) => {
  // 1 March 2027, 00:30 in Ho Chi Minh City (still 28 February in UTC)
  const { summaries, cohorts } = snapshotPeriods(new Date('2027-02-28T17:30:00Z'), HCM)
  t.same(summaries, [
    resolvePeriod({ from: '2027-01-30', to: '2027-02-28' }, HCM),
    resolvePeriod({ from: '2026-03-01', to: '2027-02-28' }, HCM),
    resolvePeriod({ from: '2027-02-01', to: '2027-02-28' }, HCM),
  ], 'last 30 days, last 365 days, the previous calendar month')
  t.same(cohorts, [{ period: resolvePeriod({ from: '2026-03-01', to: '2027-02-28' }, HCM), by: 'month' }])
  t.equal(summaries[1]!.to.toISOString(), '2027-02-28T17:00:00.000Z', 'the end of yesterday there')
})

t.test('the previous month across a year and a leap day', async (t) => {
  t.same(snapshotPeriods(new Date('2027-01-10T05:00:00Z'), 'UTC').summaries[2], resolvePeriod({ from: '2026-12-01', to: '2026-12-31' }, 'UTC'))
  t.same(snapshotPeriods(new Date('2028-03-01T05:00:00Z'), 'UTC').summaries[0], resolvePeriod({ from: '2028-01-31', to: '2028-02-29' }, 'UTC'))
})

t.test('a question is keyed by its resolved period and option', async (t) => {
  const p = resolvePeriod({ from: '2027-01-01', to: '2027-01-31' }, HCM)
  t.equal(periodKey(p, 365), '2026-12-31T17:00:00.000Z/2027-01-31T17:00:00.000Z/365')
  t.equal(periodKey(p, 'month'), periodKey(resolvePeriod({ from: '2026-12-31T17:00:00Z', to: '2027-01-31T17:00:00Z' }, HCM), 'month'), 'a date and the same instant are one question')
  t.not(periodKey(p, 365), periodKey(p, 364))
})
