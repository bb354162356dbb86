// The commands on a posted purchase: capture, void and expiry of a pending one: load, plan
// (capture-plan.ts), apply (returns: returns.ts, the sale itself: create.ts).
import { and, eq } from 'drizzle-orm'
import type { Executor } from '../../db/client.js'
import { runnerOf } from '../../db/pipeline.js'
import { newId } from '../../shared/ids.js'
import { notFound } from '../../shared/errors.js'
import type { ProgramRow } from '../programs/tables.js'
import { postEntry, resolveHold, type ResolvedHold } from '../ledger/service.js'
import { takeReserved } from '../ledger/lot-plans.js'
import { expireReleased } from '../ledger/expiry.js'
import { releaseCoupons } from '../coupons/service.js'
import { rewardReferral } from '../referrals/service.js'
import { findTier, tierMetric, type TierChange } from '../tiers/service.js'
import { planCapture, planHoldExpiry, planVoid, readCapture, type ReleasePlan } from './capture-plan.js'
import { upgradeIfQualified } from './create.js'
import { rulesAt } from './load.js'
import { purchases, type PurchaseRow } from './tables.js'

/** Locks the purchase row: captures, voids and returns of one purchase run one at a time. */
export async function lockPurchase(tx: Executor, programId: string, purchaseId: string): Promise<PurchaseRow> {
  const [row] = await tx
    .select()
    .from(purchases)
    .where(and(eq(purchases.programId, programId), eq(purchases.id, purchaseId)))
    .for('update')
  if (!row) throw notFound('Purchase')
  return row
}

/** Ends the purchase's holds and gives its coupons back; held points go back to their lots, and what is past due at `asOf` expires at once. */
async function release(tx: Executor, programId: string, purchaseId: string, plan: ReleasePlan): Promise<void> {
  for (const h of plan.holdIds) {
    await expireReleased(tx, programId, await resolveHold(tx, programId, h, plan.holdStatus), [], plan.asOf, plan.actor)
  }
  await releaseCoupons(runnerOf(tx), programId, purchaseId)
}

const updateOf = (tx: Executor, programId: string, purchaseId: string, set: Partial<PurchaseRow>) =>
  tx
    .update(purchases)
    .set(set)
    .where(and(eq(purchases.programId, programId), eq(purchases.id, purchaseId)))

export async function voidPurchase(tx: Executor, program: ProgramRow, purchaseId: string, reason: string | undefined): Promise<PurchaseRow> {
  const row = await lockPurchase(tx, program.id, purchaseId)
  const plan = planVoid(row, reason, new Date())
  await release(tx, program.id, purchaseId, plan)
  const [updated] = await updateOf(tx, program.id, purchaseId, plan.purchase).returning()
  return updated!
}

/** Voids one pending purchase whose hold deadline passed; false when it was resolved meanwhile. */
export async function expirePurchase(tx: Executor, programId: string, purchaseId: string, asOf: Date): Promise<boolean> {
  const row = await lockPurchase(tx, programId, purchaseId)
  const plan = planHoldExpiry(row, asOf, new Date())
  if (!plan) return false
  await release(tx, programId, purchaseId, plan)
  await updateOf(tx, programId, purchaseId, plan.purchase)
  return true
}

export async function capturePurchase(
  tx: Executor,
  program: ProgramRow,
  purchaseId: string,
  amountText: string | undefined,
  actor: string,
): Promise<{ row: PurchaseRow; tierChange?: TierChange }> {
  const row = await lockPurchase(tx, program.id, purchaseId)
  // Read once the lock is held: a capture that waited for it meets the hold's deadline as of when it acts.
  const now = new Date()
  const amount = readCapture(row, amountText, program, now)
  const { rules } = await rulesAt(tx, program, row.occurredAt)
  const plan = planCapture(row, amount, { program, rules }, { now, entryId: newId() })

  let pointsHold: ResolvedHold | undefined
  for (const h of plan.holds) {
    const resolved = await resolveHold(tx, program.id, h.holdId, 'posted', h.amount)
    if (h.kind === 'points') pointsHold = resolved
  }
  // The captured points come out of the lots the hold reserved; the rest goes back to them.
  const takeLots = pointsHold ? takeReserved(pointsHold.lots, plan.purchase.pointsRedeemed) : undefined
  if (plan.entry) await postEntry(tx, program.id, { ...plan.entry, takeLots }, actor)
  if (pointsHold) await expireReleased(tx, program.id, pointsHold, takeLots ?? [], now, actor)
  const [updated] = await updateOf(tx, program.id, purchaseId, plan.purchase).returning()
  // A captured sale counts towards the member's tier like any other.
  let tierChange: TierChange | undefined
  if (rules.tiers) {
    const current = await findTier(tx, program.id, row.memberId)
    const metric = await tierMetric(tx, program, rules.tiers, row.memberId, now)
    tierChange = await upgradeIfQualified(runnerOf(tx), program, rules.tiers, row.memberId, current?.code ?? null, metric, now, row.id)
  }
  if (rules.referral) await rewardReferral(runnerOf(tx), program, rules, { refereeId: row.memberId, purchaseId: row.id, at: now })
  return { row: updated!, tierChange }
}
