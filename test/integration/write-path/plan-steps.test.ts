// The executor's steps for every command (migration 0020, src/db/apply.ts): rows locked at the
// version the load saw, holds placed and resolved, exact lot shares, generic row inserts and
// updates. Each refusal undoes its whole plan and names itself by SQLSTATE: LL300 when the load is
// out of date (the command loads again: appliedFresh), LL301 a hold resolved meanwhile, LL404 (or
// the plan's own code) a row that is not there, LL100 not enough available.
import t from 'tap'
import { sql } from 'drizzle-orm'
import { queryRows } from '../../../src/db/client.js'
import { appliedFresh, PlanError, type PlanData } from '../../../src/db/apply.js'
import { newId } from '../../../src/shared/ids.js'
import { accountId, memberPoints, memberStoredValue } from '../../../src/modules/ledger/accounts.js'
import { startTestApp } from '../../helpers/app.js'
import { idemKey, Till, VND_RULES } from '../../helpers/pos.js'

const ctx = await startTestApp(t)
const p = await ctx.createProgram({ rules: VND_RULES })
const till = new Till(ctx, p.token)
const member = await ctx.enrol(p.token)
await till.topUp(member.id, '100000')
const sale = await till.purchase(member.id, [{ sku: 'A', quantity: 1, unitPrice: '300000' }], [{ type: 'cash', amount: '300000' }])
t.equal(sale.statusCode, 201, sale.body)
const purchaseId = sale.json().id as string
const storedValue = accountId(p.id, memberStoredValue(member.id, 'VND'))
const points = accountId(p.id, memberPoints(member.id))

const one = <T>(rows: T[]) => rows[0]!
const read = async (q: ReturnType<typeof sql>) => one(await queryRows<Record<string, string>>(ctx.database.db, q))
const purchase = () => read(sql`select xmin::text as version, status, terminal_id as notes from purchases where program_id = ${p.id} and id = ${purchaseId}`)
const wallet = (id: string) => read(sql`select credits_posted - debits_posted as balance, debits_pending as pending from ledger_accounts where program_id = ${p.id} and id = ${id}`)
const refusal = async (plan: PlanData) => {
  try {
    await ctx.database.apply(plan)
  } catch (err) {
    if (err instanceof PlanError) return { code: err.code, message: err.message, constraint: err.constraint_name }
    throw err
  }
  return undefined
}
const lock = (version?: string) => ({ table: 'purchases', key: { id: purchaseId }, version, missing: { code: 'LL404', message: 'purchase_not_found' } })

t.test('a lock refuses a missing row, and a row changed since the load (stale)', async (t) => {
  const missing = await refusal({ program: p.id, locks: [{ ...lock(), key: { id: newId() } }] })
  t.same(missing, { code: 'LL404', message: 'purchase_not_found', constraint: undefined })
  const { version } = await purchase()
  t.equal(await refusal({ program: p.id, locks: [lock(version)] }), undefined, 'at the version loaded')
  await queryRows(ctx.database.db, sql`update purchases set terminal_id = 'changed' where program_id = ${p.id} and id = ${purchaseId}`)
  t.equal((await refusal({ program: p.id, locks: [lock(version)] }))?.code, 'LL300', 'after an update')
})

t.test('an update needs its row with the expected values; a stale plan writes none of its steps', async (t) => {
  const before = await purchase()
  const plan: PlanData = {
    program: p.id,
    rows: [
      { op: 'update', table: 'purchases', key: { id: purchaseId }, set: { terminal_id: 'first' }, expect: { status: 'completed' } },
      { op: 'update', table: 'purchases', key: { id: purchaseId }, set: { terminal_id: 'second' }, expect: { status: 'pending' } },
    ],
  }
  t.equal((await refusal(plan))?.code, 'LL300')
  t.equal((await purchase()).notes, before.notes, 'the first update was undone with the plan')
  t.equal(await refusal({ ...plan, rows: plan.rows!.slice(0, 1) }), undefined)
  t.equal((await purchase()).notes, 'first')
  const missing = await refusal({ program: p.id, rows: [{ op: 'update', table: 'purchases', key: { id: newId() }, set: { terminal_id: 'x' }, missing: { code: 'LL404', message: 'purchase_not_found' } }] })
  t.equal(missing?.code, 'LL404')
  await t.rejects(ctx.database.apply({ program: p.id, rows: [{ op: 'update', table: 'ledger_accounts', key: { id: points }, set: { floor: null } }] }), /may not update table ledger_accounts/)
})

t.test('inserts, with on-conflict addition, and additions a CHECK limits', async (t) => {
  const campaign = await ctx.call(p.token, 'POST', '/v1/coupons/campaigns', { name: 'Ten off', kind: 'fixed', value: '10000', codeMode: 'shared', sharedCode: 'STEPS', maxUsesPerMember: 2 }, { 'idempotency-key': idemKey() })
  t.equal(campaign.statusCode, 201, campaign.body)
  const campaignId = campaign.json().id as string
  const use = { program_id: p.id, campaign_id: campaignId, member_id: member.id, uses: 1, max_uses: 2 }
  const upsert: PlanData = { program: p.id, rows: [{ op: 'insert', table: 'coupon_member_uses', rows: [use], onConflict: { columns: ['program_id', 'campaign_id', 'member_id'], add: ['uses'] } }] }
  t.equal(await refusal(upsert), undefined)
  t.equal(await refusal(upsert), undefined)
  const uses = () => read(sql`select uses::text from coupon_member_uses where program_id = ${p.id} and campaign_id = ${campaignId} and member_id = ${member.id}`)
  t.equal((await uses()).uses, '2')
  const third = await refusal(upsert)
  t.equal(third?.code, '23514', 'the third use crosses the member limit')
  t.equal(third?.constraint, 'coupon_member_uses_uses_check')
  t.equal((await uses()).uses, '2')
  const back = await refusal({ program: p.id, rows: [{ op: 'update', table: 'coupon_member_uses', key: { campaign_id: campaignId, member_id: member.id }, add: { uses: '-1' } }] })
  t.equal(back, undefined)
  t.equal((await uses()).uses, '1')
})

t.test('a hold is placed once against what is available and resolved once', async (t) => {
  const holdId = newId()
  const place = (amount: string, id = holdId): PlanData => ({
    program: p.id,
    member: { id: member.id, refuseErased: true },
    holds: [{ op: 'place', holdId: id, accountId: storedValue, asset: 'VND', amount, expiresAt: new Date(Date.now() + 3_600_000).toISOString(), referenceType: 'test', referenceId: 'x', lots: [] }],
  })
  const tooMuch = await refusal(place('100001', newId()))
  t.same([tooMuch?.code, tooMuch?.message], ['LL100', 'insufficient_funds:VND'])
  t.equal(await refusal(place('60000')), undefined)
  t.same(await wallet(storedValue), { balance: '100000', pending: '60000' })
  const second = await refusal(place('60000', newId()))
  t.equal(second?.code, 'LL100', 'only 40,000 is left available')
  const resolve: PlanData = { program: p.id, holds: [{ op: 'resolve', holdId, status: 'voided', postedAmount: null, postedEntryId: null, reserved: [] }] }
  t.equal(await refusal(resolve), undefined)
  t.same(await wallet(storedValue), { balance: '100000', pending: '0' })
  t.same(await refusal(resolve), { code: 'LL301', message: 'hold_resolved:voided', constraint: undefined })
  t.equal((await refusal({ program: p.id, holds: [{ op: 'resolve', holdId: newId(), status: 'voided', postedAmount: null, postedEntryId: null }] }))?.code, 'LL404')
})

t.test('points holds reserve exact lot shares; a lot short of them, or reservations changed, is stale', async (t) => {
  const lots = await queryRows<{ id: string; remaining: string; held: string }>(
    ctx.database.db,
    sql`select id, remaining::text, held::text from points_lots where program_id = ${p.id} and member_id = ${member.id} order by id`,
  )
  t.equal(lots.length, 1, 'the sale opened a lot')
  const lot = lots[0]!
  t.equal(lot.remaining, '30')
  const holdId = newId()
  const place = (share: string): PlanData => ({
    program: p.id,
    holds: [{ op: 'place', holdId, accountId: points, asset: 'POINTS', amount: share, expiresAt: new Date(Date.now() + 3_600_000).toISOString(), referenceType: null, referenceId: null, lots: [{ lot_id: lot.id, points: share }] }],
  })
  t.equal((await refusal({ ...place('10'), holds: [{ ...(place('10').holds![0] as { op: 'place' } & Record<string, unknown>), lots: [{ lot_id: lot.id, points: '31' }] } as never] }))?.code, 'LL300', 'a share larger than the lot')
  t.equal(await refusal(place('10')), undefined)
  t.equal((await read(sql`select held::text from points_lots where program_id = ${p.id} and id = ${lot.id}`)).held, '10')
  const stale = await refusal({ program: p.id, holds: [{ op: 'resolve', holdId, status: 'voided', postedAmount: null, postedEntryId: null, reserved: [{ lot_id: lot.id, points: '9' }] }] })
  t.equal(stale?.code, 'LL300', 'the load saw another reservation')
  t.equal(await refusal({ program: p.id, holds: [{ op: 'resolve', holdId, status: 'voided', postedAmount: null, postedEntryId: null, reserved: [{ lot_id: lot.id, points: '10' }] }] }), undefined)
  t.same(await read(sql`select remaining::text, held::text from points_lots where program_id = ${p.id} and id = ${lot.id}`), { remaining: '30', held: '0' })
  t.same(await wallet(points), { balance: '30', pending: '0' })
  const short = await refusal({ program: p.id, lots: [{ kind: 'shares', entryId: newId(), shares: [{ lot_id: lot.id, points: '31', held: '0' }] }] })
  t.equal(short?.code, 'LL300', 'a share larger than what the lot holds')
})

t.test('appliedFresh loads and plans again while the plan is stale, and gives up after its attempts', async (t) => {
  let loads = 0
  const result = await appliedFresh(async () => {
    loads++
    const { version } = await purchase()
    // A concurrent writer changes the purchase between the first load and its plan.
    if (loads === 1) await queryRows(ctx.database.db, sql`update purchases set terminal_id = 'meanwhile' where program_id = ${p.id} and id = ${purchaseId}`)
    await ctx.database.apply({ program: p.id, locks: [lock(version)], rows: [{ op: 'update', table: 'purchases', key: { id: purchaseId }, set: { terminal_id: 'fresh' } }] })
    return loads
  })
  t.equal(result, 2, 'the second load applied')
  t.equal((await purchase()).notes, 'fresh')
  let tries = 0
  await t.rejects(
    appliedFresh(async () => {
      tries++
      await ctx.database.apply({ program: p.id, locks: [lock('0')] })
    }, 3),
    { code: 'LL300' },
  )
  t.equal(tries, 3)
})
