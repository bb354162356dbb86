// The purchase row lock of the transaction paths (returns.ts), and the capture that still takes
// one: load, plan (capture-plan.ts), apply. Other captures, voids and hold expiry: pending.ts.
import { and, eq } from 'drizzle-orm'
import type { Executor } from '../../db/client.js'
import { runnerOf } from '../../db/pipeline.js'
import { newId } from '../../shared/ids.js'
import { notFound } from '../../shared/errors.js'
import type { ProgramRow } from '../programs/tables.js'
import { postEntry, resolveHold, type ResolvedHold } from '../ledger/service.js'
import { takeReserved } from '../ledger/lot-plans.js'
import { expireReleased } from '../ledger/expiry.js'
import { rewardReferral } from '../referrals/service.js'
import { findTier, tierMetric, type TierChange } from '../tiers/service.js'
import { planCapture, readCapture } from './capture-plan.js'
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

const updateOf = (tx: Executor, programId: string, purchaseId: string, set: Partial<PurchaseRow>) =>
  tx
    .update(purchases)
    .set(set)
    .where(and(eq(purchases.programId, programId), eq(purchases.id, purchaseId)))

/**
 * A capture in a program with tiers or a referral rule, in one transaction behind the purchase's
 * row lock: the tier upgrade and the referral reward are not plan steps yet. Every other capture,
 * and every void and hold expiry, is a plan (pending.ts).
 */
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
