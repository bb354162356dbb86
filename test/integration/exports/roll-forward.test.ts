// A seeded program with hand-computed figures: purchases, returns and top-ups through the API;
// expiry and bonus entries (issue 5 adds their jobs) posted straight through the ledger service
// with the postings those jobs will make.
import t from 'tap'
import { setTimeout as sleep } from 'node:timers/promises'
import { startTestApp } from '../../helpers/app.js'
import { csvObjects } from '../../helpers/csv.js'
import { idemKey, Till, VND_RULES } from '../../helpers/pos.js'
import { memberPoints, pointsBreakage, pointsIssued } from '../../../src/modules/ledger/accounts.js'
import { transfer } from '../../../src/modules/ledger/planner.js'
import { postEntry } from '../../helpers/post-plan.js'

const ctx = await startTestApp(t)
const program = await ctx.createProgram({ rules: { ...VND_RULES, offlineWindowHours: 24 * 90 } })
const s1 = new Till(ctx, program.token, 'VND', 'S1')
const s2 = new Till(ctx, program.token, 'VND', 'S2')

/** An instant strictly after everything posted so far and strictly before anything posted next. */
async function boundary(): Promise<string> {
  await sleep(3)
  const at = new Date().toISOString()
  await sleep(3)
  return at
}

const post = (kind: 'expiry' | 'bonus', memberId: string, points: bigint) =>
  postEntry(
    ctx.database,
    program.id,
    {
      kind,
      effectiveAt: new Date(),
      memberId,
      reason: kind === 'expiry' ? 'points expired' : 'birthday bonus',
      legs: kind === 'expiry' ? transfer(memberPoints(memberId), pointsBreakage(), points) : transfer(pointsIssued(), memberPoints(memberId), points),
    },
    'test',
  )

const reverse = async (entryId: string) => {
  const res = await ctx.call(program.token, 'POST', `/v1/ledger/entries/${entryId}/reversal`, { reason: 'posted in error' }, { 'idempotency-key': idemKey('rev') })
  if (res.statusCode !== 201) throw new Error(res.body)
}

const start = await boundary()
// Period 1: a top-up, a grant, a purchase paying with stored value, points and card.
const lan = await ctx.enrol(program.token)
await s1.topUp(lan.id, '200000')
await s1.grantPoints(lan.id, 500)
const bought = await s1.purchase(
  lan.id,
  [
    { sku: 'SHIRT', quantity: 2, unitPrice: '100000' },
    { sku: 'HAT', quantity: 1, unitPrice: '100000' },
  ],
  [
    { type: 'storedValue', amount: '100000' },
    { type: 'points', points: 500 },
    { type: 'card', amount: '150000' },
  ],
)
if (bought.statusCode !== 201) throw new Error(bought.body)
const mid = await boundary()

// Period 2: a return, a grant reversed, expiry, a bonus, a top-up at another store reversed.
const returned = await s1.returnPurchase(bought.json().id, { lines: [{ sku: 'HAT', quantity: 1 }], reason: 'wrong size' })
if (returned.statusCode !== 201) throw new Error(returned.body)
const grant = await ctx.call(program.token, 'POST', `/v1/members/${lan.id}/points/adjustments`, { points: 100, reason: 'goodwill, "sorry"' }, { 'idempotency-key': idemKey('a') })
await reverse(grant.json().entry.id)
await post('expiry', lan.id, 10n)
await post('bonus', lan.id, 50n)
const minh = await ctx.enrol(program.token)
const topUp = await s2.topUp(minh.id, '50000')
await reverse(topUp.id)
const end = await boundary()

const liability = async (from: string, to: string) => {
  const res = await ctx.call(program.token, 'GET', `/v1/exports/liability?from=${encodeURIComponent(from)}&to=${encodeURIComponent(to)}`)
  if (res.statusCode !== 200) throw new Error(res.body)
  return res.json()
}
const asset = (report: { assets: { asset: string }[] }, name: string) => report.assets.find((a) => a.asset === name) as Record<string, any>
const fields = ['opening', 'issued', 'clawedBack', 'redeemed', 'refunded', 'expired', 'adjusted', 'reversed', 'other', 'closing'] as const
const figures = (row: Record<string, string>) => Object.fromEntries(fields.map((f) => [f, row[f]]))
const closes = (row: Record<string, string>) => {
  const n = (f: string) => BigInt(row[f]!)
  return n('opening') + n('issued') - n('clawedBack') - n('redeemed') + n('refunded') - n('expired') + n('adjusted') + n('reversed') + n('other') === n('closing')
}

t.test('period 1: a top-up, a grant and a purchase', async (t) => {
  const report = await liability(start, mid)
  t.equal(report.currency, 'VND')
  t.equal(report.pointValue, '100')
  t.same(figures(asset(report, 'POINTS')), {
    opening: '0',
    issued: '25', // 250,000 paid in money earns 25 points
    clawedBack: '0',
    redeemed: '500',
    refunded: '0',
    expired: '0',
    adjusted: '500',
    reversed: '0',
    other: '0',
    closing: '25',
  })
  t.same(figures(asset(report, 'VND')), {
    opening: '0',
    issued: '200000',
    clawedBack: '0',
    redeemed: '100000',
    refunded: '0',
    expired: '0',
    adjusted: '0',
    reversed: '0',
    other: '0',
    closing: '100000',
  })
  t.equal(asset(report, 'POINTS').value.closing, '2500', '25 points at 100 VND')
  t.equal(asset(report, 'VND').value, null, 'money is not revalued')
})

t.test('period 2: returns, a reversed grant, expiry, a bonus and a reversed top-up roll forward exactly', async (t) => {
  const report = await liability(mid, end)
  const points = asset(report, 'POINTS')
  t.same(figures(points), {
    opening: '25',
    issued: '50', // the bonus
    clawedBack: '9', // earned points of the returned hat
    redeemed: '0',
    refunded: '166', // the points tender given back (16,600 VND)
    expired: '10',
    adjusted: '100',
    reversed: '-100',
    other: '0',
    closing: '222',
  })
  t.ok(closes(points), 'opening + movements = closing')
  t.same(figures(points.value), {
    opening: '2500',
    issued: '5000',
    clawedBack: '900',
    redeemed: '0',
    refunded: '16600',
    expired: '1000',
    adjusted: '10000',
    reversed: '-10000',
    other: '0',
    closing: '22200',
  })
  const vnd = asset(report, 'VND')
  t.same(figures(vnd), {
    opening: '100000',
    issued: '50000',
    clawedBack: '0',
    redeemed: '0',
    refunded: '33333',
    expired: '0',
    adjusted: '0',
    reversed: '-50000',
    other: '0',
    closing: '133333',
  })
  t.ok(closes(vnd))

  t.same(
    vnd.byStore.map((s: Record<string, string>) => [s.storeId, s.opening, s.issued, s.refunded, s.reversed, s.closing]),
    [
      ['S1', '100000', '0', '33333', '0', '133333'],
      ['S2', '0', '50000', '0', '-50000', '0'],
    ],
  )
  t.same(
    points.byStore.map((s: Record<string, string>) => [s.storeId, s.opening, s.issued, s.clawedBack, s.refunded, s.expired, s.adjusted, s.reversed, s.closing]),
    [
      ['S1', '-475', '0', '9', '166', '0', '0', '0', '-318'],
      [null, '500', '50', '0', '0', '10', '100', '-100', '540'],
    ],
    'points earned and spent at S1; grants, expiry and bonus belong to no store',
  )
  for (const a of report.assets) {
    for (const s of a.byStore) t.ok(closes(s), `${a.asset} ${s.storeId} closes`)
    for (const f of fields) {
      const sum = a.byStore.reduce((acc: bigint, s: Record<string, string>) => acc + BigInt(s[f]!), 0n)
      t.equal(sum.toString(), a[f], `${a.asset} stores add up to the asset's ${f}`)
    }
  }
})

t.test('the closing of the two periods together is the wallets the members hold', async (t) => {
  const whole = await liability(start, end)
  t.equal(asset(whole, 'POINTS').closing, String((await s1.balances(lan.id)).points.balance))
  t.equal(asset(whole, 'VND').closing, '133333')
  t.equal(asset(whole, 'POINTS').opening, '0')
  for (const a of whole.assets) t.ok(closes(a))
})

t.test('the trial balance sums to zero per asset and lists every account', async (t) => {
  const res = await ctx.call(program.token, 'GET', `/v1/exports/trial-balance?asOf=${encodeURIComponent(end)}`)
  t.equal(res.statusCode, 200)
  const tb = res.json()
  t.same(
    tb.totals.map((x: Record<string, string>) => [x.asset, x.balance, x.debit === x.credit]),
    [
      ['POINTS', '0', true],
      ['VND', '0', true],
    ],
  )
  const byCode = Object.fromEntries(tb.accounts.map((a: Record<string, string>) => [a.code, a.balance]))
  t.equal(byCode[`member:${lan.id}:points`], '222')
  t.equal(byCode[`member:${lan.id}:stored_value:VND`], '133333')
  t.equal(byCode[`member:${minh.id}:stored_value:VND`], '0', 'a wallet that was loaded and reversed is listed at zero')
  t.equal(byCode.points_issued, '-66', '25 + 50 issued, 9 clawed back')
  t.equal(byCode.points_redeemed, '334')
  t.equal(byCode.points_breakage, '10')
  t.equal(byCode.points_adjustments, '-500')
  t.equal(byCode['store:S1:tender_clearing:VND'], '-200000')
  t.equal(byCode['store:S1:stored_value_settlement:VND'], '66667')
  t.same(
    tb.byType.find((x: Record<string, string>) => x.type === 'member_stored_value'),
    { asset: 'VND', type: 'member_stored_value', accounts: 2, debit: '0', credit: '133333', balance: '133333' },
  )

  const before = (await ctx.call(program.token, 'GET', `/v1/exports/trial-balance?asOf=${encodeURIComponent(start)}`)).json()
  t.same(before.accounts, [], 'nothing was effective before the first entry')
})

t.test('the journal CSV re-summed per account equals the trial balance', async (t) => {
  const csv = await ctx.call(program.token, 'GET', `/v1/exports/journal?from=${encodeURIComponent(start)}&to=${encodeURIComponent(end)}&format=csv`)
  t.equal(csv.statusCode, 200)
  const { rows } = csvObjects(csv.body)
  const tb = (await ctx.call(program.token, 'GET', `/v1/exports/trial-balance?asOf=${encodeURIComponent(end)}`)).json()
  const summed = new Map<string, bigint>()
  for (const r of rows) summed.set(r.account_code!, (summed.get(r.account_code!) ?? 0n) + BigInt(r.credit || '0') - BigInt(r.debit || '0'))
  t.same(Object.fromEntries([...summed].map(([k, v]) => [k, v.toString()])), Object.fromEntries(tb.accounts.map((a: Record<string, string>) => [a.code, a.balance])))

  // Opening trial balance + the period's journal = closing trial balance.
  const opening = (await ctx.call(program.token, 'GET', `/v1/exports/trial-balance?asOf=${encodeURIComponent(mid)}`)).json()
  const period = csvObjects((await ctx.call(program.token, 'GET', `/v1/exports/journal?from=${encodeURIComponent(mid)}&to=${encodeURIComponent(end)}`)).body).rows
  const rolled = new Map<string, bigint>(opening.accounts.map((a: Record<string, string>) => [a.code!, BigInt(a.balance!)]))
  for (const r of period) rolled.set(r.account_code!, (rolled.get(r.account_code!) ?? 0n) + BigInt(r.credit || '0') - BigInt(r.debit || '0'))
  t.same(Object.fromEntries([...rolled].map(([k, v]) => [k, v.toString()])), Object.fromEntries(tb.accounts.map((a: Record<string, string>) => [a.code, a.balance])))
  t.same([...new Set(period.map((r) => r.kind))].sort(), ['adjustment', 'bonus', 'expiry', 'return', 'reversal', 'top_up'], 'the purchase belongs to period 1')
})

t.test('the trial balance as CSV streams the same accounts with a TOTAL per asset', async (t) => {
  const res = await ctx.call(program.token, 'GET', `/v1/exports/trial-balance?asOf=${encodeURIComponent(end)}&format=csv`)
  t.equal(res.statusCode, 200)
  t.match(res.headers['content-type'], /^text\/csv/)
  const { rows } = csvObjects(res.body)
  const json = (await ctx.call(program.token, 'GET', `/v1/exports/trial-balance?asOf=${encodeURIComponent(end)}`)).json()
  const accounts = rows.filter((r) => r.account_id !== 'TOTAL')
  t.same(
    accounts.map((r) => [r.account_code, r.balance, r.debit, r.credit]).sort(),
    json.accounts.map((a: Record<string, string>) => [a.code, a.balance, a.debit, a.credit]).sort(),
  )
  t.same(
    rows.filter((r) => r.account_id === 'TOTAL').map((r) => [r.asset, r.balance]),
    [
      ['POINTS', '0'],
      ['VND', '0'],
    ],
  )
})
