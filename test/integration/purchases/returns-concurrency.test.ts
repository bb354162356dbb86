// A clamped return races the member's other writes. The return decides its clawback on the points
// it loaded without a lock, so its plan must be refused as stale when the wallet moved meanwhile:
// fewer points (a spend) would make its debit fail, more points (a grant) would record a debt the
// member could have paid. On PGlite (one connection) the requests are serialised and the file checks
// the same bookkeeping; on PostgreSQL (TEST_DATABASE_URL) they are real races.
import t from 'tap'
import { startTestApp } from '../../helpers/app.js'
import { idemKey, Till, VND_RULES } from '../../helpers/pos.js'

const ctx = await startTestApp(t)
const program = await ctx.createProgram({ rules: VND_RULES })
const till = new Till(ctx, program.token)
const ROUNDS = 8

t.test('a clamped return racing grants and spends of the same member: the debt is only what the member could not pay', async (t) => {
  for (let round = 0; round < ROUNDS; round++) {
    const m = await ctx.enrol(program.token)
    const tv = (await till.purchase(m.id, [{ sku: 'TV', quantity: 1, unitPrice: '1000000' }], [{ type: 'cash', amount: '1000000' }])).json()
    // 100 earned, 70 spent: 30 left of the 100 the return claws back.
    await till.purchase(m.id, [{ sku: 'GUM', quantity: 1, unitPrice: '7000' }], [{ type: 'points', points: 70 }])
    const grant = (points: number) =>
      ctx.call(program.token, 'POST', `/v1/members/${m.id}/points/adjustments`, { points, reason: 'race' }, { 'idempotency-key': idemKey('a') })
    const spend = () => till.purchase(m.id, [{ sku: 'GUM', quantity: 1, unitPrice: '500' }], [{ type: 'points', points: 5 }])
    const [ret, ...others] = await Promise.all([till.returnPurchase(tv.id, { lines: [{ sku: 'TV', quantity: 1 }] }), grant(20), spend(), grant(15), spend(), grant(-3)])
    t.equal(ret.statusCode, 201, `round ${round}: the return is taken (${ret.body.slice(0, 200)})`)
    for (const o of others) t.ok(o.statusCode === 201 || o.json().code === 'INSUFFICIENT_FUNDS', `round ${round}: a concurrent write is taken or refused for funds (${o.statusCode})`)
    const r = ret.json()
    t.equal(r.pointsClawedBack + r.pointsDebt, 100, 'the whole earn is clawed back or owed')
    if (r.pointsDebt > 0) t.equal(r.balances.points.available, 0, 'a debt is recorded only when the return took every point the member had')
    t.ok(r.balances.points.balance >= 0, 'never negative under clamp')
  }
  await ctx.assertLedgerClean(t, program.token, 'the ledger reconciles')
})
