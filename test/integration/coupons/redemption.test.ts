// Coupons redeemed and released as a sale's plan does it, without the rest of the sale: what
// resolveCoupons refuses, the limits the redeem steps enforce (also under concurrent
// redemptions: on PostgreSQL they really run at once), and the release steps giving them back.
// The plans go through the one executor (database.apply), their refusals through couponLimitRefusal.
import t from 'tap'
import { sql } from 'drizzle-orm'
import { appliedFresh } from '../../../src/db/apply.js'
import { queryRows } from '../../../src/db/client.js'
import { newId } from '../../../src/shared/ids.js'
import { pgErrorOf } from '../../../src/shared/errors.js'
import { findProgram } from '../../../src/modules/programs/repository.js'
import type { ProgramRow } from '../../../src/modules/programs/tables.js'
import { issueCodes, resolveCoupons, type ResolvedCoupon } from '../../../src/modules/coupons/service.js'
import { couponLimitRefusal, couponRedeemSteps, loadSaleCoupons } from '../../../src/modules/coupons/redeem-plan.js'
import { couponReleaseSteps, loadActiveRedemptions } from '../../../src/modules/coupons/release-plan.js'
import { checkedCodes, resolvedCoupons } from '../../../src/modules/coupons/resolve.js'
import { startTestApp } from '../../helpers/app.js'
import { idemKey } from '../../helpers/pos.js'

const ctx = await startTestApp(t)
const fixture = await ctx.createProgram()
const program = (await findProgram(ctx.database.db, fixture.id)) as ProgramRow
const database = ctx.database

async function campaign(body: Record<string, unknown>) {
  const res = await ctx.call(fixture.token, 'POST', '/v1/coupons/campaigns', { name: 'c', kind: 'fixed', value: '10000', codeMode: 'unique', ...body }, { 'idempotency-key': idemKey() })
  if (res.statusCode !== 201) throw new Error(res.body)
  return res.json() as { id: string; sharedCode: string | null }
}
const campaignNow = async (id: string) => (await ctx.call(fixture.token, 'GET', `/v1/coupons/campaigns/${id}`)).json()
const codes = async (campaignId: string, count: number, memberId?: string) =>
  (await ctx.call(fixture.token, 'POST', `/v1/coupons/campaigns/${campaignId}/codes`, { count, ...(memberId ? { memberId } : {}) }, { 'idempotency-key': idemKey() })).json().codes as string[]
const lookup = async (code: string, memberId?: string) => (await ctx.call(fixture.token, 'GET', `/v1/coupons/${code}${memberId ? `?memberId=${memberId}` : ''}`)).json()

const resolve = (memberId: string, list: string[], at = new Date()) => database.transaction((p) => resolveCoupons(p, program, { memberId, codes: list, at }))
/** Error code of a rejected promise, or 'ok'. */
const outcome = (p: Promise<unknown>) =>
  p.then(
    () => 'ok',
    (err: { code?: string }) => err.code ?? pgErrorOf(err).code ?? String(err),
  )

/** Loads the codes as a sale does and redeems `discount` per code as one plan. */
async function redeemOnce(memberId: string, list: string[], discount: bigint, purchaseId: string, meanwhile?: () => Promise<unknown>) {
  const codes = checkedCodes(list)
  const loaded = await loadSaleCoupons(database.db, program.id, memberId, codes, new Date())
  const redemptions = resolvedCoupons(codes, loaded.rows, memberId).map((coupon) => ({ coupon, discount }))
  await meanwhile?.()
  try {
    await database.apply({ program: program.id, rows: couponRedeemSteps(program.id, { purchaseId, memberId, now: new Date() }, redemptions) })
  } catch (err) {
    throw couponLimitRefusal(pgErrorOf(err).constraint, redemptions, loaded.limits) ?? err
  }
}
/** One purchase's redemption, loaded again while its plan finds the database changed (as a sale is). */
async function redeem(memberId: string, list: string[], discount: bigint, purchaseId = newId()) {
  await appliedFresh(() => redeemOnce(memberId, list, discount, purchaseId))
  return purchaseId
}
/** Releases the purchase's active redemptions as a void or full return does; how many it released. */
const release = (purchaseId: string) =>
  appliedFresh(async () => {
    const active = await loadActiveRedemptions(database.db, program.id, purchaseId)
    if (active.length > 0) await database.apply({ program: program.id, rows: couponReleaseSteps(active, new Date()) })
    return active.length
  })
const redemptionRows = (purchaseId: string) =>
  database.transaction((p) => queryRows<{ status: string; discount: string; released_at: unknown }>(p, sql`select status, discount, released_at from coupon_redemptions where program_id = ${program.id}::uuid and purchase_id = ${purchaseId}::uuid`))

const member = await ctx.enrol(fixture.token)
const other = await ctx.enrol(fixture.token)

t.test('resolve: the coupons with their campaign terms, in the order given, whatever the case typed', async (t) => {
  const pct = await campaign({ kind: 'percent', value: '12.5', minSpend: '100000', maxUsesPerMember: 3, codeMode: 'shared', sharedCode: 'RESOLVE1' })
  const fix = await campaign({ value: '20000' })
  const [code] = await codes(fix.id, 1)
  const resolved = await resolve(member.id, [code!.toLowerCase(), ' resolve1 '])
  t.same(resolved, [
    { code: code!, campaignId: fix.id, campaignName: 'c', kind: 'fixed', percentOff: null, amountOff: 20000n, minSpend: 0n, maxUsesPerMember: null, assignedTo: null },
    { code: 'RESOLVE1', campaignId: pct.id, campaignName: 'c', kind: 'percent', percentOff: '12.5', amountOff: null, minSpend: 100000n, maxUsesPerMember: 3, assignedTo: null },
  ] satisfies ResolvedCoupon[])
  t.same(await resolve(member.id, []), [], 'no codes, nothing to read')
})

t.test('resolve refuses unknown, inactive, someone else’s and repeated coupons (422, stable codes)', async (t) => {
  const window = await campaign({ codeMode: 'shared', sharedCode: 'WINDOW', validFrom: '2030-01-01T00:00:00Z', validTo: '2030-02-01T00:00:00Z' })
  const archived = await campaign({ codeMode: 'shared', sharedCode: 'ARCHIVED' })
  await ctx.call(fixture.token, 'POST', `/v1/coupons/campaigns/${archived.id}/archive`)
  const unique = await campaign({})
  const [a, b] = await codes(unique.id, 2)
  const [mine] = await codes(unique.id, 1, member.id)

  const refusal = async (memberId: string, list: string[], at?: Date) => resolve(memberId, list, at).then(() => ({ status: 0, code: 'ok' }), (e: { status: number; code: string; extensions: object }) => e)
  t.match(await refusal(member.id, ['NOPE123']), { status: 422, code: 'COUPON_NOT_FOUND', extensions: { couponCode: 'NOPE123' } })
  t.match(await refusal(member.id, ['ARCHIVED']), { status: 422, code: 'COUPON_NOT_ACTIVE', extensions: { reason: 'archived' } })
  t.match(await refusal(member.id, ['WINDOW'], new Date('2029-12-31T23:59:59Z')), { code: 'COUPON_NOT_ACTIVE', extensions: { reason: 'not_started' } })
  t.match(await refusal(member.id, ['WINDOW'], new Date('2030-02-01T00:00:00Z')), { code: 'COUPON_NOT_ACTIVE', extensions: { reason: 'expired' } }, 'validTo is exclusive')
  t.match(await refusal(member.id, ['WINDOW'], new Date('2030-01-01T00:00:00Z')), { code: 'ok' }, 'validFrom is inclusive')
  t.match(await refusal(other.id, [mine!]), { status: 422, code: 'COUPON_NOT_FOR_MEMBER' })
  t.match(await refusal(member.id, [mine!]), { code: 'ok' }, 'the member it was issued to may use it')
  t.match(await refusal(member.id, [a!, a!.toLowerCase()]), { status: 422, code: 'COUPON_DUPLICATE' }, 'the same code twice')
  t.match(await refusal(member.id, [a!, b!]), { status: 422, code: 'COUPON_DUPLICATE', extensions: { couponCode: b } }, 'two codes of one campaign')
  t.match(await refusal(member.id, ['A1', 'A2', 'A3', 'A4', 'A5', 'A6']), { status: 400, code: 'VALIDATION_FAILED' }, 'at most 5 codes')
})

t.test('a code used as often as allowed: 409 COUPON_USED_UP, and the refused purchase leaves nothing', async (t) => {
  const c = await campaign({ maxUsesPerCode: 1 })
  const [code] = await codes(c.id, 1)
  const first = await redeem(member.id, [code!], 10_000n)
  const second = newId()
  t.equal(await outcome(redeem(other.id, [code!], 10_000n, second)), 'COUPON_USED_UP')
  t.match(await campaignNow(c.id), { redemptions: 1, budgetUsed: '10000' }, 'the campaign counted the first only')
  t.same(await redemptionRows(second), [], 'no redemption of the refused purchase')
  t.match(await lookup(code!), { state: 'used_up', usesLeft: 0 })

  t.equal(await release(first), 1, 'a full return releases the redemption')
  t.match(await lookup(code!), { state: 'usable', usesLeft: 1 })
  t.equal(await outcome(redeem(other.id, [code!], 10_000n)), 'ok', 'usable again')
})

t.test('uses per member: a member reaches the limit, others do not', async (t) => {
  const c = await campaign({ codeMode: 'shared', sharedCode: 'TWICE', maxUsesPerMember: 2 })
  t.equal(await outcome(redeem(member.id, ['TWICE'], 10_000n)), 'ok')
  const second = await redeem(member.id, ['TWICE'], 10_000n)
  t.equal(await outcome(redeem(member.id, ['TWICE'], 10_000n)), 'COUPON_MEMBER_LIMIT_REACHED')
  t.match(await lookup('TWICE', member.id), { memberUsesLeft: 0, state: 'member_limit_reached' })
  t.equal(await outcome(redeem(other.id, ['TWICE'], 10_000n)), 'ok', 'another member still may')
  t.match(await campaignNow(c.id), { redemptions: 3, budgetUsed: '30000' })
  await release(second)
  t.match(await lookup('TWICE', member.id), { memberUsesLeft: 1, state: 'usable' }, 'a return gives the member’s use back')
  t.equal(await outcome(redeem(member.id, ['TWICE'], 10_000n)), 'ok')
})

t.test('budget: a redemption that would exceed it is refused; one that fits exactly is not', async (t) => {
  const c = await campaign({ codeMode: 'shared', sharedCode: 'BUDGET25', budget: '25000' })
  t.equal(await outcome(redeem(member.id, ['BUDGET25'], 10_000n)), 'ok')
  t.equal(await outcome(redeem(member.id, ['BUDGET25'], 10_000n)), 'ok')
  t.equal(await outcome(redeem(member.id, ['BUDGET25'], 10_000n)), 'COUPON_BUDGET_EXHAUSTED')
  t.match(await campaignNow(c.id), { budgetUsed: '20000', budgetLeft: '5000', redemptions: 2 })
  t.equal(await outcome(redeem(member.id, ['BUDGET25'], 5_000n)), 'ok', 'the last 5,000 fit')
  t.match(await campaignNow(c.id), { budgetUsed: '25000', budgetLeft: '0', redemptions: 3 })
  t.match(await lookup('BUDGET25'), { state: 'budget_exhausted' })
})

t.test('one refused coupon refuses all coupons of the purchase', async (t) => {
  const open = await campaign({ codeMode: 'shared', sharedCode: 'OPENONE' })
  const full = await campaign({ codeMode: 'shared', sharedCode: 'FULLONE', budget: '5000' })
  const purchaseId = newId()
  t.equal(await outcome(redeem(member.id, ['OPENONE', 'FULLONE'], 10_000n, purchaseId)), 'COUPON_BUDGET_EXHAUSTED')
  t.match(await campaignNow(open.id), { redemptions: 0, budgetUsed: '0' }, 'the other coupon was rolled back with it')
  t.match(await campaignNow(full.id), { redemptions: 0, budgetUsed: '0' })
  t.same(await redemptionRows(purchaseId), [])
})

t.test('a campaign archived between load and apply makes the plan stale; loaded again, it is refused', async (t) => {
  const c = await campaign({ codeMode: 'shared', sharedCode: 'RACEARCH' })
  const archive = () => ctx.call(fixture.token, 'POST', `/v1/coupons/campaigns/${c.id}/archive`)
  t.equal(await outcome(redeemOnce(member.id, ['RACEARCH'], 1n, newId(), archive)), 'LL300', 'the redeem step expects the campaign still active')
  t.equal(await outcome(redeem(member.id, ['RACEARCH'], 1n)), 'COUPON_NOT_ACTIVE')
  t.match(await campaignNow(c.id), { status: 'archived', redemptions: 0, budgetUsed: '0' })
})

t.test('concurrent redemptions: 20 purchases against a budget for 7, exactly 7 succeed', async (t) => {
  const c = await campaign({ codeMode: 'shared', sharedCode: 'SEVEN', budget: '70000' })
  const buyers = await Promise.all(Array.from({ length: 20 }, () => ctx.enrol(fixture.token)))
  const outcomes = await Promise.all(buyers.map((b) => outcome(redeem(b.id, ['SEVEN'], 10_000n))))
  t.equal(outcomes.filter((o) => o === 'ok').length, 7, outcomes.join(','))
  t.equal(outcomes.filter((o) => o === 'COUPON_BUDGET_EXHAUSTED').length, 13, 'the others see the budget exhausted, nothing else')
  t.match(await campaignNow(c.id), { budgetUsed: '70000', budgetLeft: '0', redemptions: 7 })
  const [rows] = await database.transaction((p) =>
    queryRows<{ n: string; total: string }>(p, sql`select count(*) as n, sum(discount) as total from coupon_redemptions where program_id = ${program.id}::uuid and campaign_id = ${c.id}::uuid and status = 'active'`),
  )
  t.same(rows, { n: '7', total: '70000' }, 'the redemptions agree with the counters')
})

t.test('concurrent redemptions of one code and by one member hold their limits', async (t) => {
  const c = await campaign({ maxUsesPerCode: 3 })
  const [code] = await codes(c.id, 1)
  const buyers = await Promise.all(Array.from({ length: 12 }, () => ctx.enrol(fixture.token)))
  const perCode = await Promise.all(buyers.map((b) => outcome(redeem(b.id, [code!], 1_000n))))
  t.equal(perCode.filter((o) => o === 'ok').length, 3, perCode.join(','))
  t.equal(perCode.filter((o) => o === 'COUPON_USED_UP').length, 9)

  await campaign({ codeMode: 'shared', sharedCode: 'TWOEACH', maxUsesPerMember: 2 })
  const buyer = await ctx.enrol(fixture.token)
  const perMember = await Promise.all(Array.from({ length: 10 }, () => outcome(redeem(buyer.id, ['TWOEACH'], 1_000n))))
  t.equal(perMember.filter((o) => o === 'ok').length, 2, perMember.join(','))
  t.equal(perMember.filter((o) => o === 'COUPON_MEMBER_LIMIT_REACHED').length, 8)
})

t.test('concurrent purchases with the same two coupons typed in opposite orders do not deadlock', async (t) => {
  await campaign({ codeMode: 'shared', sharedCode: 'PAIRA' })
  await campaign({ codeMode: 'shared', sharedCode: 'PAIRB' })
  const buyers = await Promise.all(Array.from({ length: 16 }, () => ctx.enrol(fixture.token)))
  const outcomes = await Promise.all(buyers.map((b, i) => outcome(redeem(b.id, i % 2 ? ['PAIRA', 'PAIRB'] : ['PAIRB', 'PAIRA'], 100n))))
  t.same(new Set(outcomes), new Set(['ok']), outcomes.join(','))
})

t.test('release is idempotent, also when two run at once', async (t) => {
  const c = await campaign({ codeMode: 'shared', sharedCode: 'RELEASE2', budget: '100000', maxUsesPerCode: 10, maxUsesPerMember: 5 })
  const purchaseId = await redeem(member.id, ['RELEASE2'], 30_000n)
  t.match(await campaignNow(c.id), { budgetUsed: '30000', redemptions: 1 })
  const released = await Promise.all([release(purchaseId), release(purchaseId)])
  t.same(released.sort(), [0, 1], 'one release did the work, the other found nothing')
  t.equal(await release(purchaseId), 0, 'a later release finds nothing')
  t.match(await campaignNow(c.id), { budgetUsed: '0', redemptions: 0 })
  t.match(await lookup('RELEASE2', member.id), { usesLeft: 10, memberUsesLeft: 5 })
  t.match(await redemptionRows(purchaseId), [{ status: 'released', discount: '30000' }])
  t.not((await redemptionRows(purchaseId))[0]!.released_at, null)
  t.equal(await release(newId()), 0, 'a purchase without coupons releases nothing')
})

t.test('a code issued to one member: only that member can use it', async (t) => {
  const birthday = await campaign({ kind: 'percent', value: '20', maxUsesPerCode: 1 })
  const code = await database.transaction((p) => issueCodes(p, program.id, birthday.id, { count: 1, memberId: member.id, reason: 'birthday 2026', actor: 'job:birthday-rewards' }).then(([c]) => c!))
  t.match(code, /^[0-9A-HJKMNP-TV-Z]{10}$/)
  t.match(await lookup(code, member.id), { memberId: member.id, usesLeft: 1, state: 'usable' })
  t.match((await ctx.call(fixture.token, 'GET', `/v1/coupons/campaigns/${birthday.id}/codes`)).json().data, [{ code, memberId: member.id, reason: 'birthday 2026' }])
  t.equal(await outcome(resolve(other.id, [code])), 'COUPON_NOT_FOR_MEMBER')
  t.equal(await outcome(redeem(member.id, [code], 5_000n)), 'ok')

  const shared = await campaign({ codeMode: 'shared', sharedCode: 'NOTISSUABLE' })
  t.equal(await outcome(database.transaction((p) => issueCodes(p, program.id, shared.id, { count: 1, memberId: member.id, reason: 'x', actor: 'system' }))), 'CAMPAIGN_SHARED_CODE')
  t.equal(await outcome(database.transaction((p) => issueCodes(p, program.id, newId(), { count: 1, memberId: member.id, reason: 'x', actor: 'system' }))), 'CAMPAIGN_NOT_FOUND')
  t.equal(await outcome(database.transaction((p) => issueCodes(p, program.id, birthday.id, { count: 1, memberId: newId(), reason: 'x', actor: 'system' }))), 'MEMBER_NOT_FOUND')
})
