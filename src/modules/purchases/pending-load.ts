// What a capture, a void or a hold expiry reads before it decides, sent together and without locks:
// the purchase at its version, the lots its points hold reserves (lot_holds and points_lots, as the
// hold still reserves them), the sale's receipt, and, for a void or an expiry, its active coupon
// redemptions. The plan
// names what it read (pending-steps.ts), so a change meanwhile makes it stale instead of wrong.
import { and, desc, eq, getTableColumns, gt, inArray, sql } from 'drizzle-orm'
import type { Executor } from '../../db/client.js'
import { rowVersion } from '../../db/core.js'
import { AppError, notFound } from '../../shared/errors.js'
import { loadActiveRedemptions, type ActiveRedemption } from '../coupons/release-plan.js'
import { lotHolds, pointsLots } from '../ledger/tables.js'
import { receipts } from '../receipts/tables.js'
import type { PendingLoaded } from './pending-steps.js'
import { purchases } from './tables.js'

export async function loadPending(db: Executor, programId: string, purchaseId: string, want: { redemptions: boolean }): Promise<PendingLoaded & { redemptions: ActiveRedemption[]; saleReceiptId: string | null }> {
  const pointsHoldOf = db
    .select({ id: sql`(${purchases.holds}->'points'->>'holdId')::uuid` })
    .from(purchases)
    .where(and(eq(purchases.programId, programId), eq(purchases.id, purchaseId)))
  const [rows, lots, redemptions, saleReceipt] = await Promise.all([
    db
      .select({ ...getTableColumns(purchases), version: rowVersion(purchases) })
      .from(purchases)
      .where(and(eq(purchases.programId, programId), eq(purchases.id, purchaseId))),
    db
      .select({
        holdId: lotHolds.holdId,
        lotId: lotHolds.lotId,
        points: sql<string>`${lotHolds.points} - ${lotHolds.cut}`,
        memberId: pointsLots.memberId,
        expiresAt: pointsLots.expiresAt,
        remaining: pointsLots.remaining,
        held: pointsLots.held,
      })
      .from(lotHolds)
      .innerJoin(pointsLots, and(eq(pointsLots.programId, lotHolds.programId), eq(pointsLots.id, lotHolds.lotId)))
      .where(and(eq(lotHolds.programId, programId), gt(lotHolds.points, lotHolds.cut), inArray(lotHolds.holdId, pointsHoldOf))),
    want.redemptions ? loadActiveRedemptions(db, programId, purchaseId) : [],
    // The sale's receipt, which the capture's or void's receipt links to.
    db
      .select({ id: receipts.id })
      .from(receipts)
      .where(and(eq(receipts.programId, programId), eq(receipts.purchaseId, purchaseId), eq(receipts.kind, 'purchase')))
      .orderBy(desc(receipts.id))
      .limit(1),
  ])
  const [found] = rows
  if (!found) throw notFound('Purchase')
  // A sale without a member is a captured gift card sale: never pending.
  if (found.memberId === null) throw new AppError(409, 'PURCHASE_NOT_PENDING', 'Not pending', 'The purchase is completed; only a pending purchase can be captured or voided (use a return)')
  const { version, ...row } = found
  return { row, version, lots: lots.map((l) => ({ ...l, points: BigInt(l.points) })), redemptions, saleReceiptId: saleReceipt[0]?.id ?? null }
}
