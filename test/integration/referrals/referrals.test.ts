// Referrals: every member's code, naming a referrer at enrolment or later (with the refusals),
// and the reward of a referred member's first purchase, posted through the API: both rewards, once,
// also under concurrent first purchases, with the ledger verifying clean.
import t, { type Test } from 'tap'
import { sql } from 'drizzle-orm'
import { queryRows } from '../../../src/db/client.js'
import { startTestApp, uniqueVnMobile, type ProgramFixture } from '../../helpers/app.js'
import { idemKey, Till, VND_RULES } from '../../helpers/pos.js'

const ctx = await startTestApp(t)
const REFERRAL = { referrerPoints: 500, refereePoints: 200 }
const fixture = await ctx.createProgram({ rules: { ...VND_RULES, referral: REFERRAL, pointsExpiry: { afterDays: 365, roundUpTo: 'month' } } })

const enrol = (p: ProgramFixture, body: Record<string, unknown> = {}) => ctx.call(p.token, 'POST', '/v1/members', { name: 'Lê Thị Hoa', phone: uniqueVnMobile(), ...body }, { 'idempotency-key': idemKey() })
const member = async (p: ProgramFixture, id: string) => (await ctx.call(p.token, 'GET', `/v1/members/${id}`)).json()
const nameReferrer = (p: ProgramFixture, id: string, referralCode: string) => ctx.call(p.token, 'POST', `/v1/members/${id}/referrer`, { referralCode }, { 'idempotency-key': idemKey() })
const pointsOf = async (p: ProgramFixture, id: string) => (await ctx.call(p.token, 'GET', `/v1/members/${id}/balances`)).json().points.balance as number
const assertLedgerClean = (t: Test, p: ProgramFixture) => ctx.assertLedgerClean(t, p.token)
/** A captured cash sale of 50,000 VND (5 points) by `memberId`. */
const sale = async (p: ProgramFixture, memberId: string) => {
  const res = await new Till(ctx, p.token).purchase(memberId, [{ sku: 'A', quantity: 1, unitPrice: '50000' }], [{ type: 'cash', amount: '50000' }])
  if (res.statusCode !== 201) throw new Error(res.body)
  return res.json() as { id: string }
}
const rewardRow = async (p: ProgramFixture, refereeId: string) =>
  (
    await queryRows<{ purchase_id: string; entry_id: string | null; referee_points: string; referrer_points: string; n: string }>(
      ctx.database.db,
      sql`select r.purchase_id, r.entry_id, r.referee_points::text, r.referrer_points::text, (select count(*) from points_lots l where l.program_id = r.program_id and l.source_entry_id = r.entry_id and l.expires_at is not null) as n
           from referral_rewards r where r.program_id = ${p.id}::uuid and r.referee_id = ${refereeId}::uuid`,
    )
  )[0]

t.test('a referred member’s first purchase credits both once, in one bonus entry', async (t) => {
  const referrer = (await enrol(fixture)).json()
  const referee = (await enrol(fixture, { referralCode: referrer.referralCode })).json()
  const first = await sale(fixture, referee.id)
  t.equal(await pointsOf(fixture, referee.id), 200 + 5, 'the referee: 200 on top of the sale’s 5 points')
  t.equal(await pointsOf(fixture, referrer.id), 500)
  await sale(fixture, referee.id)
  t.equal(await pointsOf(fixture, referrer.id), 500, 'a second purchase gives nothing more')
  t.equal(await pointsOf(fixture, referee.id), 200 + 10)

  const activity = (await ctx.call(fixture.token, 'GET', `/v1/members/${referrer.id}/activity`)).json().data
  t.match(activity, [{ kind: 'bonus', reason: 'referral', reference: { type: 'referral', id: referee.id }, points: 500 }])
  const refereeActivity = (await ctx.call(fixture.token, 'GET', `/v1/members/${referee.id}/activity`)).json().data
  t.ok(refereeActivity.some((a: { entryId: string }) => a.entryId === activity[0].entryId), 'one entry credits both')
  t.match(await rewardRow(fixture, referee.id), { purchase_id: first.id, entry_id: activity[0].entryId, n: '2' }, 'recorded with the purchase; both points lots expire by the program rule')
  await assertLedgerClean(t, fixture)
})

t.test('concurrent first purchases: rewarded once', async (t) => {
  const referrer = (await enrol(fixture)).json()
  const referee = (await enrol(fixture, { referralCode: referrer.referralCode })).json()
  await Promise.all(Array.from({ length: 10 }, () => sale(fixture, referee.id)))
  t.equal(await pointsOf(fixture, referee.id), 200 + 50)
  t.equal(await pointsOf(fixture, referrer.id), 500)
  await assertLedgerClean(t, fixture)
})

t.test('nothing to reward: a member nobody referred, a program without referral rules', async (t) => {
  const lone = (await enrol(fixture)).json()
  await sale(fixture, lone.id)
  t.equal(await pointsOf(fixture, lone.id), 5, 'a member nobody referred: the sale’s points only')
  t.equal(await rewardRow(fixture, lone.id), undefined)

  const plain = await ctx.createProgram({ rules: VND_RULES })
  const r2 = (await enrol(plain)).json()
  const e2 = (await enrol(plain, { referralCode: r2.referralCode })).json()
  await sale(plain, e2.id)
  t.equal(await pointsOf(plain, e2.id), 5, 'a program without referral rules')
  t.equal(await pointsOf(plain, r2.id), 0)
})

t.test('zero legs are skipped; an erased referrer gets nothing', async (t) => {
  const onlyReferee = await ctx.createProgram({ rules: { ...VND_RULES, referral: { referrerPoints: 0, refereePoints: 300 } } })
  const r = (await enrol(onlyReferee)).json()
  const e = (await enrol(onlyReferee, { referralCode: r.referralCode })).json()
  await sale(onlyReferee, e.id)
  t.equal(await pointsOf(onlyReferee, e.id), 300 + 5)
  t.equal((await ctx.call(onlyReferee.token, 'GET', `/v1/members/${r.id}/activity`)).json().data.length, 0, 'no posting for the referrer')

  const nothing = await ctx.createProgram({ rules: { ...VND_RULES, referral: { referrerPoints: 0, refereePoints: 0 } } })
  const r0 = (await enrol(nothing)).json()
  const e0 = (await enrol(nothing, { referralCode: r0.referralCode })).json()
  await sale(nothing, e0.id)
  t.match(await rewardRow(nothing, e0.id), { entry_id: null, referee_points: '0', referrer_points: '0' }, 'recorded, with no entry')
  t.equal(await pointsOf(nothing, e0.id), 5)

  const referrer = (await enrol(fixture)).json()
  const referee = (await enrol(fixture, { referralCode: referrer.referralCode })).json()
  await ctx.call(fixture.token, 'DELETE', `/v1/members/${referrer.id}`)
  await sale(fixture, referee.id)
  t.match(await rewardRow(fixture, referee.id), { referee_points: '200', referrer_points: '0' })
  t.equal(await pointsOf(fixture, referee.id), 200 + 5)
  await assertLedgerClean(t, onlyReferee)
  await assertLedgerClean(t, fixture)
})
