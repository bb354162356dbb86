// The executor's openings step (migration 0025, ll_plan_openings): opening balances of members new
// to the ledger, posted set-based. It refuses anything but credits to wallets it creates: another
// entry kind, a wallet that exists already (a member's balances are opened once), a lot that is
// not exactly an entry's points credit. A refusal undoes the whole plan.
import t from 'tap'
import { sql } from 'drizzle-orm'
import { PlanError, type PlanData } from '../../../src/db/apply.js'
import { queryRows } from '../../../src/db/client.js'
import { newId } from '../../../src/shared/ids.js'
import { openingsStep, openingWallets } from '../../../src/modules/ledger/opening-step.js'
import { startTestApp } from '../../helpers/app.js'
import { Till, VND_RULES } from '../../helpers/pos.js'

const ctx = await startTestApp(t)
const p = await ctx.createProgram({ rules: VND_RULES })
const program = { id: p.id, currency: 'VND' }
const at = { now: new Date(), actor: 'test', pointsExpireAt: null }

const opening = (memberId: string, points: bigint, storedValue: bigint) => ({ memberId, entryId: newId(), points, storedValue, referenceType: 'member_import', referenceId: 'test' })
const refusal = async (plan: PlanData) => {
  try {
    await ctx.database.apply(plan)
  } catch (err) {
    if (err instanceof PlanError) return { code: err.code, message: err.message, constraint: err.constraint_name }
    throw err
  }
  return undefined
}
const entries = async () => Number((await queryRows<{ n: string }>(ctx.database.db, sql`select count(*)::text as n from journal_entries where program_id = ${p.id}`))[0]!.n)
const balance = async (id: string) => (await queryRows<{ b: string }>(ctx.database.db, sql`select (credits_posted - debits_posted)::text as b from ledger_accounts where program_id = ${p.id} and id = ${id}`))[0]?.b

t.test('openings of new members: wallets created with their credit, one entry each, a lot for the points', async (t) => {
  const a = newId()
  const b = newId()
  const { step } = openingsStep(program, [opening(a, 120n, 5000n), opening(b, 0n, 700n)], at)
  t.equal(await refusal({ program: p.id, openings: step }), undefined)
  const [aPoints, aStored] = openingWallets(p.id, 'VND', a)
  t.same([await balance(aPoints!), await balance(aStored!), await balance(openingWallets(p.id, 'VND', b)[1]!)], ['120', '5000', '700'])
  const lots = await queryRows<{ points: string; remaining: string }>(ctx.database.db, sql`select points::text, remaining::text from points_lots where program_id = ${p.id} and member_id = ${a}`)
  t.same(lots, [{ points: '120', remaining: '120' }])
  const after = await queryRows<{ seq: number; balance_after: string | null }>(ctx.database.db, sql`select seq, balance_after::text from postings where program_id = ${p.id} and account_id = ${aPoints} order by seq`)
  t.same(after.map((r) => r.balance_after), ['120'], 'the wallet posting carries its balance after')
  t.equal((await ctx.call(p.token, 'GET', '/v1/ledger/verify')).json().ok, true, 'the ledger verifies')
})

t.test('a member whose wallets exist is not opened again: the plan is refused and undone', async (t) => {
  // A wallet this process knows exists is left out of the entry's accounts: the step's check refuses it.
  const member = await ctx.enrol(p.token)
  await new Till(ctx, p.token).topUp(member.id, '1000')
  const before = await entries()
  const fresh = newId()
  const known = await refusal({ program: p.id, openings: openingsStep(program, [opening(fresh, 1n, 0n), opening(member.id, 10n, 10n)], at).step })
  t.match(known, { code: 'P0001', message: /does more than credit wallets it creates/ })
  // One it does not know (another instance created it) is listed, and its primary key refuses the plan.
  const elsewhere = newId()
  const [points] = openingWallets(p.id, 'VND', elsewhere)
  await queryRows(ctx.database.db, sql`insert into ledger_accounts (program_id, id, code, type, asset, member_id, floor, tracks_balance)
                                       values (${p.id}, ${points!}, ${`member:${elsewhere}:points`}, 'member_points', 'POINTS', ${elsewhere}, 0, true)`)
  const unknown = await refusal({ program: p.id, openings: openingsStep(program, [opening(fresh, 1n, 0n), opening(elsewhere, 10n, 0n)], at).step })
  t.match(unknown, { code: '23505', constraint: 'ledger_accounts_pkey' })
  t.equal(await entries(), before, 'nothing posted, not even the other member’s opening')
  t.equal(await balance(openingWallets(p.id, 'VND', fresh)[0]!), undefined)
})

t.test('the step posts nothing but openings, and lots that are exactly their points', async (t) => {
  const before = await entries()
  const kind = openingsStep(program, [opening(newId(), 5n, 0n)], at).step
  kind.entries[0]!.entry.kind = 'adjustment'
  t.match(await refusal({ program: p.id, openings: kind }), { code: 'P0001', message: /does more than credit wallets it creates/ })
  const debit = openingsStep(program, [opening(newId(), 5n, 0n)], at).step
  debit.entries[0]!.postings = debit.entries[0]!.postings.map((x) => ({ ...x, amount: String(-BigInt(x.amount as string)) }))
  t.match(await refusal({ program: p.id, openings: debit }), { message: /does more than credit wallets it creates/ }, 'a debit of a wallet')
  const short = openingsStep(program, [opening(newId(), 5n, 0n)], at).step
  short.lots[0]!.points = '4'
  t.match(await refusal({ program: p.id, openings: short }), { message: /lots of opening entry .* are not its points credit/ })
  const missing = openingsStep(program, [opening(newId(), 5n, 0n)], at).step
  missing.lots = []
  t.match(await refusal({ program: p.id, openings: missing }), { message: /not its points credit/ }, 'points without their lot')
  t.equal(await entries(), before)
})
