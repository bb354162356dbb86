// A held sale (capture: false, member by id) on the write executor: load (the rules of the sale's
// time; together, the coupons it names with their limits, the member's tier, which sets the price,
// and the member's free lots when points are held) -> the pure plan (plan.ts) -> holds placed
// reserving exactly the lot shares reserveLots chose, the purchase naming its holds, the coupons
// redeemed (coupons/redeem-plan.ts), the receipt, its events and the idempotency record, in one
// statement. The tier row is locked at the version loaded. A lot or tier changed since the load
// makes the plan stale (LL300): it is loaded and planned again. A held sale counts towards neither
// the tier nor a referral until it is captured (pending.ts): no member guard, no metric.
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
import { couponRedeemSteps } from '../coupons/redeem-plan.js'
import { checkedCodes, resolvedCoupons } from '../coupons/resolve.js'
import { receiptLinkOf } from '../receipts/links.js'
import { saleReceiptSteps } from '../receipts/plan-steps.js'
import { refusalOf } from './applied.js'
import { tierLock } from '../tiers/upgrade-plan.js'
import { rulesAt } from './load.js'
import { assertSaleWindow, exponentOf, planPurchase, readSale, type PurchasePlan } from './plan.js'
import { loadSaleState } from './sale-load.js'
import type { PurchaseCreate } from './schemas.js'
import { purchaseRowJson, type StoredHolds } from './stored.js'
import type { PurchaseRow } from './tables.js'
import { purchaseView } from './views.js'

/** The held sales this path takes: the member named by id. */
export function authorizesInOne(input: PurchaseCreate): input is PurchaseCreate & { memberId: string } {
  return input.memberId !== undefined && !input.capture
}

/** What a held sale's plan needs of the sale state: the tier (its price), never a referral's, which only a captured sale decides. */
export const heldSaleRules = (rules: ProgramRules): ProgramRules => ({ ...rules, referral: null })

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
  input: PurchaseCreate & { memberId: string }
  actor: string
  baseUrl: string
  idempotency: { key: string; hash: string }
}

const ANSWER_FILLS: Fill[] = [{ path: ['balances'], fact: 'balances' }]

/** Posts the held sale (member by id); answers 201 as POST /v1/purchases does, or throws its refusal. */
export async function postHeldSale(database: Database, s: HeldSale): Promise<{ status: number; body: unknown }> {
  const { program, input } = s
  const now = new Date()
  const sale = readSale(program, input, now)
  const { rules, effectiveFrom } = await rulesAt(database.db, program, sale.occurredAt)
  assertSaleWindow(rules, sale.occurredAt, now)
  const codes = checkedCodes(input.couponCodes ?? [])
  const memberId = input.memberId
  const heldPoints = input.tenders.some((t) => t.type === 'points')
  return appliedFresh(async () => {
    const [state, lotsLoaded] = await Promise.all([
      codes.length > 0 || rules.tiers ? loadSaleState(database.db, program, heldSaleRules(rules), memberId, { codes, occurredAt: sale.occurredAt, now }) : undefined,
      heldPoints ? loadFreeLots(database.db, program.id, memberId) : undefined,
    ])
    const coupons = state ? resolvedCoupons(codes, state.coupons.rows, memberId) : []
    const purchaseId = newId()
    const tierCode = state?.tier?.current?.code ?? null
    const plan = planPurchase({ program, rules, rulesEffectiveFrom: effectiveFrom, memberId, tierCode, coupons }, sale, input, { now, actor: s.actor, purchaseId, entryId: newId() })
    const lots = lotsLoaded ?? (plan.holds.some((h) => h.kind === 'points') ? await loadFreeLots(database.db, program.id, memberId) : [])
    const { holds, row } = placeSteps(program.id, plan, lots, { points: newId(), storedValue: newId() })
    const receipt = saleReceiptSteps(program, { ...row, memberId }, rules.notifications, now)
    const answer = { ...purchaseView(program, row), balances: null, receipt: receiptLinkOf(receipt.receipt, s.baseUrl) }
    const data: PlanData = {
      program: program.id,
      member: { id: memberId, refuseErased: true },
      locks: state?.tier ? tierLock(memberId, state.tier) : [],
      holds,
      purchases: [purchaseRowJson(row)],
      rows: couponRedeemSteps(program.id, { purchaseId, memberId, now }, plan.redemptions),
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
      throw refusalOf(err, input, plan.redemptions, state?.coupons.limits ?? [])
    }
    if (applied.events.length > 0) nudgeDispatchers()
    return { status: 201, body: filled(answer, ANSWER_FILLS, applied.facts) }
  })
}
