// A pending purchase as the till and finance see it: what a capture (whole or for less) takes from
// each hold and tender, what it earns and posts, and when a void or the hold's deadline ends it.
// The pending purchases are made by the sale's own plan (planPurchase), with their holds placed.
import t from 'tap'
import { planPurchase, readSale } from '../../src/modules/purchases/plan.js'
import { planCapture, planHoldExpiry, planVoid, readCapture, type CapturePlan } from '../../src/modules/purchases/capture-plan.js'
import type { PurchaseCreate } from '../../src/modules/purchases/schemas.js'
import type { StoredHolds, StoredTender } from '../../src/modules/purchases/stored.js'
import type { PurchaseRow } from '../../src/modules/purchases/tables.js'
import { defaultRules, type ProgramRules } from '../../src/modules/programs/rules.js'
import type { ProgramRow } from '../../src/modules/programs/tables.js'
import { memberPoints, memberStoredValue, pointsIssued, pointsRedeemed, storedValueSettlement } from '../../src/modules/ledger/accounts.js'
import { lotExpiry } from '../../src/modules/ledger/lots.js'
import { transfer } from '../../src/modules/ledger/planner.js'

const posted = new Date('2026-12-01T10:00:00Z')
const now = new Date('2026-12-01T10:20:00Z')
const memberId = '00000000-0000-4000-8000-0000000000aa'
const programOf = (currency: string, timezone: string): ProgramRow => ({
  id: '00000000-0000-4000-8000-000000000001',
  name: 'P',
  currency,
  timezone,
  country: 'VN',
  rules: {},
  rulesEffectiveFrom: new Date('2026-01-01T00:00:00Z'),
  createdAt: posted,
  updatedAt: posted,
})
const vnd = programOf('VND', 'Asia/Ho_Chi_Minh')
const usd = programOf('USD', 'America/New_York')
/** 1 point per 10,000 VND, a point pays 100 VND; holds last 30 minutes; points expire 365 days after they are earned. */
const vndRules = (): ProgramRules => ({
  ...defaultRules(),
  earning: { points: 1, per: '10000', rounding: 'down', excludedCategories: [], categoryMultipliers: {} },
  pointValue: '100',
  holdMinutes: 30,
  pointsExpiry: { afterDays: 365, roundUpTo: 'day', restoredGraceDays: 30 },
})
const usdRules = (): ProgramRules => ({ ...defaultRules(), earning: { points: 1, per: '1', rounding: 'down', excludedCategories: [], categoryMultipliers: {} }, pointValue: '0.01', holdMinutes: 30 })

// Hold ids as placed: the stored-value hold sorts before the points hold.
const SV_HOLD = '00000000-0000-4000-8000-00000000a001'
const POINTS_HOLD = '00000000-0000-4000-8000-00000000b002'
const ENTRY = '00000000-0000-4000-8000-0000000000e2'

/** A pending sale (capture: false) with its holds placed. */
function pending(lines: PurchaseCreate['lines'], tenders: PurchaseCreate['tenders'], program = vnd, rules = vndRules()): PurchaseRow {
  const input: PurchaseCreate = { memberId, storeId: 'S1', terminalId: 'T1', externalId: 'R-1', currency: program.currency, lines, tenders, capture: false }
  const ctx = { now: posted, actor: 'pos', purchaseId: '00000000-0000-4000-8000-0000000000b1', entryId: '00000000-0000-4000-8000-0000000000e1' }
  const plan = planPurchase({ program, rules, rulesEffectiveFrom: program.rulesEffectiveFrom, memberId, tierCode: null, coupons: [] }, readSale(program, { ...input, occurredAt: posted.toISOString() }, posted), input, ctx)
  const holds: StoredHolds = { ...(plan.row.holds as StoredHolds) }
  for (const h of plan.holds) {
    if (h.kind === 'points') holds.points = { holdId: POINTS_HOLD, points: h.amount.toString() }
    else holds.storedValue = { holdId: SV_HOLD, amount: h.amount.toString() }
  }
  return { ...plan.row, holds }
}
const capture = (before: PurchaseRow, amount?: string, program = vnd, rules = vndRules()): CapturePlan =>
  planCapture(before, readCapture(before, amount, program, now), { program, rules }, { now, entryId: ENTRY })
const tenders = (plan: CapturePlan) => (plan.purchase.tenders as StoredTender[]).map((x) => (x.points === undefined ? [x.type, x.amount] : [x.type, x.amount, x.points]))
const refusal = (fn: () => unknown) => {
  try {
    fn()
  } catch (err) {
    const e = err as { status: number; code: string }
    return { status: e.status, code: e.code }
  }
  return undefined
}

/** 400,000 VND: A 300,000 + B 100,000, held as 200,000 stored value + 500 points (50,000), and 150,000 by card. */
const order = () =>
  pending(
    [
      { sku: 'A', name: 'A', quantity: 1, unitPrice: '300000' },
      { sku: 'B', name: 'B', quantity: 1, unitPrice: '100000' },
    ],
    [
      { type: 'storedValue', amount: '200000' },
      { type: 'points', points: 500 },
      { type: 'card', amount: '150000' },
    ],
  )

t.test('a full capture posts every hold whole and earns on the money part', async (t) => {
  const before = order()
  t.equal(before.pointsEarned, 0n, 'a pending sale earns nothing yet')
  const plan = capture(before)
  t.same(plan.holds, [
    { kind: 'storedValue', holdId: SV_HOLD, amount: 200_000n },
    { kind: 'points', holdId: POINTS_HOLD, amount: 500n },
  ], 'in hold-id order')
  t.same(plan.released.map((r) => r.amount), [0n, 0n, 0n], 'nothing released')
  // 400,000 - 50,000 of points = 350,000 paid with money: 35 points.
  t.match(plan.purchase, { status: 'completed', total: 400_000n, moneyPaid: 350_000n, pointsEarned: 35n, pointsRedeemed: 500n, storedValueUsed: 200_000n, holdExpiresAt: null, returnMode: null, entryId: ENTRY, updatedAt: now })
  t.same(tenders(plan), [['storedValue', '200000'], ['points', '50000', '500'], ['card', '150000']])
  t.same(plan.entry?.legs, [
    ...transfer(pointsIssued(), memberPoints(memberId), 35n),
    ...transfer(memberPoints(memberId), pointsRedeemed(), 500n),
    ...transfer(memberStoredValue(memberId, 'VND'), storedValueSettlement('S1', 'VND'), 200_000n),
  ])
  t.match(plan.entry, { id: ENTRY, kind: 'capture', effectiveAt: now, referenceType: 'purchase', referenceId: before.id, storeId: 'S1' })
  t.same(plan.entry?.pointsExpireAt, lotExpiry(vndRules().pointsExpiry, vnd.timezone, now), 'the points earned at capture expire from the capture')
  t.same(capture(before, '400000'), plan, 'the authorised amount sent is the same capture')
})

t.test('a capture for less releases the rest from every tender in proportion and earns on what was captured', async (t) => {
  const plan = capture(order(), '300000')
  // 100,000 of 400,000 released: a quarter of each tender, 50,000 / 12,500 (125 points) / 37,500.
  t.same(plan.released.map((r) => [r.type, r.amount, r.points]), [['storedValue', 50_000n, undefined], ['points', 12_500n, 125n], ['card', 37_500n, undefined]])
  t.same(tenders(plan), [['storedValue', '150000'], ['points', '37500', '375'], ['card', '112500']])
  t.same(plan.holds.map((h) => h.amount), [150_000n, 375n], 'each hold posts what is captured; the rest is released')
  // 300,000 - 37,500 of points = 262,500 of money -> 26.25 -> 26 points.
  t.match(plan.purchase, { total: 300_000n, moneyPaid: 262_500n, pointsEarned: 26n, pointsRedeemed: 375n, storedValueUsed: 150_000n, returnMode: 'amount' })
})

t.test('odd VND amounts: the released part splits by largest remainder and the captured tenders add up to the capture', async (t) => {
  const before = pending([{ sku: 'A', name: 'A', quantity: 1, unitPrice: '100001' }], [{ type: 'storedValue', amount: '50000' }, { type: 'card', amount: '50001' }])
  const plan = capture(before, '33333')
  // 66,668 released: x 50,000 / 100,001 = 33,333.67 and x 50,001 / 100,001 = 33,334.33; the unit left goes to the stored value.
  t.same(plan.released.map((r) => r.amount), [33_334n, 33_334n])
  t.same(tenders(plan), [['storedValue', '16666'], ['card', '16667']])
  t.match(plan.purchase, { total: 33_333n, storedValueUsed: 16_666n, pointsEarned: 3n })
  t.same(plan.holds, [{ kind: 'storedValue', holdId: SV_HOLD, amount: 16_666n }])
})

t.test('paid with points only, a capture for less takes whole points: the captured total is what they are worth', async (t) => {
  const before = pending([{ sku: 'A', name: 'A', quantity: 1, unitPrice: '5000' }], [{ type: 'points', points: 50 }])
  const plan = capture(before, '4950')
  // 50 dong released is half a point and no money tender can take the fraction: one whole point goes back.
  t.same(tenders(plan), [['points', '4900', '49']])
  t.match(plan.purchase, { total: 4_900n, pointsRedeemed: 49n, moneyPaid: 0n, pointsEarned: 0n, returnMode: 'amount' })
  t.same(plan.holds, [{ kind: 'points', holdId: POINTS_HOLD, amount: 49n }])
  t.same(plan.entry?.legs, transfer(memberPoints(memberId), pointsRedeemed(), 49n))
})

t.test('USD: a capture for less splits the cents exactly', async (t) => {
  const before = pending([{ sku: 'A', name: 'A', quantity: 3, unitPrice: '3.33' }], [{ type: 'storedValue', amount: '5.00' }, { type: 'card', amount: '4.99' }], usd, usdRules())
  const plan = capture(before, '3.33', usd, usdRules())
  // 666 cents released over 500 / 499: 333.33 and 332.67, the cent left to the card.
  t.same(plan.released.map((r) => r.amount), [333n, 333n])
  t.same(tenders(plan), [['storedValue', '167'], ['card', '166']])
  t.match(plan.purchase, { total: 333n, storedValueUsed: 167n, pointsEarned: 3n }, '$3.33 of money earns 3')
})

t.test('a pending sale paid by card alone has no holds; one that earns nothing posts no entry', async (t) => {
  const earns = capture(pending([{ sku: 'A', name: 'A', quantity: 1, unitPrice: '100000' }], [{ type: 'card', amount: '100000' }]))
  t.same(earns.holds, [])
  t.same(earns.entry?.legs, transfer(pointsIssued(), memberPoints(memberId), 10n))
  const nothing = capture(pending([{ sku: 'A', name: 'A', quantity: 1, unitPrice: '5000' }], [{ type: 'card', amount: '5000' }]))
  t.equal(nothing.entry, undefined)
  t.match(nothing.purchase, { status: 'completed', entryId: null, pointsEarned: 0n })
})

t.test('capture refusals, as the till gets them', async (t) => {
  const before = order()
  const read = (amount: string | undefined, row = before, at = now, program = vnd) => refusal(() => readCapture(row, amount, program, at))
  t.same(read('0'), { status: 422, code: 'CAPTURE_EXCEEDS_AUTHORISED' }, 'nothing')
  t.same(read('400001'), { status: 422, code: 'CAPTURE_EXCEEDS_AUTHORISED' }, 'a dong more than authorised')
  t.equal(read('400000'), undefined)
  t.same(read('1.5'), { status: 400, code: 'VALIDATION_FAILED' }, 'VND has no decimals')
  t.same(read('abc'), { status: 400, code: 'VALIDATION_FAILED' })
  t.same(read(undefined, { ...before, status: 'completed' }), { status: 409, code: 'PURCHASE_NOT_PENDING' })
  t.same(read(undefined, { ...before, status: 'voided' }), { status: 409, code: 'PURCHASE_NOT_PENDING' })
  const deadline = before.holdExpiresAt!
  t.same(deadline, new Date(posted.getTime() + 30 * 60_000), 'the hold lasts the program’s 30 minutes')
  t.same(read(undefined, before, deadline), { status: 409, code: 'HOLD_EXPIRED' }, 'at the deadline it is over')
  t.equal(read(undefined, before, new Date(deadline.getTime() - 1)), undefined, 'a millisecond before, it captures')
  t.same(read(undefined, { ...before, status: 'completed' }, deadline)?.code, 'PURCHASE_NOT_PENDING', 'a captured purchase is reported as such, not as expired')
  t.same(read('0', before, deadline)?.code, 'HOLD_EXPIRED', 'the deadline before the amount')
})

t.test('a void releases every hold in hold-id order and keeps the reason', async (t) => {
  const before = order()
  const plan = planVoid(before, 'customer cancelled', now)
  t.same(plan.holdIds, [SV_HOLD, POINTS_HOLD])
  t.match(plan, { holdStatus: 'voided', asOf: now, actor: 'purchase:void' })
  t.same(plan.purchase, { status: 'voided', warnings: [{ code: 'VOIDED', message: 'customer cancelled' }], updatedAt: now })
  t.same(planVoid(before, undefined, now).purchase.warnings, [], 'no reason, no warning')
  t.same(refusal(() => planVoid({ ...before, status: 'completed' }, undefined, now)), { status: 409, code: 'PURCHASE_NOT_PENDING' }, 'a completed purchase takes a return instead')
  t.same(refusal(() => planVoid({ ...before, status: 'voided' }, undefined, now)), { status: 409, code: 'PURCHASE_NOT_PENDING' })
})

t.test('the hold deadline: the job voids a pending purchase once its deadline is reached, and nothing else', async (t) => {
  const before = order()
  const deadline = before.holdExpiresAt!
  t.equal(planHoldExpiry(before, new Date(deadline.getTime() - 1), now), undefined, 'not before the deadline')
  const plan = planHoldExpiry(before, deadline, now)
  t.match(plan, { holdIds: [SV_HOLD, POINTS_HOLD], holdStatus: 'expired', asOf: deadline, actor: 'job:void-expired-holds' })
  t.same(plan?.purchase, { status: 'voided', warnings: [{ code: 'HOLD_EXPIRED', message: 'not captured before its deadline' }], updatedAt: now }, 'the row changes when the job runs')
  t.equal(planHoldExpiry({ ...before, status: 'completed' }, deadline, now), undefined, 'captured meanwhile')
  t.equal(planHoldExpiry({ ...before, status: 'voided' }, deadline, now), undefined, 'voided meanwhile')
  t.equal(planHoldExpiry({ ...before, holdExpiresAt: null }, deadline, now), undefined, 'no deadline')
})
