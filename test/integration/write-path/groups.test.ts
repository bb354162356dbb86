// Property: sales driven through the group-commit executor with random group boundaries (group
// size, groups in flight) end exactly as if each had been posted alone, in order per member.
// fast-check draws members' opening stored value and points, and sales whose stored-value and
// points tenders may exceed what the member has. A model predicts each answer (201, or 422
// INSUFFICIENT_FUNDS) from the balances the member's earlier sales left; each member's sales go
// one after another, members concurrently, so plans of different members share groups.
//
// Reproduce a failure with FC_SEED=<seed>; FC_NUM_RUNS overrides the number of runs.
import fc from 'fast-check'
import t from 'tap'
import { startTestApp } from '../../helpers/app.js'
import { Till, VND_RULES } from '../../helpers/pos.js'

const ctx = await startTestApp(t)
const MEMBERS = 4

interface SaleSpec {
  member: number
  /** Price in units of 10,000 VND. */
  price: number
  storedValue: number
  points: number
}

const saleArb = fc.record({ member: fc.integer({ min: 0, max: MEMBERS - 1 }), price: fc.integer({ min: 1, max: 20 }), storedValue: fc.integer({ min: 0, max: 20 }), points: fc.integer({ min: 0, max: 3 }) })
const caseArb = fc.record({
  maxGroup: fc.integer({ min: 1, max: 6 }),
  maxInFlight: fc.integer({ min: 1, max: 3 }),
  opening: fc.array(fc.record({ storedValue: fc.integer({ min: 0, max: 30 }), points: fc.integer({ min: 0, max: 300 }) }), { minLength: MEMBERS, maxLength: MEMBERS }),
  sales: fc.array(saleArb, { minLength: 1, maxLength: 16 }),
})

t.test('sales through random groups end as if posted one by one', async (t) => {
  const seed = process.env.FC_SEED ? Number(process.env.FC_SEED) : undefined
  await fc.assert(
    fc.asyncProperty(caseArb, async ({ maxGroup, maxInFlight, opening, sales }) => {
      const p = await ctx.createProgram({ rules: VND_RULES })
      const till = new Till(ctx, p.token)
      const members = await Promise.all(opening.map(() => ctx.enrol(p.token)))
      const model = opening.map((o) => ({ storedValue: BigInt(o.storedValue) * 10_000n, points: BigInt(o.points) }))
      for (const [i, o] of opening.entries()) {
        if (o.storedValue > 0) await till.topUp(members[i]!.id, String(o.storedValue * 10_000))
        if (o.points > 0) await till.grantPoints(members[i]!.id, o.points)
      }
      ctx.database.applier.configure({ maxGroup, maxInFlight: ctx.database.kind === 'pglite' ? 1 : maxInFlight })
      const problems: string[] = []
      const chains = members.map(async (m, i) => {
        for (const s of sales.filter((x: SaleSpec) => x.member === i)) {
          const price = BigInt(s.price) * 10_000n
          const sv = (BigInt(s.storedValue) * 10_000n < price ? BigInt(s.storedValue) : 0n) * 10_000n
          const points = (price - sv) / 100n >= BigInt(s.points) * 100n ? BigInt(s.points) * 100n : 0n
          const cash = price - sv - points * 100n
          const tenders = [
            ...(sv > 0n ? [{ type: 'storedValue', amount: sv.toString() }] : []),
            ...(points > 0n ? [{ type: 'points', points: Number(points) }] : []),
            ...(cash > 0n ? [{ type: 'cash', amount: cash.toString() }] : []),
          ]
          const res = await till.purchase(m.id, [{ sku: 'X', quantity: 1, unitPrice: price.toString() }], tenders)
          const w = model[i]!
          // 1 point per 10,000 VND of money paid (stored value is money; points are not), exact here;
          // the sale's own points count towards what it pays with points (the entry is netted).
          const earned = (price - points * 100n) / 10_000n
          const fits = sv <= w.storedValue && points <= w.points + earned
          if (!fits) {
            if (res.statusCode !== 422 || res.json().code !== 'INSUFFICIENT_FUNDS') problems.push(`member ${i}: expected INSUFFICIENT_FUNDS, got ${res.statusCode} ${res.body}`)
            continue
          }
          if (res.statusCode !== 201) {
            problems.push(`member ${i}: expected 201, got ${res.statusCode} ${res.body}`)
            continue
          }
          const body = res.json()
          w.storedValue -= sv
          if (BigInt(body.pointsEarned) !== earned) problems.push(`member ${i}: earned ${body.pointsEarned}, the model ${earned}`)
          w.points += earned - points
          if (body.balances.storedValue.balance !== w.storedValue.toString() || BigInt(body.balances.points.balance) !== w.points) {
            problems.push(`member ${i}: the answer shows ${JSON.stringify(body.balances)}, the model ${w.storedValue} / ${w.points}`)
          }
        }
      })
      await Promise.all(chains)
      ctx.database.applier.configure({ maxGroup: 64, maxInFlight: ctx.database.kind === 'pglite' ? 1 : 4 })
      for (const [i, m] of members.entries()) {
        const b = await till.balances(m.id)
        if (b.storedValue.balance !== model[i]!.storedValue.toString() || BigInt(b.points.balance) !== model[i]!.points) {
          problems.push(`member ${i}: balances ${JSON.stringify(b)}, model ${model[i]!.storedValue} / ${model[i]!.points}`)
        }
      }
      const verify = await till.verify()
      if (verify.ok !== true) problems.push(`verify: ${JSON.stringify(verify)}`)
      if (problems.length > 0) throw new Error(problems.join('\n'))
    }),
    { numRuns: Number(process.env.FC_NUM_RUNS ?? 12), seed },
  )
  t.pass('every run ended as the model predicted')
})
