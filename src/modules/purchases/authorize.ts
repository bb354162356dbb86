// A held sale (capture: false, member by id, no coupons, no tiers) on the write executor: load (the
// rules of the sale's time, the member's free lots when points are held) -> the pure plan
// (plan.ts) -> holds placed reserving exactly the lot shares reserveLots chose, the purchase naming
// its holds, the receipt, its events and the idempotency record, in one statement. A lot changed
// since the load makes the plan stale (LL300): it is loaded and planned again. Held sales with
// coupons (their redemption) or in a program with tiers (the member's tier sets the price) stay
// on the pipelined path (create.ts).
import { and, eq, gt } from 'drizzle-orm'
import { appliedFresh, filled, type Fill, type HoldStep, type PlanData } from '../../db/apply.js'
import type { Database, Executor } from '../../db/client.js'
import { newId } from '../../shared/ids.js'
import { nudgeDispatchers } from '../events/signal.js'
import { accountId, memberWallets } from '../ledger/accounts.js'
import { reserveLots, type LotState } from '../ledger/lot-plans.js'
import { pointsLots } from '../ledger/tables.js'
import type { ProgramRules } from '../programs/rules.js'
import type { ProgramRow } from '../programs/tables.js'
import { receiptLinkOf } from '../receipts/links.js'
import { saleReceiptSteps } from '../receipts/plan-steps.js'
import { refusalOf } from './applied.js'
import { rulesAt } from './load.js'
import { assertSaleWindow, exponentOf, planPurchase, readSale, type PurchasePlan } from './plan.js'
import type { PurchaseCreate } from './schemas.js'
import { purchaseRowJson, type StoredHolds } from './stored.js'
import type { PurchaseRow } from './tables.js'
import { purchaseView } from './views.js'

/** The held sales this path takes; the others need the member's tier or coupon redemption. */
export function authorizesInOne(rules: ProgramRules, input: PurchaseCreate): input is PurchaseCreate & { memberId: string } {
  return input.memberId !== undefined && !input.capture && !rules.tiers && (input.couponCodes ?? []).length === 0
}

/**
 * Pure: the holds of a pending sale as plan steps, in the plan's (account-id) order, a points hold
 * reserving exactly the free lot shares reserveLots picks; and the purchase row naming them.
 */
export function placeSteps(programId: string, plan: Pick<PurchasePlan, 'holds' | 'row'>, lots: LotState[], holdIds: { points: string; storedValue: string }): { holds: HoldStep[]; row: PurchaseRow } {
  const placed: StoredHolds = {}
  const holds: HoldStep[] = plan.holds.map((h) => {
    const holdId = holdIds[h.kind]
    if (h.kind === 'points') placed.points = { holdId, points: h.amount.toString() }
    else placed.storedValue = { holdId, amount: h.amount.toString() }
    return {
      op: 'place',
      holdId,
      accountId: accountId(programId, h.ref),
      asset: h.ref.asset,
      amount: h.amount.toString(),
      expiresAt: plan.row.holdExpiresAt!.toISOString(),
      referenceType: 'purchase',
      referenceId: plan.row.id,
      lots: h.kind === 'points' ? reserveLots(lots, h.amount).map((s) => ({ lot_id: s.lotId, points: s.points.toString() })) : [],
    }
  })
  return { holds, row: { ...plan.row, holds: { ...placed, ...(plan.row.holds as StoredHolds) } } }
}

/** The member's lots with free points. */
async function loadFreeLots(db: Executor, programId: string, memberId: string): Promise<LotState[]> {
  return db
    .select({ id: pointsLots.id, expiresAt: pointsLots.expiresAt, remaining: pointsLots.remaining, held: pointsLots.held })
    .from(pointsLots)
    .where(and(eq(pointsLots.programId, programId), eq(pointsLots.memberId, memberId), gt(pointsLots.remaining, pointsLots.held)))
}

export interface HeldSale {
  program: ProgramRow
  input: PurchaseCreate
  actor: string
  baseUrl: string
  idempotency: { key: string; hash: string }
}

const ANSWER_FILLS: Fill[] = [{ path: ['balances'], fact: 'balances' }]

/** Posts the held sale when this path takes it (answers 201 as POST /v1/purchases does, or throws its refusal); undefined, with nothing written, when it does not. */
export async function postHeldSale(database: Database, s: HeldSale): Promise<{ status: number; body: unknown } | undefined> {
  const { program, input } = s
  const now = new Date()
  const sale = readSale(program, input, now)
  const { rules, effectiveFrom } = await rulesAt(database.db, program, sale.occurredAt)
  if (!authorizesInOne(rules, input)) return undefined
  assertSaleWindow(rules, sale.occurredAt, now)
  const memberId = input.memberId
  return appliedFresh(async () => {
    const purchaseId = newId()
    const plan = planPurchase({ program, rules, rulesEffectiveFrom: effectiveFrom, memberId, tierCode: null, coupons: [] }, sale, input, { now, actor: s.actor, purchaseId, entryId: newId() })
    const lots = plan.holds.some((h) => h.kind === 'points') ? await loadFreeLots(database.db, program.id, memberId) : []
    const { holds, row } = placeSteps(program.id, plan, lots, { points: newId(), storedValue: newId() })
    const receipt = saleReceiptSteps(program, row, rules.notifications, now)
    const answer = { ...purchaseView(program, row), balances: null, receipt: receiptLinkOf(receipt.receipt, s.baseUrl) }
    const data: PlanData = {
      program: program.id,
      member: { id: memberId, refuseErased: true },
      holds,
      purchases: [purchaseRowJson(row)],
      wallets: memberWallets(program, memberId, exponentOf(program)),
      receipts: receipt.receipts,
      events: receipt.events,
      unusual: receipt.unusual,
      idempotency: { ...s.idempotency, status: 201, body: answer, fills: ANSWER_FILLS },
    }
    let applied
    try {
      applied = await database.apply(data)
    } catch (err) {
      throw refusalOf(err, input)
    }
    if (applied.events.length > 0) nudgeDispatchers()
    return { status: 201, body: filled(answer, ANSWER_FILLS, applied.facts) }
  })
}
