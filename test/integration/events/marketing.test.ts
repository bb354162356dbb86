// Decree 91/2020 for marketing events: consent, Do-Not-Call, 07:00-22:00 in the program zone,
// at most 3 per member per 24 h. A clock is injected into emission and dispatch.
import t from 'tap'
import { sql } from 'drizzle-orm'
import { queryRows } from '../../../src/db/client.js'
import { emitBirthdayToday, emitPointsExpiringSoon } from '../../../src/modules/events/care.js'
import { emitEvent } from '../../../src/modules/events/emit.js'
import type { ProgramRow } from '../../../src/modules/programs/tables.js'
import { startTestApp } from '../../helpers/app.js'
import { WebhookReceiver } from '../../helpers/receiver.js'

const ctx = await startTestApp(t)
const receiver = await WebhookReceiver.start()
t.teardown(() => receiver.close())

const fixture = await ctx.createProgram({ name: 'Tiệm bánh', timezone: 'Asia/Ho_Chi_Minh' })
const [program] = await queryRows<ProgramRow>(ctx.database.db, sql`select * from programs where id = ${fixture.id}::uuid`)
t.equal((await ctx.call(fixture.token, 'POST', '/v1/webhooks', { url: receiver.url })).statusCode, 201)

/** Local time in Hanoi (UTC+7) on a day far from the real clock, so only injected times matter. */
const hanoi = (day: number, hh: number, mm = 0) => new Date(Date.UTC(2031, 4, day, hh - 7, mm))
const dispatch = (at: Date) => ctx.app.dispatcher.dispatchOnce(at, { programIds: [fixture.id] })
const consenting = (extra: Record<string, unknown> = {}) => ctx.enrol(fixture.token, { consents: { smsMarketing: { granted: true } }, ...extra })
const status = async (id: string) =>
  (await queryRows<{ status: string; suppressed_reason: string | null }>(ctx.database.db, sql`select status, suppressed_reason from events where id = ${id}::uuid`))[0]

t.test('no marketing without SMS marketing consent, or to a member on Do-Not-Call', async (t) => {
  const noConsent = await ctx.enrol(fixture.token)
  const dnc = await consenting({ doNotContact: true })
  const now = hanoi(1, 10)
  const a = await ctx.database.transaction((tx) => emitBirthdayToday(tx, program!, { memberId: noConsent.id }, { now }))
  const b = await ctx.database.transaction((tx) => emitBirthdayToday(tx, program!, { memberId: dnc.id }, { now }))
  t.match(a, { status: 'suppressed', suppressedReason: 'no_consent' })
  t.match(b, { status: 'suppressed', suppressedReason: 'do_not_contact' })
  await dispatch(hanoi(1, 10, 5))
  t.equal(receiver.of('birthday.today', noConsent.id).length, 0)
  t.equal(receiver.of('birthday.today', dnc.id).length, 0)
  // A transactional event for the same member still goes.
  await ctx.database.transaction((tx) => emitPointsExpiringSoon(tx, program!, { memberId: noConsent.id, points: 120, expiresAt: hanoi(30, 0) }, { now }))
  await dispatch(hanoi(1, 10, 6))
  t.equal(receiver.of('points.expiringSoon', noConsent.id).length, 1)
})

t.test('marketing emitted at night waits until 07:00; transactional events do not wait', async (t) => {
  const m = await consenting()
  // The birthday job runs after midnight: the greeting waits for 07:00 the same day.
  const birthday = await ctx.database.transaction((tx) => emitBirthdayToday(tx, program!, { memberId: m.id, offer: { couponCode: 'HPBD' } }, { now: hanoi(3, 0, 30) }))
  t.match(birthday, { status: 'pending', availableAt: hanoi(3, 7) })
  // Another marketing message at 23:00 waits for the next morning.
  const late = await ctx.database.transaction((tx) => emitEvent(tx, program!, { type: 'birthday.today', memberId: m.id, payload: { memberId: m.id } }, { now: hanoi(2, 23) }))
  t.match(late, { status: 'pending', availableAt: hanoi(3, 7) })
  await ctx.database.transaction((tx) => emitPointsExpiringSoon(tx, program!, { memberId: m.id, points: 50, expiresAt: hanoi(9, 0) }, { now: hanoi(2, 23) }))

  await dispatch(hanoi(2, 23, 30))
  t.equal(receiver.of('birthday.today', m.id).length, 0, 'nothing at 23:30')
  t.equal(receiver.of('points.expiringSoon', m.id).length, 1, 'a balance notice is not advertising')
  await dispatch(hanoi(3, 6, 59))
  t.equal(receiver.of('birthday.today', m.id).length, 0, 'nothing at 06:59')
  await dispatch(hanoi(3, 7, 1))
  const got = receiver.of('birthday.today', m.id)
  t.equal(got.length, 2, 'both at 07:01')
  t.ok(got.some((g) => (g.json.data as { offer?: unknown }).offer), 'the greeting with its offer')
  t.match(got.find((g) => (g.json.data as { offer?: unknown }).offer)!.json.data, { memberId: m.id, offer: { couponCode: 'HPBD' }, member: { id: m.id } })
})

t.test('at most 3 marketing events per member in any 24 hours: the rest wait for a free slot', async (t) => {
  const m = await consenting()
  const ten = hanoi(5, 10)
  const ids: string[] = []
  for (let i = 0; i < 5; i++) {
    const e = await ctx.database.transaction((tx) => emitEvent(tx, program!, { type: 'birthday.today', memberId: m.id, payload: { memberId: m.id, offer: { points: i } } }, { now: ten }))
    ids.push(e.id)
  }
  const first = await dispatch(ten)
  t.equal(receiver.of('birthday.today', m.id).length, 3)
  t.ok(first.postponed >= 2)
  await dispatch(hanoi(6, 9, 59))
  t.equal(receiver.of('birthday.today', m.id).length, 3, 'still 3 just under 24 hours later')
  await dispatch(hanoi(6, 10, 0))
  t.equal(receiver.of('birthday.today', m.id).length, 5, 'the other two once the first three are 24 hours old')
  t.same(receiver.of('birthday.today', m.id).map((r) => (r.json.data as { offer: { points: number } }).offer.points).sort(), [0, 1, 2, 3, 4])
  for (const id of ids) t.equal((await status(id))!.status, 'dispatched')
})

t.test('consent withdrawn while an event waits: it is never sent', async (t) => {
  const m = await consenting()
  const e = await ctx.database.transaction((tx) => emitBirthdayToday(tx, program!, { memberId: m.id }, { now: hanoi(13, 5, 30) }))
  t.equal(e.status, 'pending')
  const patch = await ctx.call(fixture.token, 'PATCH', `/v1/members/${m.id}`, { consents: { smsMarketing: { granted: false } } })
  t.equal(patch.statusCode, 200)
  await dispatch(hanoi(13, 7, 30))
  t.equal(receiver.of('birthday.today', m.id).length, 0)
  t.same(await status(e.id), { status: 'suppressed', suppressed_reason: 'no_consent' })
})

t.test('a birthday greeting still queued at the end of its day is dropped', async (t) => {
  const m = await consenting()
  // The member reached the cap earlier that day; the greeting waits past midnight.
  for (let i = 0; i < 3; i++) await ctx.database.transaction((tx) => emitEvent(tx, program!, { type: 'birthday.today', memberId: m.id, payload: { memberId: m.id } }, { now: hanoi(20, 8) }))
  await dispatch(hanoi(20, 8))
  const greeting = await ctx.database.transaction((tx) => emitBirthdayToday(tx, program!, { memberId: m.id }, { now: hanoi(20, 9) }))
  await dispatch(hanoi(20, 9))
  t.equal(receiver.of('birthday.today', m.id).length, 3)
  await dispatch(hanoi(21, 8, 1))
  t.equal(receiver.of('birthday.today', m.id).length, 3)
  t.same(await status(greeting.id), { status: 'suppressed', suppressed_reason: 'expired' })
})
