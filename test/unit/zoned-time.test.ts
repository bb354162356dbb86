import t from 'tap'
import { boundEnd, localDate, startOfDayIn } from '../../src/shared/period.js'
import { zonedParts, zonedToUtc } from '../../src/shared/zoned-time.js'

const hoursOf = (date: string, tz: string) => (boundEnd(date, tz).getTime() - startOfDayIn(date, tz).getTime()) / 3_600_000

t.test('local mean time: offsets with seconds before standard time zones', async (t) => {
  // Asia/Ho_Chi_Minh kept local mean time (+7:06:30 in the zone data) until 1906.
  const start = startOfDayIn('1900-01-01', 'Asia/Ho_Chi_Minh')
  t.equal(start.toISOString(), '1899-12-31T16:53:30.000Z', 'midnight at +7:06:30 starts before 1900 in UTC')
  t.same(zonedParts(start, 'Asia/Ho_Chi_Minh'), { year: 1900, month: 1, day: 1, hour: 0, minute: 0, second: 0 })
  t.equal(localDate(new Date(start.getTime() - 1000), 'Asia/Ho_Chi_Minh'), '1899-12-31', 'the second before is the day before')
  t.equal(hoursOf('1900-01-01', 'Asia/Ho_Chi_Minh'), 24)
  t.equal(startOfDayIn('1900-01-01', 'Pacific/Kiritimati').toISOString(), '1900-01-01T10:29:20.000Z', 'a negative LMT offset with seconds')
})

t.test('a day is 23 or 25 hours when the clocks change in the night', async (t) => {
  t.equal(hoursOf('2025-03-09', 'America/New_York'), 23)
  t.equal(hoursOf('2025-11-02', 'America/New_York'), 25)
  t.equal(hoursOf('2025-03-30', 'Europe/London'), 23)
  t.equal(hoursOf('2025-10-26', 'Europe/London'), 25)
  t.equal(startOfDayIn('2025-10-26', 'Europe/London').toISOString(), '2025-10-25T23:00:00.000Z', 'BST midnight before the change')
})

t.test('a repeated wall-clock time is its earlier instant', async (t) => {
  t.equal(zonedToUtc({ year: 2025, month: 11, day: 2, hour: 1, minute: 30 }, 'America/New_York').toISOString(), '2025-11-02T05:30:00.000Z', '01:30 EDT, not EST')
  t.equal(zonedToUtc({ year: 2025, month: 10, day: 26, hour: 1, minute: 30 }, 'Europe/London').toISOString(), '2025-10-26T00:30:00.000Z', '01:30 BST, not GMT')
  // Havana goes back from 01:00 to 00:00: midnight happens twice, the day starts at the first.
  t.equal(startOfDayIn('2024-11-03', 'America/Havana').toISOString(), '2024-11-03T04:00:00.000Z')
})

t.test('a wall-clock time the clocks skip is the instant they jump', async (t) => {
  t.equal(zonedToUtc({ year: 2025, month: 3, day: 9, hour: 2, minute: 30 }, 'America/New_York').toISOString(), '2025-03-09T07:00:00.000Z', '03:00 EDT')
  // Santiago and (until 2019) São Paulo moved their clocks at midnight: the day starts at 01:00.
  t.equal(startOfDayIn('2024-09-08', 'America/Santiago').toISOString(), '2024-09-08T04:00:00.000Z')
  t.equal(localDate(startOfDayIn('2024-09-08', 'America/Santiago'), 'America/Santiago'), '2024-09-08', 'never in the day before')
  t.equal(hoursOf('2024-09-07', 'America/Santiago'), 24, 'the day before keeps its last hour')
  t.equal(hoursOf('2024-09-08', 'America/Santiago'), 23)
  t.equal(startOfDayIn('2018-11-04', 'America/Sao_Paulo').toISOString(), '2018-11-04T03:00:00.000Z')
  // Samoa skipped 30 December 2011: the 29th is a whole day, the 30th an empty one.
  t.equal(hoursOf('2011-12-29', 'Pacific/Apia'), 24)
  t.equal(hoursOf('2011-12-30', 'Pacific/Apia'), 0)
  t.equal(startOfDayIn('2011-12-31', 'Pacific/Apia').toISOString(), '2011-12-30T10:00:00.000Z')
})

t.test('the last supported day ends inside year 3000 in every zone', async (t) => {
  t.equal(boundEnd('2999-12-31', 'Etc/GMT+12').toISOString(), '3000-01-01T12:00:00.000Z')
  t.equal(boundEnd('2999-12-31', 'Pacific/Kiritimati').toISOString(), '2999-12-31T10:00:00.000Z')
  t.equal(boundEnd('2024-02-29', 'UTC').toISOString(), '2024-03-01T00:00:00.000Z', 'a leap day is followed by 1 March')
})

t.test('parts from the cached minute offset equal what Intl formats, around offset changes too', async (t) => {
  const reference = (at: Date, timeZone: string) => {
    const f = new Intl.DateTimeFormat('en-US', { timeZone, hourCycle: 'h23', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit' })
    const parts: Record<string, number> = {}
    for (const p of f.formatToParts(at)) if (p.type !== 'literal') parts[p.type] = Number(p.value)
    return { year: parts.year, month: parts.month, day: parts.day, hour: parts.hour! % 24, minute: parts.minute, second: parts.second }
  }
  // Around: New York's spring change, Lord Howe's half-hour change, Ho Chi Minh City leaving local
  // mean time (+7:06:30) in 1906, Kiritimati skipping a day, and the last supported year.
  const cases: [string, string][] = [
    ['America/New_York', '2025-03-09T07:00:00Z'],
    ['Australia/Lord_Howe', '2025-04-05T15:00:00Z'],
    ['Asia/Ho_Chi_Minh', '1906-06-30T16:53:30Z'],
    ['Pacific/Kiritimati', '1994-12-31T10:00:00Z'],
    ['Asia/Ho_Chi_Minh', '2999-12-31T16:59:00Z'],
  ]
  let compared = 0
  for (const [zone, iso] of cases) {
    const around = Date.parse(iso)
    for (let dt = -7_200_000; dt <= 7_200_000; dt += 7_001) {
      const at = new Date(around + dt)
      const got = zonedParts(at, zone)
      const want = reference(at, zone)
      compared++
      if (JSON.stringify(got) !== JSON.stringify(want)) {
        t.same(got, want, `${zone} at ${at.toISOString()}`)
        return
      }
    }
  }
  t.equal(compared, 5 * 2057, 'every instant compared agreed')
})
