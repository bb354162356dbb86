// A return as the till and finance see it: what each tender gives back, the points clawed back or
// owed, the refusals, the ledger entry and the purchase afterwards. The purchases returned are made
// by the sale's own plan (planPurchase), so their rows are what a real sale stores.
import t from 'tap'
import fc from 'fast-check'
import { planPurchase, readSale } from '../../src/modules/purchases/plan.js'
import { clampReads, clawbackOf, planReturn, readReturn, type ReturnLoaded, type ReturnPlan } from '../../src/modules/purchases/return-plan.js'
import type { PurchaseCreate, ReturnInput } from '../../src/modules/purchases/schemas.js'
import type { StoredTender } from '../../src/modules/purchases/stored.js'
import type { PurchaseRow } from '../../src/modules/purchases/tables.js'
import { defaultRules, type ProgramRules } from '../../src/modules/programs/rules.js'
import type { ProgramRow } from '../../src/modules/programs/tables.js'
import { memberPoints, memberStoredValue, pointsIssued, pointsRedeemed, storedValueSettlement } from '../../src/modules/ledger/accounts.js'
import { transfer } from '../../src/modules/ledger/planner.js'

const now = new Date('2026-12-01T10:00:00Z')
const memberId = '00000000-0000-4000-8000-0000000000aa'
const programOf = (currency: string, timezone: string): ProgramRow => ({
  id: '00000000-0000-4000-8000-000000000001',
  name: 'P',
  currency,
  timezone,
  country: 'VN',
  rules: {},
  rulesEffectiveFrom: new Date('2026-01-01T00:00:00Z'),
  createdAt: now,
  updatedAt: now,
})
const vnd = programOf('VND', 'Asia/Ho_Chi_Minh')
const usd = programOf('USD', 'America/New_York')
/** 1 point per 10,000 VND, a point pays 100 VND. */
const vndRules = (over: Partial<ProgramRules> = {}): ProgramRules => ({
  ...defaultRules(),
  earning: { points: 1, per: '10000', rounding: 'down', excludedCategories: ['tobacco'], categoryMultipliers: {} },
  pointValue: '100',
  ...over,
})
/** 1 point per dollar, a point pays one cent. */
const usdRules = (): ProgramRules => ({ ...defaultRules(), earning: { points: 1, per: '1', rounding: 'down', excludedCategories: [], categoryMultipliers: {} }, pointValue: '0.01' })

type SaleLine = PurchaseCreate['lines'][number]
/** A completed sale, as the purchase's own plan stores it. */
function sale(lines: SaleLine[], tenders: PurchaseCreate['tenders'], program = vnd, rules = vndRules()): PurchaseRow {
  const input: PurchaseCreate = { memberId, storeId: 'S1', terminalId: 'T1', externalId: 'R-1', currency: program.currency, lines, tenders, capture: true }
  const ctx = { now, actor: 'pos', purchaseId: '00000000-0000-4000-8000-0000000000b1', entryId: '00000000-0000-4000-8000-0000000000e1' }
  return planPurchase({ program, rules, rulesEffectiveFrom: program.rulesEffectiveFrom, memberId, tierCode: null, coupons: [] }, readSale(program, input, now), input, ctx).row
}
const line = (sku: string, quantity: number, unitPrice: string, extra: Partial<SaleLine> = {}): SaleLine => ({ sku, name: sku, quantity, unitPrice, ...extra })

let n = 0
const ctx = () => ({ now, actor: 'pos', returnId: `00000000-0000-4000-8000-0000001${String(++n).padStart(5, '0')}`, entryId: `00000000-0000-4000-8000-0000002${String(n).padStart(5, '0')}` })
/** The member has plenty of points unless a test says otherwise: the clamp then takes the whole clawback. */
const plenty = 1_000_000n
function returnOf(before: PurchaseRow, input: ReturnInput, { program = vnd, rules = vndRules(), pointsAvailable = plenty }: Partial<ReturnLoaded> = {}): ReturnPlan {
  return planReturn(before, readReturn(before, input, program), { program, rules, pointsAvailable }, ctx())
}
/** The purchase as the return leaves it: the next return starts from there. */
const after = (before: PurchaseRow, plan: ReturnPlan): PurchaseRow => ({ ...before, ...plan.purchase })
const refunds = (plan: ReturnPlan) => plan.refunds.map((r) => (r.points === undefined ? [r.type, r.amount] : [r.type, r.amount, r.points]))
const refusal = (fn: () => unknown) => {
  try {
    fn()
  } catch (err) {
    const e = err as { status: number; code: string; extensions: Record<string, unknown> }
    return { status: e.status, code: e.code, extensions: e.extensions }
  }
  return undefined
}

/** 300,000 VND: SHIRT 2 x 100,000 + HAT 100,000, paid 100,000 stored value + 500 points (50,000) + 150,000 card; earns 25 (250,000 of money). */
const mixed = () =>
  sale(
    [line('SHIRT', 2, '100000'), line('HAT', 1, '100000')],
    [
      { type: 'storedValue', amount: '100000' },
      { type: 'points', points: 500 },
      { type: 'card', amount: '150000' },
    ],
  )

t.test('a line returned from a mixed-tender sale: each tender gives back its share, whole points, and the earned points of the line go', async (t) => {
  const before = mixed()
  t.equal(before.pointsEarned, 25n)
  const plan = returnOf(before, { lines: [{ sku: 'HAT', quantity: 1 }], reason: 'wrong size' })
  // 100,000 of 300,000: a third of 100,000 / 50,000 / 150,000 is 33,333.3 / 16,666.7 / 50,000; the unit
  // left goes to the largest remainder (points: 16,667). 16,667 is 166 whole points (16,600); the 67
  // dong of a point's fraction are paid by the card, not by stored value.
  t.same(refunds(plan), [
    ['storedValue', 33_333n],
    ['points', 16_600n, 166n],
    ['card', 50_067n],
  ])
  t.equal(plan.amount, 100_000n)
  // Kept: 200,000 of lines; money still paid 250,000 - (33,333 + 50,067) = 166,600 -> 16.66 -> 16 points should remain of 25.
  t.equal(plan.pointsClawedBack, 9n)
  t.equal(plan.pointsDebt, 0n)
  t.same(plan.entry?.legs, [
    ...transfer(pointsRedeemed(), memberPoints(memberId), 166n),
    ...transfer(storedValueSettlement('S1', 'VND'), memberStoredValue(memberId, 'VND'), 33_333n),
    ...transfer(memberPoints(memberId), pointsIssued(), 9n),
  ])
  t.match(plan.entry, { kind: 'return', effectiveAt: now, reason: 'wrong size', referenceType: 'purchase_return', allowOverdraft: false, consumeLotsOf: before.entryId, restoreLotsOf: before.entryId })
  t.equal(plan.entry?.referenceId, plan.record.id, 'the entry names the return')
  t.equal(plan.record.entryId, plan.entry?.id)
  t.same(plan.record.refunds, [
    { type: 'storedValue', amount: '33333' },
    { type: 'points', amount: '16600', points: '166' },
    { type: 'card', amount: '50067' },
  ])
  t.same(plan.record.lines, [{ sku: 'HAT', quantity: 1 }])
  t.match(plan.purchase, { returnedTotal: 100_000n, pointsClawedBack: 9n, pointsDebt: 0n, returnMode: 'lines', updatedAt: now })
  t.match(plan.purchase.lines, [{ sku: 'SHIRT', returnedQuantity: 0 }, { sku: 'HAT', returnedQuantity: 1, returnedAmount: '100000' }])
  t.match(plan.purchase.tenders, [{ refundedAmount: '33333' }, { refundedAmount: '16600', refundedPoints: '166' }, { refundedAmount: '50067' }])
  t.equal(plan.releasesCoupons, false)
  t.same((before.lines as { returnedQuantity: number }[]).map((l) => l.returnedQuantity), [0, 0], 'the purchase it was given is untouched')
})

t.test('returned line by line in three steps, every tender and every earned point comes back exactly', async (t) => {
  let p = mixed()
  const steps = [{ sku: 'SHIRT', quantity: 1 }, { sku: 'HAT', quantity: 1 }, { sku: 'SHIRT', quantity: 1 }]
  const plans = steps.map((s) => {
    const plan = returnOf(p, { lines: [s] })
    p = after(p, plan)
    return plan
  })
  const byTender = [0, 1, 2].map((i) => plans.reduce((s, plan) => s + plan.refunds[i]!.amount, 0n))
  t.same(byTender, [100_000n, 50_000n, 150_000n])
  t.equal(plans.reduce((s, plan) => s + (plan.refunds[1]!.points ?? 0n), 0n), 500n, 'the 500 points paid')
  t.equal(plans.reduce((s, plan) => s + plan.pointsClawedBack, 0n), 25n, 'the 25 earned')
  t.same(plans.map((plan) => plan.releasesCoupons), [false, false, true], 'coupons come back with the last return only')
  t.same((p.tenders as StoredTender[]).map((x) => x.refundedAmount === x.amount), [true, true, true])
  t.same(refusal(() => returnOf(p, { lines: [{ sku: 'HAT', quantity: 1 }] })), {
    status: 422,
    code: 'RETURN_EXCEEDS_PURCHASE',
    extensions: { sku: 'HAT', returnable: 0 },
  })
})

t.test('odd VND amounts returned in three steps sum exactly to the sale', async (t) => {
  // 100,001 VND paid 50,000 stored value + 50,001 card; earns 10.
  let p = sale([line('A', 1, '100001')], [{ type: 'storedValue', amount: '50000' }, { type: 'card', amount: '50001' }])
  t.equal(p.pointsEarned, 10n)
  const plans = ['33333', '33333', '33335'].map((amount) => {
    const plan = returnOf(p, { amount })
    p = after(p, plan)
    return plan
  })
  // 1: 33,333 x 50,000 / 100,001 = 16,666.33; x 50,001 / 100,001 = 16,666.67: the unit left goes to the card.
  // 2: 33,333 over 33,334 / 33,334 is 16,666.5 each: the tie goes to the first tender.
  // 3: what is left, 16,667 / 16,668.
  t.same(plans.map(refunds), [
    [['storedValue', 16_666n], ['card', 16_667n]],
    [['storedValue', 16_667n], ['card', 16_666n]],
    [['storedValue', 16_667n], ['card', 16_668n]],
  ])
  // By amount the earned points follow what is kept, rounded down: 10 x 66,668 / 100,001 = 6.67 -> 6, then 3.33 -> 3, then 0.
  t.same(plans.map((plan) => plan.pointsClawedBack), [4n, 3n, 3n])
  t.equal(p.returnedTotal, 100_001n)
  t.same(refusal(() => returnOf(p, { amount: '1' })), { status: 422, code: 'RETURN_EXCEEDS_PURCHASE', extensions: { returnable: '0' } })
})

t.test('USD: cents split by largest remainder, parts of a line rounded down and the last unit takes the rest', async (t) => {
  const before = sale([line('A', 3, '3.33')], [{ type: 'storedValue', amount: '5.00' }, { type: 'card', amount: '4.99' }], usd, usdRules())
  t.equal(before.pointsEarned, 9n, '$9.99 earns 9')
  const one = returnOf(before, { lines: [{ sku: 'A', quantity: 1 }] }, { program: usd, rules: usdRules() })
  // 333 cents over 500 / 499: 166.67 and 166.33, the cent left to the stored value.
  t.same(refunds(one), [['storedValue', 167n], ['card', 166n]])
  t.equal(one.pointsClawedBack, 3n, 'kept $6.66 paid in money earns 6')
  const rest = returnOf(after(before, one), { lines: [{ sku: 'A', quantity: 2 }] }, { program: usd, rules: usdRules() })
  t.same(refunds(rest), [['storedValue', 333n], ['card', 333n]], 'together exactly $5.00 and $4.99')
  t.equal(rest.pointsClawedBack, 6n)

  // 3 x 3.33 less 0.01 costs 9.98: one unit is worth 3.32 (998 / 3 rounded down), two 6.65, all three 9.98.
  let p = sale([line('B', 3, '3.33', { discount: '0.01' })], [{ type: 'card', amount: '9.98' }], usd, usdRules())
  const units = [1, 2, 3].map(() => {
    const plan = returnOf(p, { lines: [{ line: 1, quantity: 1 }] }, { program: usd, rules: usdRules() })
    p = after(p, plan)
    return plan.amount
  })
  t.same(units, [332n, 333n, 333n])
  t.match(refusal(() => readReturn(before, { amount: '0.001' }, usd)), { status: 400, code: 'VALIDATION_FAILED' }, 'a tenth of a cent is no USD amount')
})

t.test('clamp: earned points already spent are taken as far as the member has them, the rest is owed', async (t) => {
  const tv = sale([line('TV', 1, '1000000')], [{ type: 'cash', amount: '1000000' }])
  t.equal(tv.pointsEarned, 100n)
  t.match(clampReads(tv, readReturn(tv, { lines: [{ sku: 'TV', quantity: 1 }] }, vnd), { program: vnd, rules: vndRules() }), {
    points: memberPoints(memberId),
    storedValue: memberStoredValue(memberId, 'VND'),
  }, 'the clamp reads both wallets, points first')

  const spent = returnOf(tv, { lines: [{ sku: 'TV', quantity: 1 }] }, { pointsAvailable: 30n })
  t.match(spent, { pointsClawedBack: 30n, pointsDebt: 70n, amount: 1_000_000n }, '70 of the 100 earned were spent')
  t.same(spent.entry?.legs, transfer(memberPoints(memberId), pointsIssued(), 30n))
  t.equal(spent.entry?.allowOverdraft, false)

  const empty = returnOf(tv, { lines: [{ sku: 'TV', quantity: 1 }] }, { pointsAvailable: 0n })
  t.match(empty, { pointsClawedBack: 0n, pointsDebt: 100n, entry: undefined }, 'nothing to take: cash back and a debt, no ledger entry')
  t.equal(empty.record.entryId, null)
  t.match(empty.purchase, { pointsClawedBack: 0n, pointsDebt: 100n })

  const read = readReturn(tv, { lines: [{ sku: 'TV', quantity: 1 }] }, vnd)
  t.throws(() => planReturn(tv, read, { program: vnd, rules: vndRules() }, ctx()), RangeError, 'the plan never guesses the balance')
})

t.test('clamp: points the return gives back can pay the clawback', async (t) => {
  // The member spent everything, but the HAT's return gives back 166 of the points that paid: the 9 come out of those.
  const plan = returnOf(mixed(), { lines: [{ sku: 'HAT', quantity: 1 }] }, { pointsAvailable: 0n })
  t.match(plan, { pointsClawedBack: 9n, pointsDebt: 0n })
})

t.test('clamp: a debt is owed once; the next return asks only what is still credited', async (t) => {
  const two = sale([line('TV', 2, '1000000')], [{ type: 'cash', amount: '2000000' }])
  t.equal(two.pointsEarned, 200n)
  const first = returnOf(two, { lines: [{ sku: 'TV', quantity: 1 }] }, { pointsAvailable: 50n })
  t.match(first, { pointsClawedBack: 50n, pointsDebt: 50n }, '100 to take, 50 there')
  const second = returnOf(after(two, first), { lines: [{ sku: 'TV', quantity: 1 }] }, { pointsAvailable: 0n })
  t.match(second, { pointsClawedBack: 0n, pointsDebt: 100n }, '200 - 50 taken - 50 owed = 100 still credited')
  t.match(second.purchase, { pointsClawedBack: 50n, pointsDebt: 150n }, 'taken and owed add up to the 200 earned')
})

t.test('negative_balance: the whole clawback is taken, the balance may go below zero, no balance is read', async (t) => {
  const rules = vndRules({ clawbackPolicy: 'negative_balance' })
  const tv = sale([line('TV', 1, '1000000')], [{ type: 'cash', amount: '1000000' }], vnd, rules)
  const read = readReturn(tv, { lines: [{ sku: 'TV', quantity: 1 }] }, vnd)
  t.equal(clampReads(tv, read, { program: vnd, rules }), undefined)
  const plan = planReturn(tv, read, { program: vnd, rules }, ctx())
  t.match(plan, { pointsClawedBack: 100n, pointsDebt: 0n })
  t.equal(plan.entry?.allowOverdraft, true)
})

t.test('the policy on its own', async (t) => {
  t.same(clawbackOf(100n, 'clamp', 30n), { clawedBack: 30n, debt: 70n })
  t.same(clawbackOf(100n, 'clamp', 500n), { clawedBack: 100n, debt: 0n })
  t.same(clawbackOf(100n, 'clamp', -5n), { clawedBack: 0n, debt: 100n }, 'a wallet already below zero gives nothing')
  t.same(clawbackOf(100n, 'negative_balance', -70n), { clawedBack: 100n, debt: 0n })
  t.same(clawbackOf(0n, 'clamp', -5n), { clawedBack: 0n, debt: 0n })
})

t.test('a line of an excluded category earned nothing and claws nothing back', async (t) => {
  const p = sale([line('CIG', 1, '50000', { category: 'tobacco' }), line('MILK', 1, '50000')], [{ type: 'cash', amount: '100000' }])
  t.equal(p.pointsEarned, 5n)
  const read = readReturn(p, { lines: [{ sku: 'CIG', quantity: 1 }] }, vnd)
  t.equal(clampReads(p, read, { program: vnd, rules: vndRules() }), undefined, 'nothing to clamp, no wallet read')
  const plan = planReturn(p, read, { program: vnd, rules: vndRules() }, ctx())
  t.match(plan, { amount: 50_000n, pointsClawedBack: 0n, entry: undefined })
  t.same(refunds(plan), [['cash', 50_000n]])
})

t.test('refusals, as the till gets them', async (t) => {
  const p = sale([line('A', 2, '45000'), line('B', 1, '10000'), line('B', 1, '20000')], [{ type: 'cash', amount: '120000' }])
  const read = (input: ReturnInput, row = p, program = vnd) => refusal(() => readReturn(row, input, program))
  t.same(read({ lines: [{ sku: 'A', quantity: 3 }] }), { status: 422, code: 'RETURN_EXCEEDS_PURCHASE', extensions: { sku: 'A', returnable: 2 } })
  t.same(read({ lines: [{ sku: 'A', quantity: 1 }, { sku: 'A', quantity: 2 }] })?.extensions, { sku: 'A', returnable: 1 }, 'a sku asked twice adds up')
  t.same(read({ lines: [{ sku: 'NOPE', quantity: 1 }] }), { status: 422, code: 'RETURN_LINE_NOT_IN_PURCHASE', extensions: { line: 1 } })
  t.same(read({ lines: [{ sku: 'A', quantity: 1 }, { line: 4, quantity: 1 }] }), { status: 422, code: 'RETURN_LINE_NOT_IN_PURCHASE', extensions: { line: 2 } }, 'the request line is named')
  t.match(read({ lines: [{ sku: 'B', quantity: 1 }] }), { status: 400, code: 'VALIDATION_FAILED' }, 'a sku on two lines needs the line number')
  t.equal(read({ lines: [{ line: 3, quantity: 1 }] }), undefined)
  t.equal(readReturn(p, { lines: [{ line: 3, quantity: 1 }] }, vnd).refund, 20_000n, 'line 3 is the B at 20,000')
  t.match(read({ amount: '0' }), { status: 400, code: 'VALIDATION_FAILED' })
  t.match(read({ amount: '10.5' }), { status: 400, code: 'VALIDATION_FAILED' }, 'VND has no decimals')
  t.same(read({ amount: '120001' }), { status: 422, code: 'RETURN_EXCEEDS_PURCHASE', extensions: { returnable: '120000' } })
  const byAmount = after(p, returnOf(p, { amount: '1000' }))
  t.same(read({ lines: [{ sku: 'A', quantity: 1 }] }, byAmount), { status: 422, code: 'RETURN_MODE_MISMATCH', extensions: {} })
  t.same(read({ amount: '119001' }, byAmount)?.extensions, { returnable: '119000' })
  t.same(read({ amount: '1' }, { ...p, status: 'pending' }), { status: 409, code: 'PURCHASE_NOT_COMPLETED', extensions: {} })
  t.same(read({ amount: '1' }, { ...p, status: 'voided' })?.code, 'PURCHASE_NOT_COMPLETED')
})

t.test('points rounded up on one return: the last line gives back what is left, not more', async (t) => {
  // 25,500 VND: A 101 + B 25,399, paid 254 points (25,400) + 100 card.
  const p = sale([line('A', 1, '101'), line('B', 1, '25399')], [{ type: 'points', points: 254 }, { type: 'card', amount: '100' }])
  const b = returnOf(p, { lines: [{ sku: 'B', quantity: 1 }] })
  // B's 25,399: 25,299.4 on points and 99.6 on the card, the unit left to the card (100, all of it). 25,299 is
  // 252 points and 99 dong the card has no room for: the points round up to 253 (25,300), 25,400 in all.
  t.same(refunds(b), [['points', 25_300n, 253n], ['card', 100n]])
  t.equal(b.amount, 25_400n, 'one dong more than the line')
  const a = returnOf(after(p, b), { lines: [{ sku: 'A', quantity: 1 }] })
  t.same(refunds(a), [['points', 100n, 1n], ['card', 0n]], 'A is worth 101 but 100 is left: the last point')
  t.equal(a.amount, 100n)
  t.equal(after(after(p, b), a).returnedTotal, 25_500n, 'exactly the sale')
  t.equal(a.releasesCoupons, true)
})

t.test('any sale returned line by line in any steps gives back exactly what it took and earned', async () => {
  fc.assert(
    fc.property(
      fc.array(fc.record({ quantity: fc.integer({ min: 1, max: 4 }), price: fc.integer({ min: 1, max: 300_000 }) }), { minLength: 1, maxLength: 3 }),
      fc.double({ min: 0, max: 1, noNaN: true }),
      fc.double({ min: 0, max: 1, noNaN: true }),
      fc.array(fc.nat(), { minLength: 12, maxLength: 12 }),
      (lines, pointsShare, svShare, choices) => {
        const total = lines.reduce((s, l) => s + BigInt(l.quantity * l.price), 0n)
        const points = BigInt(Math.floor(Number(total / 100n) * pointsShare))
        const sv = BigInt(Math.floor(Number(total - points * 100n) * svShare))
        const card = total - points * 100n - sv
        const tenders: PurchaseCreate['tenders'] = [
          ...(sv > 0n ? [{ type: 'storedValue' as const, amount: String(sv) }] : []),
          ...(points > 0n ? [{ type: 'points' as const, points: Number(points) }] : []),
          ...(card > 0n ? [{ type: 'card' as const, amount: String(card) }] : []),
        ]
        let p = sale(lines.map((l, i) => line(`L${i}`, l.quantity, String(l.price))), tenders)
        const given = new Map<string, bigint>()
        let clawed = 0n
        for (let step = 0; p.returnedTotal < p.total; step++) {
          const open = (p.lines as { quantity: number; returnedQuantity: number }[]).map((l, i) => ({ i, left: l.quantity - l.returnedQuantity })).filter((l) => l.left > 0)
          const pick = open[(choices[step % choices.length] ?? 0) % open.length]!
          const quantity = step >= choices.length ? pick.left : 1 + ((choices[step] ?? 0) % pick.left)
          const plan = returnOf(p, { lines: [{ line: pick.i + 1, quantity }] })
          if (plan.refunds.reduce((s, r) => s + r.amount, 0n) !== plan.amount) return false
          for (const r of plan.refunds) given.set(r.type, (given.get(r.type) ?? 0n) + r.amount)
          clawed += plan.pointsClawedBack
          p = after(p, plan)
          if (step > 40) return false
        }
        return (p.tenders as StoredTender[]).every((x) => given.get(x.type) === BigInt(x.amount)) && clawed === p.pointsEarned && p.returnedTotal === total
      },
    ),
    { numRuns: 200 },
  )
})
