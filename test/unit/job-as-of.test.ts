import t from 'tap'
import { resolveAsOf } from '../../src/modules/jobs/schemas.js'

const now = new Date('2026-11-22T10:00:00Z')

t.test('no asOf is now', async (t) => {
  t.equal(resolveAsOf(undefined, 'Asia/Ho_Chi_Minh', now), now)
})

t.test('a date is the start of that day in the program zone', async (t) => {
  t.equal(resolveAsOf('2027-03-15', 'Asia/Ho_Chi_Minh', now).toISOString(), '2027-03-14T17:00:00.000Z')
  t.equal(resolveAsOf('2027-03-15', 'UTC', now).toISOString(), '2027-03-15T00:00:00.000Z')
  t.equal(resolveAsOf('2027-03-14', 'America/New_York', now).toISOString(), '2027-03-14T05:00:00.000Z', 'the DST change day starts before it')
})

t.test('an instant needs an offset; impossible dates are refused', async (t) => {
  t.equal(resolveAsOf('2027-03-14T18:30:00Z', 'Asia/Ho_Chi_Minh', now).toISOString(), '2027-03-14T18:30:00.000Z')
  t.equal(resolveAsOf('2027-03-15T01:30:00+07:00', 'UTC', now).toISOString(), '2027-03-14T18:30:00.000Z')
  for (const bad of ['2027-02-29', '2027-03-15T01:30:00', 'now', '']) {
    t.throws(() => resolveAsOf(bad, 'UTC', now), { status: 422, code: 'INVALID_AS_OF' }, JSON.stringify(bad))
  }
})
