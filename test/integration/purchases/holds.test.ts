import t from 'tap'
import { startTestApp } from '../../helpers/app.js'
import { idemKey, Till, VND_RULES } from '../../helpers/pos.js'
import { voidExpiredHolds } from '../../../src/modules/jobs/void-expired-holds.js'

const ctx = await startTestApp(t)
const program = await ctx.createProgram({ rules: { ...VND_RULES, holdMinutes: 30 } })
const till = new Till(ctx, program.token)

t.afterEach(async () => {
  const report = await till.verify()
  if (!report.ok) throw new Error(`ledger verify failed: ${JSON.stringify(report.discrepancies)}`)
})

const capture = (id: string, body?: Record<string, unknown>, key = idemKey('c')) => ctx.call(program.token, 'POST', `/v1/purchases/${id}/capture`, body, { 'idempotency-key': key })
const voidIt = (id: string, key = idemKey('v')) => ctx.call(program.token, 'POST', `/v1/purchases/${id}/void`, { reason: 'customer cancelled' }, { 'idempotency-key': key })

async function funded() {
  const m = await ctx.enrol(program.token)
  await till.topUp(m.id, '300000')
  await till.grantPoints(m.id, 1000)
  return m
}

/** 400,000: 200,000 stored value + 500 points (50,000) + 150,000 card. */
const order = (memberId: string) =>
  till.purchase(
    memberId,
    [
      { sku: 'A', quantity: 1, unitPrice: '300000' },
      { sku: 'B', quantity: 1, unitPrice: '100000' },
    ],
    [
      { type: 'storedValue', amount: '200000' },
      { type: 'points', points: 500 },
      { type: 'card', amount: '150000' },
    ],
    { capture: false },
  )

t.test('capture: false holds points and stored value, earns nothing, and is pending', async (t) => {
  const m = await funded()
  const res = await order(m.id)
  t.equal(res.statusCode, 201)
  const p = res.json()
  t.match(p, { status: 'pending', pointsEarned: 0, entryId: null })
  t.ok(p.holdExpiresAt)
  t.same(p.balances.points, { balance: 1000, available: 500, pending: 500 })
  t.same(p.balances.storedValue, { currency: 'VND', balance: '300000', available: '100000', pending: '200000' })
  const spend = await till.purchase(m.id, [{ sku: 'X', quantity: 1, unitPrice: '150000' }], [{ type: 'storedValue', amount: '150000' }])
  t.equal(spend.json().code, 'INSUFFICIENT_FUNDS', 'held value cannot be spent twice')
})

t.test('a full capture moves the held amounts and earns on the money part', async (t) => {
  const m = await funded()
  const p = (await order(m.id)).json()
  const res = await capture(p.id)
  t.equal(res.statusCode, 200)
  const c = res.json()
  // money paid 400,000 - 50,000 = 350,000 -> 35 points
  t.match(c, { status: 'completed', total: '400000', pointsEarned: 35, pointsRedeemed: 500, storedValueUsed: '200000', holdExpiresAt: null })
  t.same(c.balances.points, { balance: 535, available: 535, pending: 0 })
  t.same(c.balances.storedValue, { currency: 'VND', balance: '100000', available: '100000', pending: '0' })
  const twice = await capture(p.id)
  t.equal(twice.statusCode, 409)
  t.equal(twice.json().code, 'PURCHASE_NOT_PENDING')
})

t.test('a smaller capture releases the rest in proportion and earns on what was captured', async (t) => {
  const m = await funded()
  const p = (await order(m.id)).json()
  const res = await capture(p.id, { amount: '300000' })
  t.equal(res.statusCode, 200)
  const c = res.json()
  // release 100,000 of 400,000: a quarter of each tender (50,000 SV, 125 points, 37,500 card)
  t.same(c.tenders, [
    { type: 'storedValue', amount: '150000' },
    { type: 'points', amount: '37500', points: 375 },
    { type: 'card', amount: '112500' },
  ])
  t.equal(c.total, '300000')
  t.equal(c.pointsEarned, 26, '262,500 paid with money -> 26 points')
  t.same(c.balances.points, { balance: 1000 - 375 + 26, available: 651, pending: 0 })
  t.equal(c.balances.storedValue.balance, '150000')
  const over = await capture((await order((await funded()).id)).json().id, { amount: '400001' })
  t.equal(over.json().code, 'CAPTURE_EXCEEDS_AUTHORISED')
})

t.test('void releases every hold; a voided purchase cannot be captured', async (t) => {
  const m = await funded()
  const p = (await order(m.id)).json()
  const res = await voidIt(p.id)
  t.equal(res.statusCode, 200)
  t.equal(res.json().status, 'voided')
  t.same(res.json().balances.points, { balance: 1000, available: 1000, pending: 0 })
  t.equal((await capture(p.id)).json().code, 'PURCHASE_NOT_PENDING')
  t.equal((await voidIt(p.id)).json().code, 'PURCHASE_NOT_PENDING')
})

t.test('pending purchases past their deadline are voided by the job, once, even if it runs twice', async (t) => {
  const own = await ctx.createProgram({ rules: { ...VND_RULES, holdMinutes: 30 } })
  const ownTill = new Till(ctx, own.token)
  const m = await ctx.enrol(own.token)
  await ownTill.grantPoints(m.id, 1000)
  const p = (await ownTill.purchase(m.id, [{ sku: 'A', quantity: 1, unitPrice: '50000' }], [{ type: 'points', points: 500 }], { capture: false })).json()
  t.same((await ownTill.balances(m.id)).points, { balance: 1000, available: 500, pending: 500 })
  const early = await voidExpiredHolds(ctx.database, new Date(Date.now() + 29 * 60_000), own.id)
  t.equal(early.voided, 0, 'not before the deadline')
  const later = new Date(Date.now() + 31 * 60_000)
  t.same(await voidExpiredHolds(ctx.database, later, own.id), { voided: 1 })
  t.same(await voidExpiredHolds(ctx.database, later, own.id), { voided: 0 }, 'a second run finds nothing')
  const after = (await ctx.call(own.token, 'GET', `/v1/purchases/${p.id}`)).json()
  t.equal(after.status, 'voided')
  t.match(after.warnings, [{ code: 'HOLD_EXPIRED' }])
  t.same((await ownTill.balances(m.id)).points, { balance: 1000, available: 1000, pending: 0 })
  t.equal((await ownTill.verify()).ok, true)
})

t.test('concurrent capture and void: exactly one happens', async (t) => {
  const m = await funded()
  const p = (await order(m.id)).json()
  const [a, b] = await Promise.all([capture(p.id), voidIt(p.id)])
  const codes = [a.statusCode, b.statusCode].sort()
  t.same(codes, [200, 409])
  const final = (await ctx.call(program.token, 'GET', `/v1/purchases/${p.id}`)).json()
  const balances = await till.balances(m.id)
  if (final.status === 'completed') t.equal(balances.points.balance, 535)
  else t.equal(balances.points.balance, 1000)
  t.equal(balances.points.pending, 0)
})
