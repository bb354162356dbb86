import t from 'tap'
import { addDays, celebratedOn, celebrationWindow, isLeapYear } from '../../src/modules/birthdays/calendar.js'

t.test('leap years', async (t) => {
  t.same([2024, 2027, 2028, 1900, 2000, 2100].map(isLeapYear), [true, false, true, false, true, false])
})

t.test('a birthday is celebrated on its month and day; Feb 29 on Feb 28 in common years', async (t) => {
  t.equal(celebratedOn('1990-03-15', 2027), '2027-03-15')
  t.equal(celebratedOn('2000-02-29', 2027), '2027-02-28')
  t.equal(celebratedOn('2000-02-29', 2028), '2028-02-29')
  t.equal(celebratedOn('2001-02-28', 2028), '2028-02-28')
})

t.test('date arithmetic crosses months, years and leap days', async (t) => {
  t.equal(addDays('2027-03-01', -1), '2027-02-28')
  t.equal(addDays('2028-03-01', -1), '2028-02-29')
  t.equal(addDays('2027-12-31', 1), '2028-01-01')
  t.equal(addDays('2028-01-03', -7), '2027-12-27')
})

t.test('a run celebrates its date and the 7 days before, each in its own year', async (t) => {
  const window = celebrationWindow('2028-01-03')
  t.equal(window.length, 8)
  t.same(window[0], { date: '2027-12-27', year: 2027, monthDays: ['12-27'] })
  t.same(window[7], { date: '2028-01-03', year: 2028, monthDays: ['01-03'] })
  t.same(
    window.map((d) => d.date),
    ['2027-12-27', '2027-12-28', '2027-12-29', '2027-12-30', '2027-12-31', '2028-01-01', '2028-01-02', '2028-01-03'],
  )
})

t.test('Feb 28 of a common year also celebrates Feb 29 birthdays; in a leap year Feb 29 has its own day', async (t) => {
  t.same(celebrationWindow('2027-02-28', 0), [{ date: '2027-02-28', year: 2027, monthDays: ['02-28', '02-29'] }])
  t.same(celebrationWindow('2028-02-28', 0), [{ date: '2028-02-28', year: 2028, monthDays: ['02-28'] }])
  t.same(celebrationWindow('2028-02-29', 0), [{ date: '2028-02-29', year: 2028, monthDays: ['02-29'] }])
  const monthDays = celebrationWindow('2027-03-03').flatMap((d) => d.monthDays)
  t.equal(monthDays.filter((m) => m === '02-29').length, 1, 'a catch-up window holds each birthday once')
})
