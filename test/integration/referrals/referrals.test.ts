// Referrals: every member's code, naming a referrer at enrolment or later (with the refusals),
// and rewardReferral, the function the purchase path calls, driven directly: both rewards, once,
// also under concurrent calls, with the ledger verifying clean.
import t, { type Test } from 'tap'
import { newId } from '../../../src/shared/ids.js'
import { findProgram } from '../../../src/modules/programs/repository.js'
import { readRules } from '../../../src/modules/programs/rules.js'
import type { ProgramRow } from '../../../src/modules/programs/tables.js'
import { rewardReferral } from '../../../src/modules/referrals/service.js'
import { startTestApp, uniqueVnMobile, type ProgramFixture } from '../../helpers/app.js'
import { Till, VND_RULES } from '../../helpers/pos.js'

const ctx = await startTestApp(t)
const REFERRAL = { referrerPoints: 500, refereePoints: 200 }
const fixture = await ctx.createProgram({ rules: { ...VND_RULES, referral: REFERRAL, pointsExpiry: { afterDays: 365, roundUpTo: 'month' } } })
const till = new Till(ctx, fixture.token)

const enrol = (p: ProgramFixture, body: Record<string, unknown> = {}) => ctx.call(p.token, 'POST', '/v1/members', { name: 'Lê Thị Hoa', phone: uniqueVnMobile(), ...body })
const member = async (p: ProgramFixture, id: string) => (await ctx.call(p.token, 'GET', `/v1/members/${id}`)).json()
const nameReferrer = (p: ProgramFixture, id: string, referralCode: string) => ctx.call(p.token, 'POST', `/v1/members/${id}/referrer`, { referralCode })
const pointsOf = async (p: ProgramFixture, id: string) => (await ctx.call(p.token, 'GET', `/v1/members/${id}/balances`)).json().points.balance as number
async function assertLedgerClean(t: Test, p: ProgramFixture) {
  const report = (await ctx.call(p.token, 'GET', '/v1/ledger/verify')).json()
  t.ok(report.ok, `ledger verify clean: ${JSON.stringify(report.discrepancies)}`)
}
const programRow = async (p: ProgramFixture) => (await findProgram(ctx.database.db, p.id)) as ProgramRow
const reward = async (p: ProgramFixture, refereeId: string, purchaseId = newId(), at = new Date()) => {
  const program = await programRow(p)
  return ctx.database.pipelined((r) => rewardReferral(r, program, readRules(program.rules), { refereeId, purchaseId, at }))
}

t.test('every member has a referral code; a new member may enrol with someone’s', async (t) => {
  const referrer = (await enrol(fixture)).json()
  t.match(referrer.referralCode, /^[0-9A-HJKMNP-TV-Z]{10}$/, '10 Crockford base32 characters')
  t.equal(referrer.referredBy, null)
  const referred = await enrol(fixture, { referralCode: ` ${referrer.referralCode.toLowerCase()} ` })
  t.equal(referred.statusCode, 201, referred.body)
  t.equal(referred.json().referredBy, referrer.id, 'the code is matched case-insensitively')
  t.not(referred.json().referralCode, referrer.referralCode, 'each member has their own code')
  t.match(await member(fixture, referred.json().id), { referredBy: referrer.id, referralCode: referred.json().referralCode }, 'shown on the member')

  const codes = new Set<string>()
  for (let i = 0; i < 30; i++) codes.add((await enrol(fixture)).json().referralCode)
  t.equal(codes.size, 30, 'codes differ')
})

t.test('enrolling with an unknown or erased member’s code is refused and enrols nobody', async (t) => {
  const phone = uniqueVnMobile()
  const res = await enrol(fixture, { phone, referralCode: 'NOSUCHCODE' })
  t.equal(res.statusCode, 422)
  t.equal(res.json().code, 'REFERRAL_CODE_NOT_FOUND')
  t.equal((await ctx.call(fixture.token, 'GET', `/v1/members?phone=${phone}`)).json().data.length, 0, 'no member was created')

  const erased = (await enrol(fixture)).json()
  await ctx.call(fixture.token, 'DELETE', `/v1/members/${erased.id}`)
  t.equal((await enrol(fixture, { referralCode: erased.referralCode })).json().code, 'REFERRAL_CODE_NOT_FOUND', 'an erased member refers nobody')
  const after = await member(fixture, erased.id)
  t.match(after.referralCode, /^[0-9A-HJKMNP-TV-Z]{10}$/)
  t.not(after.referralCode, erased.referralCode, 'erasure replaces the code the member shared')
  t.equal((await enrol(fixture, { referralCode: after.referralCode })).json().code, 'REFERRAL_CODE_NOT_FOUND', 'nor the new one')

  const other = await ctx.createProgram()
  const elsewhere = (await enrol(other)).json()
  t.equal((await enrol(fixture, { referralCode: elsewhere.referralCode })).json().code, 'REFERRAL_CODE_NOT_FOUND', 'codes are per program')
})

t.test('naming a referrer later, and what is refused', async (t) => {
  const a = (await enrol(fixture)).json()
  const b = (await enrol(fixture)).json()
  const c = (await enrol(fixture)).json()
  const d = (await enrol(fixture)).json()

  const named = await nameReferrer(fixture, b.id, a.referralCode)
  t.equal(named.statusCode, 200, named.body)
  t.same(named.json(), { memberId: b.id, referredBy: a.id })
  t.equal((await member(fixture, b.id)).referredBy, a.id)
  t.equal((await nameReferrer(fixture, b.id, a.referralCode.toLowerCase())).statusCode, 200, 'naming the same referrer again answers the same (a retry)')

  const again = await nameReferrer(fixture, b.id, d.referralCode)
  t.equal(again.statusCode, 409)
  t.equal(again.json().code, 'ALREADY_REFERRED')
  t.equal((await member(fixture, b.id)).referredBy, a.id, 'the first referrer stays')

  const self = await nameReferrer(fixture, c.id, c.referralCode)
  t.equal(self.statusCode, 422)
  t.equal(self.json().code, 'SELF_REFERRAL')

  const direct = await nameReferrer(fixture, a.id, b.referralCode)
  t.equal(direct.statusCode, 422, 'a was the referrer of b: b cannot refer a')
  t.equal(direct.json().code, 'REFERRAL_LOOP')

  t.equal((await nameReferrer(fixture, c.id, b.referralCode)).statusCode, 200, 'c referred by b (a -> b -> c)')
  const chain = await nameReferrer(fixture, a.id, c.referralCode)
  t.equal(chain.statusCode, 422, 'nor c, referred by b, referred by a')
  t.equal(chain.json().code, 'REFERRAL_LOOP')
  t.equal((await member(fixture, a.id)).referredBy, null, 'a is still not referred')
  t.equal((await nameReferrer(fixture, a.id, d.referralCode)).statusCode, 200, 'an unrelated referrer is fine')

  const unknown = await nameReferrer(fixture, d.id, 'NOSUCHCODE')
  t.equal(unknown.statusCode, 422)
  t.equal(unknown.json().code, 'REFERRAL_CODE_NOT_FOUND')
  t.equal((await nameReferrer(fixture, newId(), a.referralCode)).statusCode, 404, 'unknown member')
})

t.test('a member who has purchased is too late to name a referrer', async (t) => {
  const referrer = (await enrol(fixture)).json()
  const buyer = (await enrol(fixture)).json()
  const sale = await till.purchase(buyer.id, [{ sku: 'A', quantity: 1, unitPrice: '50000' }], [{ type: 'cash', amount: '50000' }])
  t.equal(sale.statusCode, 201, sale.body)
  const late = await nameReferrer(fixture, buyer.id, referrer.referralCode)
  t.equal(late.statusCode, 409)
  t.equal(late.json().code, 'REFERRAL_TOO_LATE')
  t.equal((await member(fixture, buyer.id)).referredBy, null)

  const held = (await enrol(fixture)).json()
  await till.topUp(held.id, '100000')
  const pending = await till.purchase(held.id, [{ sku: 'A', quantity: 1, unitPrice: '50000' }], [{ type: 'storedValue', amount: '50000' }], { capture: false })
  t.equal(pending.statusCode, 201, pending.body)
  t.equal((await nameReferrer(fixture, held.id, referrer.referralCode)).json().code, 'REFERRAL_TOO_LATE', 'a held purchase counts')
  t.equal((await ctx.call(fixture.token, 'POST', `/v1/purchases/${pending.json().id}/void`, {}, { 'idempotency-key': newId() })).statusCode, 200)
  t.equal((await nameReferrer(fixture, held.id, referrer.referralCode)).statusCode, 200, 'a voided one does not')
})

t.test('scopes: members:write and pos may name a referrer, members:read may not', async (t) => {
  const a = (await enrol(fixture)).json()
  const b = (await enrol(fixture)).json()
  const reader = await ctx.createClient(fixture.id, ['members:read'])
  t.equal((await ctx.call(reader.token, 'POST', `/v1/members/${b.id}/referrer`, { referralCode: a.referralCode })).statusCode, 403)
  const writer = await ctx.createClient(fixture.id, ['members:write'])
  t.equal((await ctx.call(writer.token, 'POST', `/v1/members/${b.id}/referrer`, { referralCode: a.referralCode })).statusCode, 200)
})

t.test('rewardReferral: both members credited once, in one bonus entry', async (t) => {
  const referrer = (await enrol(fixture)).json()
  const referee = (await enrol(fixture, { referralCode: referrer.referralCode })).json()
  const at = new Date()
  const purchaseId = newId()
  const first = await reward(fixture, referee.id, purchaseId, at)
  t.same(first, { referrerId: referrer.id, refereePoints: 200n, referrerPoints: 500n })
  t.equal(await pointsOf(fixture, referee.id), 200)
  t.equal(await pointsOf(fixture, referrer.id), 500)
  t.equal(await reward(fixture, referee.id), null, 'a second call gives nothing')
  t.equal(await pointsOf(fixture, referrer.id), 500)

  const activity = (await ctx.call(fixture.token, 'GET', `/v1/members/${referrer.id}/activity`)).json().data
  t.match(activity, [{ kind: 'bonus', reason: 'referral', reference: { type: 'referral', id: referee.id }, points: 500 }])
  const refereeActivity = (await ctx.call(fixture.token, 'GET', `/v1/members/${referee.id}/activity`)).json().data
  t.equal(refereeActivity[0].entryId, activity[0].entryId, 'one entry credits both')

  const [row] = await ctx.database.pipelined((p) =>
    p.run<{ purchase_id: string; entry_id: string; n: string }>(
      `select r.purchase_id, r.entry_id, (select count(*) from points_lots l where l.program_id = r.program_id and l.source_entry_id = r.entry_id and l.expires_at is not null) as n
         from referral_rewards r where r.program_id = $1::uuid and r.referee_id = $2::uuid`,
      [fixture.id, referee.id],
    ),
  )
  t.same(row, { purchase_id: purchaseId, entry_id: activity[0].entryId, n: '2' }, 'recorded with the purchase; both points lots expire by the program rule')
  await assertLedgerClean(t, fixture)
})

t.test('rewardReferral under concurrent first purchases: rewarded once', async (t) => {
  const referrer = (await enrol(fixture)).json()
  const referee = (await enrol(fixture, { referralCode: referrer.referralCode })).json()
  const results = await Promise.all(Array.from({ length: 10 }, () => reward(fixture, referee.id)))
  t.equal(results.filter((r) => r !== null).length, 1, 'one call rewarded')
  t.equal(await pointsOf(fixture, referee.id), 200)
  t.equal(await pointsOf(fixture, referrer.id), 500)
  await assertLedgerClean(t, fixture)
})

t.test('rewardReferral gives nothing when there is nothing to reward', async (t) => {
  const lone = (await enrol(fixture)).json()
  t.equal(await reward(fixture, lone.id), null, 'a member nobody referred')

  const referrer = (await enrol(fixture)).json()
  const referee = (await enrol(fixture, { referralCode: referrer.referralCode })).json()
  const sale = await till.purchase(referee.id, [{ sku: 'A', quantity: 1, unitPrice: '50000' }], [{ type: 'cash', amount: '50000' }])
  t.equal(sale.statusCode, 201)
  t.equal(await pointsOf(fixture, referee.id), 200 + 5, 'the first purchase itself rewarded the referee (200) on top of its 5 points')
  t.equal(await pointsOf(fixture, referrer.id), 500, 'and the referrer')
  t.equal(await reward(fixture, referee.id), null, 'a later call: nothing more')
  t.equal(await reward(fixture, referee.id, sale.json().id), null, 'not even for that same purchase: rewarded once')

  const plain = await ctx.createProgram({ rules: VND_RULES })
  const r2 = (await enrol(plain)).json()
  const e2 = (await enrol(plain, { referralCode: r2.referralCode })).json()
  t.equal(await reward(plain, e2.id), null, 'a program without referral rules')
  t.equal(await pointsOf(plain, r2.id), 0)
})

t.test('rewardReferral: zero legs are skipped; an erased referrer gets nothing', async (t) => {
  const onlyReferee = await ctx.createProgram({ rules: { ...VND_RULES, referral: { referrerPoints: 0, refereePoints: 300 } } })
  const r = (await enrol(onlyReferee)).json()
  const e = (await enrol(onlyReferee, { referralCode: r.referralCode })).json()
  t.same(await reward(onlyReferee, e.id), { referrerId: r.id, refereePoints: 300n, referrerPoints: 0n })
  t.equal(await pointsOf(onlyReferee, e.id), 300)
  t.equal((await ctx.call(onlyReferee.token, 'GET', `/v1/members/${r.id}/activity`)).json().data.length, 0, 'no posting for the referrer')

  const nothing = await ctx.createProgram({ rules: { ...VND_RULES, referral: { referrerPoints: 0, refereePoints: 0 } } })
  const r0 = (await enrol(nothing)).json()
  const e0 = (await enrol(nothing, { referralCode: r0.referralCode })).json()
  t.same(await reward(nothing, e0.id), { referrerId: r0.id, refereePoints: 0n, referrerPoints: 0n }, 'recorded, with no entry')
  t.equal(await reward(nothing, e0.id), null, 'and only once')

  const referrer = (await enrol(fixture)).json()
  const referee = (await enrol(fixture, { referralCode: referrer.referralCode })).json()
  await ctx.call(fixture.token, 'DELETE', `/v1/members/${referrer.id}`)
  t.same(await reward(fixture, referee.id), { referrerId: referrer.id, refereePoints: 200n, referrerPoints: 0n })
  t.equal(await pointsOf(fixture, referrer.id), 0)
  t.equal(await pointsOf(fixture, referee.id), 200)
  await assertLedgerClean(t, onlyReferee)
  await assertLedgerClean(t, fixture)
})
