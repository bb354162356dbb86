// Weighed and fractional goods (issue 19 part 5): quantities read exactly in thousandths, a line
// priced once (quantity x unit price, rounded half up to the minor unit), and a weighed line
// returned in parts whose refunds and clawbacks sum exactly to what the line cost and earned.
import t from 'tap'
import fc from 'fast-check'
import { priceLines } from '../../src/modules/purchases/calculator.js'
import { planPurchase, readSale } from '../../src/modules/purchases/plan.js'
import { planReturn, readReturn, returnedValue, type ReturnPlan } from '../../src/modules/purchases/return-plan.js'
import { purchaseCreateSchema, returnSchema, type PurchaseCreate, type ReturnInput } from '../../src/modules/purchases/schemas.js'
import type { StoredLine } from '../../src/modules/purchases/stored.js'
import type { PurchaseRow } from '../../src/modules/purchases/tables.js'
import { defaultRules, type ProgramRules } from '../../src/modules/programs/rules.js'
import type { ProgramRow } from '../../src/modules/programs/tables.js'
import { roundMoney } from '../../src/shared/money.js'
import { lineGross, milliOf, quantityText, quantityValue, readQuantity } from '../../src/shared/quantity.js'

const now = new Date('2026-12-01T10:00:00Z')
const memberId = '00000000-0000-4000-8000-0000000000aa'
const programOf = (currency: string): ProgramRow => ({
  id: '00000000-0000-4000-8000-000000000001',
  name: 'P',
  currency,
  timezone: 'Asia/Ho_Chi_Minh',
  country: 'VN',
  rules: {},
  rulesEffectiveFrom: new Date('2026-01-01T00:00:00Z'),
  createdAt: now,
  updatedAt: now,
})
const vnd = programOf('VND')
const usd = programOf('USD')
/** 1 point per 10,000 VND, a point pays 100 VND. */
const vndRules = (): ProgramRules => ({ ...defaultRules(), earning: { points: 1, per: '10000', rounding: 'down', excludedCategories: [], categoryMultipliers: {} }, pointValue: '100' })
const usdRules = (): ProgramRules => ({ ...defaultRules(), earning: { points: 1, per: '1', rounding: 'down', excludedCategories: [], categoryMultipliers: {} }, pointValue: '0.01' })

type Line = PurchaseCreate['lines'][number]
function sale(lines: Line[], tenders: PurchaseCreate['tenders'], program = vnd, rules = vndRules()): PurchaseRow {
  const input: PurchaseCreate = { memberId, storeId: 'S1', terminalId: 'T1', externalId: 'R-1', currency: program.currency, lines, tenders, capture: true }
  const ctx = { now, actor: 'pos', purchaseId: '00000000-0000-4000-8000-0000000000b1', entryId: '00000000-0000-4000-8000-0000000000e1' }
  return planPurchase({ program, rules, rulesEffectiveFrom: program.rulesEffectiveFrom, memberId, tierCode: null, coupons: [] }, readSale(program, input, now), input, ctx).row
}
let n = 0
const ctx = () => ({ now, actor: 'pos', returnId: `00000000-0000-4000-8000-0000001${String(++n).padStart(5, '0')}`, entryId: `00000000-0000-4000-8000-0000002${String(n).padStart(5, '0')}` })
function returnOf(before: PurchaseRow, input: ReturnInput, program = vnd, rules = vndRules()): ReturnPlan {
  return planReturn(before, readReturn(before, input, program), { program, rules, pointsAvailable: 1_000_000n }, ctx())
}
const after = (before: PurchaseRow, plan: ReturnPlan): PurchaseRow => ({ ...before, ...plan.purchase })
const refusal = (fn: () => unknown) => {
  try {
    fn()
  } catch (err) {
    const e = err as { status: number; code: string; extensions: Record<string, unknown> }
    return { status: e.status, code: e.code, extensions: e.extensions }
  }
  return undefined
}

t.test('quantities are read exactly: whole pieces, up to three decimals, greater than zero, at most 100,000', async (t) => {
  t.same(readQuantity(2), { milli: 2000n })
  t.same(readQuantity('0.375'), { milli: 375n })
  t.same(readQuantity(0.375), { milli: 375n }, 'a JSON number through its shortest decimal form')
  t.same(readQuantity('1.5'), { milli: 1500n })
  t.same(readQuantity('100000'), { milli: 100_000_000n })
  for (const bad of [0, '0', '0.000', -1, '-0.5', '0.0005', '1e3', 1e21, '100000.001', '.5', '1.', '01', ' 1', 'abc', true, null, Number.NaN]) {
    t.ok('problem' in readQuantity(bad), `${JSON.stringify(bad)} is refused`)
  }
  t.equal(quantityText(375n), '0.375')
  t.equal(quantityText(1500n), '1.5')
  t.equal(quantityText(2000n), '2')
  t.equal(quantityValue(2000n, undefined), 2, 'pieces stay a number')
  t.equal(quantityValue(2000n, 'kg'), '2', 'a measure is a decimal string')
  t.equal(milliOf(3), 3000n)
})

t.test('a line costs quantity x unit price rounded once, half up, to the minor unit', async (t) => {
  t.equal(lineGross(99_900n, 375n), 37_463n, '0.375 kg x 99,900 = 37,462.5 -> 37,463 VND')
  t.equal(lineGross(99_900n, 374n), 37_363n, '37,362.6 -> 37,363')
  t.equal(lineGross(99_900n, 1n), 100n, '99.9 -> 100')
  t.equal(lineGross(35_000n, 2000n), 70_000n, 'whole pieces are exact')
  t.equal(lineGross(1299n, 1234n), 1603n, '1.234 kg x $12.99 = $16.02966 -> $16.03')
  t.equal(roundMoney(5n, 10n), 1n, 'half up')
  t.equal(roundMoney(4n, 10n), 0n)
  const [line] = priceLines([{ sku: 'BEEF', name: 'Thịt bò', quantity: '0.375', unit: 'kg', unitPrice: 99_900n, discount: 463n }])
  t.match(line, { gross: 37_463n, amount: 37_000n })
})

t.test('the body: a fractional piece is refused, a measure may be fractional, a quantity has three decimals at most', async (t) => {
  const body = (line: Record<string, unknown>) => ({
    memberId,
    storeId: 'S1',
    terminalId: 'T1',
    externalId: 'R',
    currency: 'VND',
    lines: [{ sku: 'A', name: 'A', unitPrice: '99900', ...line }],
    tenders: [{ type: 'cash', amount: '1' }],
  })
  const paths = (line: Record<string, unknown>) => {
    const r = purchaseCreateSchema.safeParse(body(line))
    return r.success ? [] : r.error.issues.map((i) => `${i.path.join('/')}: ${i.message}`)
  }
  t.same(paths({ quantity: '0.375', unit: 'kg' }), [])
  t.same(paths({ quantity: 0.375, unit: 'kg' }), [])
  t.same(paths({ quantity: 2 }), [])
  t.same(paths({ quantity: 2, unit: 'pc' }), [])
  t.same(paths({ quantity: '2' }), [], 'a whole number as text is still pieces')
  t.match(paths({ quantity: 1.5 }), [/^lines\/0\/quantity: pieces are whole/])
  t.match(paths({ quantity: '0.375', unit: 'pc' }), [/^lines\/0\/quantity: pieces are whole/])
  t.same(paths({ quantity: '0.3755', unit: 'kg' }), ['lines/0/quantity: a positive decimal with at most 3 decimals, e.g. "0.375"'])
  t.same(paths({ quantity: 0.3755, unit: 'kg' }), ['lines/0/quantity: a positive number with at most 3 decimals, at most 100000'])
  t.same(paths({ quantity: 0, unit: 'kg' }), ['lines/0/quantity: must be greater than zero'])
  t.same(paths({ quantity: true }), ['lines/0/quantity: a number, or a decimal string such as "0.375"'])
  t.same(paths({ quantity: '0.000', unit: 'kg' }), ['lines/0/quantity: must be greater than zero'])
  t.same(paths({ quantity: '100000.5', unit: 'kg' }), ['lines/0/quantity: at most 100000'])
  t.same(paths({ quantity: 100000.5, unit: 'kg' }), ['lines/0/quantity: at most 100000'])
  t.match(paths({ quantity: '1', unit: 'lb' }), [/^lines\/0\/unit/])
  t.ok(returnSchema.safeParse({ lines: [{ line: 1, quantity: '0.125' }] }).success)
  t.notOk(returnSchema.safeParse({ lines: [{ line: 1, quantity: '0.0001' }] }).success)
})

/** 0.375 kg of beef at 99,900 VND/kg (37,463) and 2 coffees at 35,000: 107,463 VND, 57,463 cash + 50,000 stored value; earns 10. */
const weighedSale = () =>
  sale(
    [
      { sku: 'BEEF', name: 'Thịt bò', quantity: '0.375', unit: 'kg', unitPrice: '99900' },
      { sku: 'CF', name: 'Cà phê', quantity: 2, unitPrice: '35000' },
    ],
    [
      { type: 'cash', amount: '57463' },
      { type: 'storedValue', amount: '50000' },
    ],
  )

t.test('a weighed line is stored in its unit, exactly, beside a piece line stored as always', async (t) => {
  const p = weighedSale()
  t.equal(p.total, 107_463n)
  t.equal(p.subtotal, 107_463n)
  t.equal(p.pointsEarned, 10n)
  const [beef, coffee] = p.lines as StoredLine[]
  t.match(beef, { quantity: '0.375', unit: 'kg', amount: '37463', returnedQuantity: '0' })
  t.same(coffee && 'unit' in coffee, false, 'a piece line has no unit, as before')
  t.match(coffee, { quantity: 2, returnedQuantity: 0, amount: '70000' })
})

t.test('three returns of 0.125 kg of a 0.375 kg line sum exactly to its amount; the points likewise', async (t) => {
  let p = weighedSale()
  const plans = [1, 2, 3].map(() => {
    const plan = returnOf(p, { lines: [{ sku: 'BEEF', quantity: '0.125' }] })
    p = after(p, plan)
    return plan
  })
  // floor(37,463 x 1/3) = 12,487; floor(37,463 x 2/3) = 24,975; then the rest.
  t.same(plans.map((x) => x.amount), [12_487n, 12_488n, 12_488n])
  t.equal(plans.reduce((s, x) => s + x.amount, 0n), 37_463n, 'exactly the line')
  // Kept 94,976 -> 9 points, 82,488 -> 8, 70,000 -> 7.
  t.same(plans.map((x) => x.pointsClawedBack), [1n, 1n, 1n])
  t.same(plans.map((x) => x.record.lines), [[{ sku: 'BEEF', quantity: '0.125' }], [{ sku: 'BEEF', quantity: '0.125' }], [{ sku: 'BEEF', quantity: '0.125' }]], 'kept in the line’s form')
  t.match((p.lines as StoredLine[])[0], { returnedQuantity: '0.375', returnedAmount: '37463' })
  t.same(refusal(() => returnOf(p, { lines: [{ sku: 'BEEF', quantity: '0.001' }] })), { status: 422, code: 'RETURN_EXCEEDS_PURCHASE', extensions: { sku: 'BEEF', returnable: '0' } })
  const rest = returnOf(p, { lines: [{ sku: 'CF', quantity: 2 }] })
  p = after(p, rest)
  t.equal(p.returnedTotal, p.total)
  t.equal(p.pointsClawedBack, 10n, 'every earned point back')
  t.same(
    (p.tenders as { amount: string; refundedAmount: string }[]).map((x) => x.refundedAmount === x.amount),
    [true, true],
    'every tender given back exactly',
  )
})

t.test('partial returns of a measure: never more than is left, never a fraction of a piece', async (t) => {
  const p = weighedSale()
  const first = returnOf(p, { lines: [{ line: 1, quantity: 0.2 }] })
  t.same(first.record.lines, [{ line: 1, quantity: '0.2' }], 'a JSON number kept as its decimal')
  const q = after(p, first)
  t.same(refusal(() => readReturn(q, { lines: [{ line: 1, quantity: '0.176' }] }, vnd)), { status: 422, code: 'RETURN_EXCEEDS_PURCHASE', extensions: { sku: 'BEEF', returnable: '0.175' } })
  t.same(refusal(() => readReturn(q, { lines: [{ line: 1, quantity: '0.1' }, { line: 1, quantity: '0.1' }] }, vnd))?.extensions, { sku: 'BEEF', returnable: '0.075' }, 'asked twice adds up')
  t.same(refusal(() => readReturn(q, { lines: [{ sku: 'CF', quantity: '0.5' }] }, vnd)), { status: 400, code: 'VALIDATION_FAILED', extensions: { errors: [{ path: 'body/lines/0/quantity', message: 'sold by the piece: a whole number' }] } })
  t.same(refusal(() => readReturn(q, { lines: [{ sku: 'CF', quantity: 3 }] }, vnd))?.extensions, { sku: 'CF', returnable: 2 }, 'pieces answer a number, as before')
})

t.test('any weighed line returned in any parts gives back exactly what it cost and earned (USD)', async (t) => {
  fc.assert(
    fc.property(
      fc.integer({ min: 2, max: 20_000 }),
      fc.integer({ min: 1, max: 99_999 }),
      fc.array(fc.integer({ min: 1, max: 1000 }), { minLength: 1, maxLength: 6 }),
      (milli, cents, weights) => {
        const quantity = quantityText(BigInt(milli))
        const total = lineGross(BigInt(cents), BigInt(milli))
        if (total <= 0n) return
        const price = `${Math.floor(cents / 100)}.${String(cents % 100).padStart(2, '0')}`
        const amount = `${total / 100n}.${String(total % 100n).padStart(2, '0')}`
        let p = sale([{ sku: 'W', name: 'W', quantity, unit: 'kg', unitPrice: price }], [{ type: 'card', amount }], usd, usdRules())
        // Split the quantity into steps in proportion to the weights, at least 0.001 each.
        const sum = weights.reduce((a, b) => a + b, 0)
        let left = milli
        const steps: number[] = []
        for (const [i, w] of weights.entries()) {
          if (left <= 0) break
          const step = i === weights.length - 1 ? left : Math.max(1, Math.min(left, Math.floor((milli * w) / sum)))
          steps.push(step)
          left -= step
        }
        if (left > 0) steps.push(left)
        let refunded = 0n
        let clawed = 0n
        for (const step of steps) {
          const plan = returnOf(p, { lines: [{ line: 1, quantity: quantityText(BigInt(step)) }] }, usd, usdRules())
          refunded += plan.amount
          clawed += plan.pointsClawedBack
          p = after(p, plan)
        }
        if (refunded !== total) throw new Error(`refunded ${refunded} of ${total}`)
        if (clawed !== p.pointsEarned) throw new Error(`clawed back ${clawed} of ${p.pointsEarned}`)
        if (milliOf((p.lines as StoredLine[])[0]!.returnedQuantity) !== BigInt(milli)) throw new Error('returned quantity')
      },
    ),
    { numRuns: 200 },
  )
  t.equal(returnedValue(37_463n, 375n, 0n, 125n), 12_487n)
  t.equal(returnedValue(37_463n, 375n, 250n, 125n), 12_488n)
})
