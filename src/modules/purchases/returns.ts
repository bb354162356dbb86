// A return of lines or an amount as one plan (src/db/apply.ts): load (the purchase at its version,
// its sale's receipt, its member's wallets and coupons, read together; the rules of the sale's time;
// for a clawback into an overdraft, the lots it takes), decide (return-plan.ts, pure), apply: the
// entry and its lots, the return's row, the purchase, the coupons released, the receipt,
// return.completed and the idempotency record in one statement.
import { and, desc, eq, inArray, sql } from 'drizzle-orm'
import { toSnakeCase } from 'drizzle-orm/casing'
import type { Database } from '../../db/client.js'
import { appliedFresh, filled, PlanError, STALE, type Fill, type LockStep, type PlanData } from '../../db/apply.js'
import { rowVersion } from '../../db/core.js'
import { rowJson } from '../../db/row-json.js'
import { notFound, pgErrorOf } from '../../shared/errors.js'
import { newId } from '../../shared/ids.js'
import type { ProgramRules } from '../programs/rules.js'
import type { ProgramRow } from '../programs/tables.js'
import { accountId, giftCardWallet, memberWallets } from '../ledger/accounts.js'
import { entryStep } from '../ledger/entry-step.js'
import { insufficientFunds } from '../ledger/errors.js'
import { loadMemberLots } from '../ledger/lots.js'
import { lotSteps, overdraftMembers, type MemberLots } from '../ledger/lot-steps.js'
import { rememberAccounts } from '../ledger/repository.js'
import { ledgerAccounts } from '../ledger/tables.js'
import { couponReleaseSteps, loadActiveRedemptions, type ActiveRedemption } from '../coupons/release-plan.js'
import { nudgeDispatchers } from '../events/signal.js'
import { receiptLinkOf } from '../receipts/links.js'
import { returnReceiptSteps } from '../receipts/plan-steps.js'
import { receipts } from '../receipts/tables.js'
import { rulesAt } from './load.js'
import { exponentOf } from './plan.js'
import { clampReads, planReturn, readReturn, type ReturnPlan } from './return-plan.js'
import type { ReturnInput } from './schemas.js'
import { purchaseReturns, purchases, type PurchaseRow } from './tables.js'
import type { ReturnResult } from './return-result.js'
import { returnView } from './views.js'

export type { ReturnResult } from './return-result.js'

/** What the return's decision and its guards rest on, read without locks. */
export interface ReturnLoad {
  row: PurchaseRow
  version: string
  originalReceiptId: string | null
  /** The rules in force when the sale happened. */
  rules: ProgramRules
  /** Only when the clamp policy must know it (clampReads), with the versions of the member's wallets (by id). */
  pointsAvailable?: bigint
  walletVersions?: Record<string, string>
  /** Only for a full return. */
  redemptions: ActiveRedemption[]
  /** Only for a clawback allowed into an overdraft. */
  lots: Map<string, MemberLots>
}

/**
 * The first and usually only load, its reads sent together: the purchase at its version, the sale's
 * receipt the return points at (the capture's of a held sale, else the sale's; receipts never
 * change), the wallets of the purchase's member (a clamped clawback decides on its points; a member
 * who never topped up has no stored-value wallet) and the coupons the purchase still holds (a full
 * return gives them back): small reads by index, cheaper read at once than in a second round trip.
 */
async function loadPurchase(database: Database, programId: string, purchaseId: string) {
  const db = database.db
  const ofPurchase = and(eq(purchases.programId, programId), eq(purchases.id, purchaseId))
  const [[found], [receipt], wallets, redemptions] = await Promise.all([
    db.select({ row: purchases, version: rowVersion(purchases) }).from(purchases).where(ofPurchase),
    db
      .select({ id: receipts.id })
      .from(receipts)
      .where(and(eq(receipts.programId, programId), eq(receipts.purchaseId, purchaseId), inArray(receipts.kind, ['capture', 'purchase'])))
      .orderBy(sql`${receipts.kind} = 'capture' desc`, desc(receipts.id))
      .limit(1),
    db
      .select({ id: ledgerAccounts.id, available: sql<string>`${ledgerAccounts.creditsPosted} - ${ledgerAccounts.debitsPosted} - ${ledgerAccounts.debitsPending}`, version: rowVersion(ledgerAccounts) })
      .from(ledgerAccounts)
      .where(and(eq(ledgerAccounts.programId, programId), inArray(ledgerAccounts.memberId, db.select({ memberId: purchases.memberId }).from(purchases).where(ofPurchase)))),
    loadActiveRedemptions(db, programId, purchaseId),
  ])
  if (!found) throw notFound('Purchase')
  return { ...found, originalReceiptId: receipt?.id ?? null, wallets, redemptions }
}

/** The member's points available, with the versions of the member's wallets that exist. */
function pointsOf(loaded: { id: string; available: string; version: string }[], wallets: { points: string; storedValue: string }) {
  const mine = loaded.filter((w) => w.id === wallets.points || w.id === wallets.storedValue)
  const points = mine.find((w) => w.id === wallets.points)
  return { available: points ? BigInt(points.available) : 0n, versions: Object.fromEntries(mine.map((w) => [w.id, w.version])) }
}

/**
 * The rows the plan locks at the version loaded: the purchase, and when the clamp policy recorded
 * a debt, the member's wallets that exist (in account-id order, the wallets step's order) at their
 * versions: the debt is right only while the member has no more points than the load read.
 */
export function returnLocks(row: PurchaseRow, version: string, plan: Pick<ReturnPlan, 'pointsDebt'>, walletVersions: Record<string, string> | undefined): LockStep[] {
  const locks: LockStep[] = [{ table: 'purchases', key: { id: row.id }, version, missing: { code: 'LL404', message: 'purchase_not_found' } }]
  if (plan.pointsDebt <= 0n || !walletVersions) return locks
  const wallets = Object.entries(walletVersions).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
  return [...locks, ...wallets.map(([id, v]): LockStep => ({ table: 'ledger_accounts', key: { id }, version: v, missing: { code: 'LL300', message: 'stale:ledger_accounts' } }))]
}

/**
 * The gift cards a refund goes back to, locked as a sale paying with them locks them (the card's
 * row, then its wallet, in card-id order), after the purchase: a return and a sale of the same card
 * then take its locks in the same order.
 */
export function giftCardRefundLocks(program: Pick<ProgramRow, 'id' | 'currency'>, refunds: ReturnPlan['refunds']): LockStep[] {
  const ids = [...new Set(refunds.filter((p) => p.type === 'giftCard' && p.amount > 0n).map((p) => p.giftCardId!))].sort()
  return ids.flatMap((id): LockStep[] => [
    { table: 'gift_cards', key: { id } },
    { table: 'ledger_accounts', key: { id: accountId(program.id, giftCardWallet(id, program.currency)) } },
  ])
}

/** The purchase's changed columns as the row step sets them. */
function purchaseSet(row: PurchaseRow, changed: ReturnPlan['purchase']): Record<string, unknown> {
  const full = rowJson(purchases, { ...row, ...changed })
  return Object.fromEntries(Object.keys(changed).map((k) => [toSnakeCase(k), full[toSnakeCase(k)]]))
}

const ANSWER_FILLS: Fill[] = [{ path: ['balances'], fact: 'balances' }]

export interface ReturnRequest {
  program: ProgramRow
  purchaseId: string
  input: ReturnInput
  actor: string
  baseUrl: string
  idempotency: { key: string; hash: string }
}

/** Pure: the return decided on what was loaded, as one plan, and its answer with the balances left to fill. */
export function planReturnData(r: ReturnRequest, load: ReturnLoad, ctx: { now: Date; returnId: string; entryId: string }) {
  const { program } = r
  const { row, rules } = load
  const read = readReturn(row, r.input, program)
  const plan = planReturn(row, read, { program, rules, pointsAvailable: load.pointsAvailable }, { now: ctx.now, actor: r.actor, returnId: ctx.returnId, entryId: ctx.entryId })
  const entry = plan.entry ? entryStep(program.id, plan.entry, r.actor) : undefined
  const lots = plan.entry ? lotSteps(program.id, ctx.entryId, plan.entry, load.lots) : []
  if (!lots) throw new RangeError('a clawback into an overdraft needs the member’s lots loaded')
  const result: ReturnResult = {
    id: plan.record.id,
    purchaseId: row.id,
    memberId: row.memberId,
    before: row,
    reason: plan.record.reason,
    amount: plan.amount,
    refunds: plan.refunds,
    pointsClawedBack: plan.pointsClawedBack,
    pointsDebt: plan.pointsDebt,
    entryId: plan.record.entryId,
    createdAt: plan.record.createdAt,
  }
  const receipt = returnReceiptSteps(program, row, result, read.requested, load.originalReceiptId, ctx.now)
  const answer = { ...returnView(program, result), balances: null, receipt: receiptLinkOf(receipt.receipt, r.baseUrl) }
  const { memberId } = row
  const data: PlanData = {
    program: program.id,
    // The return of a sale that named no member (gift cards and money) has no member and no wallets.
    ...(memberId === null ? {} : { member: { id: memberId, refuseErased: false }, wallets: memberWallets(program, memberId, exponentOf(program)) }),
    locks: [...returnLocks(row, load.version, plan, load.walletVersions), ...giftCardRefundLocks(program, plan.refunds)],
    entries: entry ? [entry.step] : [],
    lots,
    rows: [
      { op: 'insert', table: 'purchase_returns', rows: [rowJson(purchaseReturns, plan.record)] },
      { op: 'update', table: 'purchases', key: { id: row.id }, set: purchaseSet(row, plan.purchase) },
      ...(plan.releasesCoupons ? couponReleaseSteps(load.redemptions, ctx.now) : []),
    ],
    receipts: receipt.receipts,
    events: receipt.events,
    idempotency: { ...r.idempotency, status: 201, body: answer, fills: memberId === null ? [] : ANSWER_FILLS },
  }
  return { data, answer, fills: memberId === null ? [] : ANSWER_FILLS, accountIds: entry?.accountIds ?? [], clamps: load.pointsAvailable !== undefined }
}

/** Loads what the return's decision needs: the purchase first (its member, its time), then the rest together. */
async function loadReturn(database: Database, r: ReturnRequest): Promise<ReturnLoad> {
  const { program } = r
  const { row, version, originalReceiptId, wallets, redemptions } = await loadPurchase(database, program.id, r.purchaseId)
  // What needs nothing more is refused before the rules are read.
  const read = readReturn(row, r.input, program)
  const { rules } = await rulesAt(database.db, program, row.occurredAt)
  const clamped = clampReads(row, read, { program, rules })
  const points = clamped ? pointsOf(wallets, { points: accountId(program.id, clamped.points), storedValue: accountId(program.id, clamped.storedValue) }) : undefined
  // A clawback into an overdraft takes exact lot shares: a dry plan tells whose lots (a second read, that policy only).
  const dry = planReturn(row, read, { program, rules, pointsAvailable: points?.available }, { now: new Date(), actor: r.actor, returnId: newId(), entryId: newId() })
  const members = dry.entry ? overdraftMembers(dry.entry) : []
  const lots = new Map(await Promise.all(members.map(async (m) => [m, await loadMemberLots(database.db, program.id, m)] as const)))
  return { row, version, originalReceiptId, rules, pointsAvailable: points?.available, walletVersions: points?.versions, redemptions, lots }
}

/** Applies the return; answers 201 as the route does, or throws its refusal. A plan the database finds out of date is loaded and decided again. */
export function postReturn(database: Database, r: ReturnRequest): Promise<{ status: number; body: unknown }> {
  return appliedFresh(async () => {
    const load = await loadReturn(database, r)
    const { data, answer, fills, accountIds, clamps } = planReturnData(r, load, { now: new Date(), returnId: newId(), entryId: newId() })
    let applied
    try {
      applied = await database.apply(data)
    } catch (err) {
      if (!(err instanceof PlanError)) throw err
      const pg = pgErrorOf(err)
      // A clamped clawback takes no more than the member had at the load: less there now means the load is out of date.
      if (pg.code === 'LL100' && clamps) throw new PlanError({ code: STALE, message: 'stale:ledger_accounts', constraint: null })
      if (pg.code === 'LL100') throw insufficientFunds(/insufficient_funds:(\S+)/.exec(err.message)?.[1] ?? 'POINTS')
      if (pg.code === 'LL404') throw notFound('Purchase')
      throw err
    }
    rememberAccounts(r.program.id, accountIds)
    if (applied.events.length > 0) nudgeDispatchers()
    return { status: 201, body: filled(answer, fills, applied.facts) }
  })
}
