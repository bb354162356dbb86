import t from 'tap'
import { boundEnd, boundStart, localDate, periodBoundSchema, resolvePeriod, startOfDayIn } from '../../src/shared/period.js'
import { timestampSchema } from '../../src/shared/schemas.js'

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

t.test('bounds and timestamps outside the years 1900-2999 are refused', async (t) => {
  for (const ok of ['1900-01-01', '2999-12-31', '2024-02-29', '1900-01-01T00:00:00Z', '2999-12-31T23:59:59.999Z']) t.ok(periodBoundSchema.safeParse(ok).success, ok)
  for (const bad of ['0001-01-01', '1899-12-31', '3000-01-01', '9999-12-31', '2025-02-29', '1899-12-31T23:59:59Z', '1900-01-01T00:00:00+07:00', '3000-01-01T00:00:00Z', '9999-12-31T23:59:59Z']) {
    t.notOk(periodBoundSchema.safeParse(bad).success, `period bound ${bad}`)
  }
  t.ok(timestampSchema.safeParse('1900-01-01T00:00:00Z').success)
  for (const bad of ['0001-01-01T00:00:00Z', '1899-12-31T23:59:59Z', '3000-01-01T00:00:00Z', '9999-12-31T23:59:59Z', '2025-02-29T00:00:00Z']) t.notOk(timestampSchema.safeParse(bad).success, `timestamp ${bad}`)
})
