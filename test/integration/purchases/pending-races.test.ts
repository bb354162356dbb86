// Captures, voids and the hold-expiry job of one pending purchase at the same moment, on the write
// executor (purchases/pending.ts): each plan locks the purchase at the version it loaded, so one
// wins and the others, planned again on what it left, get the refusal they always got (409
// PURCHASE_NOT_PENDING; the job: nothing to do). On PostgreSQL the requests really run at once.
// A hold resolved behind the purchase's back (LL301) answers 409 HOLD_ALREADY_RESOLVED, the job false.
import t from 'tap'
import { eq, sql } from 'drizzle-orm'
import { queryRows, type Database } from '../../../src/db/client.js'
import { voidExpiredHolds } from '../../../src/modules/jobs/void-expired-holds.js'
import { expirePlanned, voidPlanned } from '../../../src/modules/purchases/pending.js'
import { programs } from '../../../src/modules/programs/tables.js'
import { startTestApp } from '../../helpers/app.js'
import { idemKey, Till, VND_RULES } from '../../helpers/pos.js'

const ctx = await startTestApp(t)
const program = await ctx.createProgram({ rules: { ...VND_RULES, holdMinutes: 30 } })
const till = new Till(ctx, program.token)

t.afterEach(async () => {
  const report = await till.verify()
  if (!report.ok) throw new Error(`ledger verify failed: ${JSON.stringify(report.discrepancies)}`)
})

const capture = (id: string, body?: Record<string, unknown>) => ctx.call(program.token, 'POST', `/v1/purchases/${id}/capture`, body, { 'idempotency-key': idemKey('c') })
const voidIt = (id: string) => ctx.call(program.token, 'POST', `/v1/purchases/${id}/void`, { reason: 'race' }, { 'idempotency-key': idemKey('v') })

/** A member with 300,000 stored value and 1,000 points, and a held sale of 200,000 stored value + 500 points + 50,000 card. */
async function heldSale() {
  const m = await ctx.enrol(program.token)
  await till.topUp(m.id, '300000')
  await till.grantPoints(m.id, 1000)
  const res = await till.purchase(
    m.id,
    [{ sku: 'A', quantity: 1, unitPrice: '300000' }],
    [
      { type: 'storedValue', amount: '200000' },
      { type: 'points', points: 500 },
      { type: 'card', amount: '50000' },
    ],
    { capture: false },
  )
  t.equal(res.statusCode, 201, res.body)
  return { member: m.id, purchase: res.json().id as string }
}

const ROUNDS = 6

t.test(`a capture and a void of one purchase race: one wins, the other is refused as before (${ROUNDS} rounds)`, async (t) => {
  for (let round = 0; round < ROUNDS; round++) {
    const { member, purchase } = await heldSale()
    const [c, v] = await Promise.all([capture(purchase, round % 2 === 0 ? undefined : { amount: '200000' }), voidIt(purchase)])
    t.same([c.statusCode, v.statusCode].sort(), [200, 409], `round ${round}: ${c.body} / ${v.body}`)
    const refused = c.statusCode === 409 ? c : v
    t.equal(refused.json().code, 'PURCHASE_NOT_PENDING')
    const final = (await ctx.call(program.token, 'GET', `/v1/purchases/${purchase}`)).json()
    const balances = await till.balances(member)
    t.equal(final.status, c.statusCode === 200 ? 'completed' : 'voided')
    t.equal(balances.points.pending, 0)
    t.equal(balances.storedValue.pending, '0')
    if (final.status === 'voided') {
      t.same(balances.points, { balance: 1000, available: 1000, pending: 0 })
      t.equal(balances.storedValue.balance, '300000')
    } else {
      t.same({ points: balances.points, storedValue: balances.storedValue }, { points: c.json().balances.points, storedValue: c.json().balances.storedValue }, 'the capture answered the balances it left')
    }
  }
})

t.test('two captures of one purchase under different keys: one captures, the other is refused', async (t) => {
  const { member, purchase } = await heldSale()
  const answers = await Promise.all([capture(purchase), capture(purchase), capture(purchase)])
  t.same(answers.map((a) => a.statusCode).sort(), [200, 409, 409])
  t.same(answers.filter((a) => a.statusCode === 409).map((a) => a.json().code), ['PURCHASE_NOT_PENDING', 'PURCHASE_NOT_PENDING'])
  // 300,000 - 50,000 in points = 250,000 paid with money: 25 points.
  t.same((await till.balances(member)).points, { balance: 525, available: 525, pending: 0 })
})

t.test('a capture racing the hold-expiry job: the capture is refused only once the job voided it', async (t) => {
  const { member, purchase } = await heldSale()
  const past = new Date(Date.now() + 31 * 60_000)
  const [job, c] = await Promise.all([voidExpiredHolds(ctx.database, past, program.id), capture(purchase)])
  const final = (await ctx.call(program.token, 'GET', `/v1/purchases/${purchase}`)).json()
  if (c.statusCode === 200) {
    t.equal(job.voided, 0, 'the job found it captured')
    t.equal(final.status, 'completed')
  } else {
    t.equal(c.json().code, 'PURCHASE_NOT_PENDING')
    t.equal(job.voided, 1)
    t.same((await till.balances(member)).points, { balance: 1000, available: 1000, pending: 0 })
  }
})

t.test('a hold resolved behind the purchase: the void answers HOLD_ALREADY_RESOLVED, the job false, nothing written', async (t) => {
  const { member, purchase } = await heldSale()
  const holds = (await ctx.call(program.token, 'GET', `/v1/purchases/${purchase}`)).json()
  t.equal(holds.status, 'pending')
  const [row] = await queryRows<{ hold: string }>(ctx.database.db, sql`select holds->'storedValue'->>'holdId' as hold from purchases where program_id = ${program.id} and id = ${purchase}`)
  // As if resolved without the purchase row changing: released on the wallet too, so the ledger still verifies.
  await queryRows(ctx.database.db, sql`with h as (update holds set status = 'voided', resolved_at = now() where program_id = ${program.id} and id = ${row!.hold}::uuid returning account_id, amount)
    update ledger_accounts a set debits_pending = a.debits_pending - h.amount from h where a.program_id = ${program.id} and a.id = h.account_id`)
  const v = await voidIt(purchase)
  t.equal(v.statusCode, 409)
  t.match(v.json(), { code: 'HOLD_ALREADY_RESOLVED', holdStatus: 'voided' })
  t.equal(await expirePlanned(ctx.database, program.id, purchase, new Date(Date.now() + 31 * 60_000)), false)
  t.equal((await ctx.call(program.token, 'GET', `/v1/purchases/${purchase}`)).json().status, 'pending', 'nothing of either plan was written')
  t.same((await till.balances(member)).points, { balance: 1000, available: 500, pending: 500 }, 'the points hold still holds')
  // Leave the ledger as the afterEach verifies it: end the points hold the same way.
  await queryRows(ctx.database.db, sql`update purchases set status = 'voided' where program_id = ${program.id} and id = ${purchase}`)
})

t.test('a hold placed on a due lot between a void\'s load and its apply: the expiry of the released points is sized again, not refused', async (t) => {
  const own = await ctx.createProgram({ rules: { ...VND_RULES, holdMinutes: 30, pointsExpiry: { afterDays: 365, roundUpTo: 'day', restoredGraceDays: 30 } } })
  const ownTill = new Till(ctx, own.token)
  const m = await ctx.enrol(own.token)
  await ownTill.grantPoints(m.id, 1000)
  const hold = (points: number) => ownTill.purchase(m.id, [{ sku: 'H', quantity: 1, unitPrice: String(points * 100) }], [{ type: 'points', points }], { capture: false })
  const a = (await hold(500)).json()
  // The lot is past due (the expiry job has not run): a void gives the 500 back to it and expires the lot's free part at once.
  await queryRows(ctx.database.db, sql`update points_lots set expires_at = now() - interval '1 minute' where program_id = ${own.id} and member_id = ${m.id}`)
  let placed: { statusCode: number } | undefined
  const racing: Database = {
    ...ctx.database,
    apply: async (plan) => {
      // Between the void's load and its apply, another held sale reserves 300 of the lot's free points.
      placed ??= await hold(300)
      return ctx.database.apply(plan)
    },
  }
  const [program] = await ctx.database.db.select().from(programs).where(eq(programs.id, own.id))
  const res = await voidPlanned(racing, program!, a.id, undefined, { actor: 'test', baseUrl: 'https://r.example', idempotency: { key: idemKey('v'), hash: 'h' } })
  t.equal(placed?.statusCode, 201)
  t.equal(res.status, 200)
  t.same((await ownTill.balances(m.id)).points, { balance: 300, available: 0, pending: 300 }, '700 free points expired; the new hold keeps its 300')
  const [lot] = await queryRows<{ remaining: string; held: string }>(ctx.database.db, sql`select remaining::text, held::text from points_lots where program_id = ${own.id} and member_id = ${m.id}`)
  t.same(lot, { remaining: '300', held: '300' })
  const report = await ownTill.verify()
  t.equal(report.ok, true, JSON.stringify(report.discrepancies))
})
