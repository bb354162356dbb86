// The birthday job on the executor while the same members buy (earning and paying points) and a
// second run races it. On PostgreSQL (TEST_DATABASE_URL) they run on separate connections: no
// deadlock, each member granted once, the ledger verifies clean. On PGlite they serialise.
import t from 'tap'
import pino from 'pino'
import type { FastifyBaseLogger } from 'fastify'
import { birthdayRewardsJob } from '../../../src/modules/birthdays/job.js'
import { localDate } from '../../../src/shared/period.js'
import { findProgram } from '../../../src/modules/programs/repository.js'
import { onRealPostgres, startTestApp } from '../../helpers/app.js'
import { Till, VND_RULES } from '../../helpers/pos.js'

const ctx = await startTestApp(t)
t.comment(`database: ${onRealPostgres ? 'PostgreSQL: the runs race the sales' : 'PGlite: everything serialises'}`)
const MEMBERS = 10
const BONUS = 100

t.test('birthday runs racing sales of the same members grant each member once', async (t) => {
  const today = localDate(new Date(), 'Asia/Ho_Chi_Minh').slice(5, 10)
  const p = await ctx.createProgram({ rules: { ...VND_RULES, birthday: { bonusPoints: BONUS } } })
  const program = (await findProgram(ctx.database.db, p.id))!
  const till = new Till(ctx, p.token)
  const members: string[] = []
  for (let i = 0; i < MEMBERS; i++) {
    const m = await ctx.enrol(p.token, { birthday: `1990-${today}`, ...(i % 2 === 0 ? { consents: { smsMarketing: { granted: true } } } : {}) })
    members.push(m.id)
    const first = await till.purchase(m.id, [{ sku: 'A', quantity: 1, unitPrice: '500000' }], [{ type: 'cash', amount: '500000' }])
    if (first.statusCode !== 201) throw new Error(`setup: ${first.body}`)
  }
  const log = pino({ level: 'silent' }) as unknown as FastifyBaseLogger
  const sale = (m: string, i: number) =>
    i % 2 === 0
      ? till.purchase(m, [{ sku: 'B', quantity: 1, unitPrice: '200000' }], [{ type: 'cash', amount: '200000' }])
      : till.purchase(m, [{ sku: 'C', quantity: 1, unitPrice: '2000' }], [{ type: 'points', points: 20 }])
  const [runs, sold] = await Promise.all([
    Promise.all([0, 1].map(() => birthdayRewardsJob.run({ database: ctx.database, program, asOf: new Date(), log }))),
    Promise.all(members.flatMap((m) => [0, 1, 2, 3].map((i) => sale(m, i)))),
  ])
  t.same(sold.filter((r) => r.statusCode !== 201).map((r) => r.body), [], 'every sale answered 201')
  t.equal(runs.reduce((s, r) => s + r.celebrated!, 0), MEMBERS, 'each member celebrated by one run')
  t.equal(runs.reduce((s, r) => s + r.points!, 0), MEMBERS * BONUS)
  for (const [i, m] of members.entries()) {
    const activity = (await ctx.call(p.token, 'GET', `/v1/members/${m}/activity?limit=100`)).json().data as { reference: { type: string } | null }[]
    t.equal(activity.filter((e) => e.reference?.type === 'birthday').length, 1, `member ${i}: one birthday entry`)
    // 50 earned at setup, 20 earned by two cash sales, 40 paid by two point sales, the bonus.
    t.equal((await ctx.call(p.token, 'GET', `/v1/members/${m}/balances`)).json().points.balance, 50 + 40 - 40 + BONUS, `member ${i}: balance`)
  }
  await ctx.assertLedgerClean(t, p.token)
})
