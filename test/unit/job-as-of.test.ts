import t from 'tap'
import { refuseRunDate, resolveAsOf } from '../../src/modules/jobs/as-of.js'

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

t.test('dates outside the supported calendar are 400 VALIDATION_FAILED on body/asOf', async (t) => {
  for (const bad of ['9999-12-31', '0001-01-01', '1899-12-31', '3000-01-01', '9999-01-01T00:00:00Z', '0001-01-01T00:00:00+07:00']) {
    t.throws(() => resolveAsOf(bad, 'Asia/Ho_Chi_Minh', now), { status: 400, code: 'VALIDATION_FAILED', extensions: { errors: [{ path: 'body/asOf' }] } }, bad)
  }
  t.equal(resolveAsOf('1900-01-01', 'UTC', now).toISOString(), '1900-01-01T00:00:00.000Z', 'the first supported day')
  t.equal(resolveAsOf('2999-12-31', 'UTC', now).toISOString(), '2999-12-31T00:00:00.000Z', 'the last supported day')
})

t.test('a run later than now, or before the program’s creation day, is refused', async (t) => {
  // 10:00 UTC is 17:00 on the 22nd in Ho Chi Minh City; the program was created on the 1st, 06:00 local.
  const program = { createdAt: new Date('2026-10-31T23:00:00Z'), timezone: 'Asia/Ho_Chi_Minh' }
  const at = (text: string) => resolveAsOf(text, program.timezone, now)
  t.equal(refuseRunDate(at('2026-11-22'), now, program), undefined, 'today (its start) runs')
  t.equal(refuseRunDate(now, now, program), undefined, 'now runs')
  t.equal(refuseRunDate(at('2026-11-01'), now, program), undefined, 'the creation day runs, although it starts before the program was created')
  t.match(refuseRunDate(at('2026-11-23'), now, program), { status: 422, code: 'AS_OF_IN_FUTURE', extensions: { today: '2026-11-22' } }, 'tomorrow is refused')
  t.match(refuseRunDate(at('2026-11-22T17:00:01+07:00'), now, program), { status: 422, code: 'AS_OF_IN_FUTURE' }, 'a later instant of today too')
  t.match(refuseRunDate(at('2026-10-31'), now, program), { status: 422, code: 'AS_OF_BEFORE_PROGRAM', extensions: { programCreatedOn: '2026-11-01' } })
  t.match(refuseRunDate(at('2026-11-01T05:59:00+07:00'), now, program), undefined, 'the creation day is read in the program zone')
})
