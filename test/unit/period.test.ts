import t from 'tap'
import { boundEnd, boundStart, localDate, resolvePeriod, startOfDayIn } from '../../src/shared/period.js'

t.test('a date is a day of the program time zone', async (t) => {
  t.equal(startOfDayIn('2025-01-01', 'Asia/Ho_Chi_Minh').toISOString(), '2024-12-31T17:00:00.000Z')
  t.equal(startOfDayIn('2025-01-01', 'UTC').toISOString(), '2025-01-01T00:00:00.000Z')
  t.equal(startOfDayIn('2025-03-09', 'America/New_York').toISOString(), '2025-03-09T05:00:00.000Z', 'EST on the morning clocks go forward')
  t.equal(startOfDayIn('2025-03-10', 'America/New_York').toISOString(), '2025-03-10T04:00:00.000Z', 'EDT the day after')
  t.equal(startOfDayIn('2025-01-01', 'Asia/Kolkata').toISOString(), '2024-12-31T18:30:00.000Z', 'half-hour offsets')
})

t.test('from is the start of its day, to and asOf the end of theirs', async (t) => {
  const p = resolvePeriod({ from: '2025-01-01', to: '2025-01-31' }, 'Asia/Ho_Chi_Minh')
  t.equal(p.from.toISOString(), '2024-12-31T17:00:00.000Z')
  t.equal(p.to.toISOString(), '2025-01-31T17:00:00.000Z', 'the whole of 31 January is in')
  t.equal(boundEnd('2024-12-31', 'UTC').toISOString(), '2025-01-01T00:00:00.000Z', 'across a year end')
  t.equal(boundEnd('2024-02-28', 'UTC').toISOString(), '2024-02-29T00:00:00.000Z', 'leap day')
  t.equal(boundStart('2025-01-01T10:00:00+07:00', 'UTC').toISOString(), '2025-01-01T03:00:00.000Z', 'an instant is taken as it is')
  t.equal(boundEnd('2025-01-01T10:00:00Z', 'Asia/Ho_Chi_Minh').toISOString(), '2025-01-01T10:00:00.000Z')
})

t.test('to must be after from', async (t) => {
  t.throws(() => resolvePeriod({ from: '2025-02-01', to: '2025-01-31' }, 'UTC'), { code: 'VALIDATION_FAILED' })
  t.throws(() => resolvePeriod({ from: '2025-01-01T00:00:00Z', to: '2025-01-01T00:00:00Z' }, 'UTC'), { code: 'VALIDATION_FAILED' }, 'an empty period')
  t.ok(resolvePeriod({ from: '2025-01-01', to: '2025-01-01' }, 'UTC'), 'one day')
})

t.test('the local date of an instant', async (t) => {
  t.equal(localDate(new Date('2024-12-31T17:00:00Z'), 'Asia/Ho_Chi_Minh'), '2025-01-01')
  t.equal(localDate(new Date('2024-12-31T16:59:59Z'), 'Asia/Ho_Chi_Minh'), '2024-12-31')
})
