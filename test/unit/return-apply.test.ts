// A return as the one plan the executor applies (purchases/returns.ts, planReturnData): the purchase
// locked at the version loaded (and the wallets when a clamp records a debt), the entry and its lot
// steps, the return's row, the purchase's changed columns, the coupons a full return gives back,
// the receipt with its fills, return.completed and the idempotency record.
import t from 'tap'
import { earningRules, vndProgram } from '../helpers/plan-fixtures.js'
import { planPurchase, readSale } from '../../src/modules/purchases/plan.js'
import { planReturnData, returnLocks, type ReturnLoad, type ReturnRequest } from '../../src/modules/purchases/returns.js'
import type { PurchaseCreate } from '../../src/modules/purchases/schemas.js'
import type { PurchaseRow } from '../../src/modules/purchases/tables.js'
import type { RowStep } from '../../src/db/apply.js'

const now = new Date('2026-12-01T10:00:00Z')
const memberId = '00000000-0000-4000-8000-0000000000aa'
const saleEntry = '00000000-0000-4000-8000-0000000000e1'
const program = vndProgram(now)
const rules = earningRules

/** 300,000 VND: SHIRT 2 x 100,000 + HAT 100,000, paid 100,000 stored value + 500 points + 150,000 card; earns 25. */
function mixed(tenders?: PurchaseCreate['tenders']): PurchaseRow {
  const input: PurchaseCreate = {
    memberId, storeId: 'S1', terminalId: 'T1', externalId: 'R-1', currency: 'VND', capture: true,
    lines: [{ sku: 'SHIRT', name: 'SHIRT', quantity: 2, unitPrice: '100000' }, { sku: 'HAT', name: 'HAT', quantity: 1, unitPrice: '100000' }],
    tenders: tenders ?? [{ type: 'storedValue', amount: '100000' }, { type: 'points', points: 500 }, { type: 'card', amount: '150000' }],
  }
  const ctx = { now, actor: 'pos', purchaseId: '00000000-0000-4000-8000-0000000000b1', entryId: saleEntry }
  return planPurchase({ program, rules: rules(), rulesEffectiveFrom: program.rulesEffectiveFrom, memberId, tierCode: null, coupons: [] }, readSale(program, input, now), input, ctx).row
}

const request = (input: ReturnRequest['input']): ReturnRequest => ({ program, purchaseId: mixed().id, input, actor: 'pos', baseUrl: 'https://r.example', idempotency: { key: 'k', hash: 'h' } })
const load = (over: Partial<ReturnLoad> = {}): ReturnLoad => ({ row: mixed(), version: '42', originalReceiptId: 'rcpt-sale', rules: rules(), pointsAvailable: 1_000_000n, redemptions: [], lots: new Map(), ...over })
const ids = { now, returnId: '00000000-0000-4000-8000-0000000000f1', entryId: '00000000-0000-4000-8000-0000000000f2' }

t.test('a partial return: the purchase at its version, the entry restoring and consuming lots, the rows, the receipt and the key', async (t) => {
  const { data, answer, clamps } = planReturnData(request({ lines: [{ sku: 'HAT', quantity: 1 }] }), load(), ids)
  t.ok(clamps, 'the clamp policy read the points')
  t.same(data.locks, [{ table: 'purchases', key: { id: mixed().id }, version: '42', missing: { code: 'LL404', message: 'purchase_not_found' } }], 'no debt: only the purchase')
  t.same(data.member, { id: memberId, refuseErased: false })
  t.equal(data.entries!.length, 1)
  t.same(data.lots!.map((l) => l.kind), ['consume', 'restore'], 'the clawback from the sale’s lot, the redeemed points back to their lots')
  t.match(data.lots![0], { kind: 'consume', points: '9', preferEntry: saleEntry })
  t.match(data.lots![1], { kind: 'restore', points: '166', original: saleEntry })
  const [insert, update, ...coupons] = data.rows as RowStep[]
  t.match(insert, { op: 'insert', table: 'purchase_returns', rows: [{ id: ids.returnId, amount: '100000', points_clawed_back: '9', points_debt: '0', entry_id: ids.entryId }] })
  t.match(update, { op: 'update', table: 'purchases', key: { id: mixed().id }, set: { returned_total: '100000', points_clawed_back: '9', return_mode: 'lines', updated_at: now.toISOString() } })
  t.same(Object.keys((update as { set: object }).set).sort(), ['lines', 'points_clawed_back', 'points_debt', 'return_mode', 'returned_total', 'tenders', 'updated_at'])
  t.same(coupons, [], 'a partial return keeps its coupons')
  const [receipt] = data.receipts!
  t.match(receipt!.row, { kind: 'return', source_id: ids.returnId, purchase_id: mixed().id, entry_id: ids.entryId, original_receipt_id: 'rcpt-sale' })
  t.same(receipt!.fills!.slice(3), [
    { path: ['tenders', 0, 'balanceAfter'], fact: 'storedValue.available' },
    { path: ['tenders', 1, 'pointsBalanceAfter'], fact: 'points.available' },
  ], 'the tenders refunded to a wallet show its balance after')
  t.same(data.events!.map((e) => e.row.type), ['return.completed'])
  t.match(data.idempotency, { key: 'k', hash: 'h', status: 201, fills: [{ path: ['balances'], fact: 'balances' }] })
  t.match(answer, { id: ids.returnId, amount: '100000', pointsClawedBack: 9, balances: null, receipt: { number: receipt!.row.number } })
})

t.test('a full return gives its coupons back', async (t) => {
  const redemptions = [{ id: 'red1', campaignId: 'c1', code: 'SAVE', memberId, discount: 5000n, countsMemberUses: false }]
  const { data } = planReturnData(request({ amount: '300000' }), load({ redemptions }), ids)
  t.same((data.rows as RowStep[]).slice(2).map((r) => r.table), ['coupon_redemptions', 'coupon_campaigns', 'coupons'])
})

t.test('a clamped clawback that records a debt locks the wallets that exist, in account-id order, at their versions', async (t) => {
  // Paid by card: 30 earned, the member has 10 left; 20 are owed.
  const row = mixed([{ type: 'card', amount: '300000' }])
  const { data } = planReturnData(request({ amount: '300000' }), load({ row, pointsAvailable: 10n, walletVersions: { 'bb-points': '7', 'aa-stored': '9' } }), ids)
  t.match((data.rows as RowStep[])[0], { rows: [{ points_clawed_back: '10', points_debt: '20' }] })
  t.same(data.locks!.slice(1), [
    { table: 'ledger_accounts', key: { id: 'aa-stored' }, version: '9', missing: { code: 'LL300', message: 'stale:ledger_accounts' } },
    { table: 'ledger_accounts', key: { id: 'bb-points' }, version: '7', missing: { code: 'LL300', message: 'stale:ledger_accounts' } },
  ])
  t.same(returnLocks(mixed(), '1', { pointsDebt: 0n }, { w: '3' }).length, 1, 'no debt: the purchase alone')
})

t.test('negative_balance: the clawback takes the loaded lots exactly, and cannot be planned without them', async (t) => {
  const negative = rules({ clawbackPolicy: 'negative_balance' })
  const lots = new Map([[memberId, { lots: [{ id: 'L', expiresAt: null, remaining: 30n, held: 0n, sourceEntryId: saleEntry }], reservations: [] }]])
  const { data, clamps } = planReturnData(request({ amount: '300000' }), load({ rules: negative, pointsAvailable: undefined, lots }), ids)
  t.notOk(clamps)
  t.match(data.lots!.find((l) => l.kind === 'shares'), { kind: 'shares', shares: [{ lot_id: 'L', points: '25', held: '0' }] })
  t.throws(() => planReturnData(request({ amount: '300000' }), load({ rules: negative, pointsAvailable: undefined }), ids), RangeError)
})
