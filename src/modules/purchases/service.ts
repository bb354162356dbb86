// The commands on a posted purchase: capture, void and expiry of a pending one (returns: returns.ts, the sale itself: create.ts).
import { and, eq } from 'drizzle-orm'
import type { Executor } from '../../db/client.js'
import { runnerOf } from '../../db/pipeline.js'
import { AppError, notFound } from '../../shared/errors.js'
import { moneyParser } from '../../shared/money.js'
import type { ProgramRow } from '../programs/tables.js'
import { postEntry, resolveHold } from '../ledger/service.js'
import { lotExpiry } from '../ledger/lots.js'
import { takeReserved } from '../ledger/lot-plans.js'
import { expireReleased } from '../ledger/expiry.js'
import { releaseCoupons } from '../coupons/service.js'
import { rewardReferral } from '../referrals/service.js'
import { findTier, tierMetric, type TierChange } from '../tiers/service.js'
import { earnedPoints, pointValueMinor, splitRefund } from './calculator.js'
import { upgradeIfQualified } from './create.js'
import { rulesAt } from './load.js'
import { earnLegs, exponentOf, spendLegs } from './plan.js'
import type { StoredHolds, StoredLine, StoredTender } from './stored.js'
import { purchases, type PurchaseRow } from './tables.js'

const unprocessable = (code: string, title: string, detail: string) => new AppError(422, code, title, detail)
const conflict = (code: string, title: string, detail: string) => new AppError(409, code, title, detail)

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

/** Ends the purchase's holds; held points go back to their lots, and what is past due at `asOf` expires at once. */
async function releaseHolds(tx: Executor, programId: string, row: PurchaseRow, status: 'voided' | 'expired', asOf: Date, actor: string): Promise<void> {
  const holds = row.holds as StoredHolds
  for (const h of [holds.points?.holdId, holds.storedValue?.holdId].filter((x): x is string => !!x).sort()) {
    await expireReleased(tx, programId, await resolveHold(tx, programId, h, status), [], asOf, actor)
  }
}

export async function voidPurchase(tx: Executor, program: ProgramRow, purchaseId: string, reason: string | undefined): Promise<PurchaseRow> {
  const row = await lockPurchase(tx, program.id, purchaseId)
  if (row.status !== 'pending') throw conflict('PURCHASE_NOT_PENDING', 'Not pending', `The purchase is ${row.status}; only a pending purchase can be voided (use a return)`)
  await releaseHolds(tx, program.id, row, 'voided', new Date(), 'purchase:void')
  await releaseCoupons(runnerOf(tx), program.id, row.id)
  const warnings = reason ? [...(row.warnings as object[]), { code: 'VOIDED', message: reason }] : row.warnings
  const [updated] = await tx
    .update(purchases)
    .set({ status: 'voided', warnings, updatedAt: new Date() })
    .where(and(eq(purchases.programId, program.id), eq(purchases.id, purchaseId)))
    .returning()
  return updated!
}

/** Voids one pending purchase whose hold deadline passed; false when it was resolved meanwhile. */
export async function expirePurchase(tx: Executor, programId: string, purchaseId: string, asOf: Date): Promise<boolean> {
  const row = await lockPurchase(tx, programId, purchaseId)
  if (row.status !== 'pending' || !row.holdExpiresAt || row.holdExpiresAt > asOf) return false
  await releaseHolds(tx, programId, row, 'expired', asOf, 'job:void-expired-holds')
  await releaseCoupons(runnerOf(tx), programId, row.id)
  await tx
    .update(purchases)
    .set({ status: 'voided', warnings: [...(row.warnings as object[]), { code: 'HOLD_EXPIRED', message: 'not captured before its deadline' }], updatedAt: new Date() })
    .where(and(eq(purchases.programId, programId), eq(purchases.id, purchaseId)))
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
  if (row.status !== 'pending') throw conflict('PURCHASE_NOT_PENDING', 'Not pending', `The purchase is ${row.status}; only a pending purchase can be captured`)
  const now = new Date()
  if (row.holdExpiresAt && row.holdExpiresAt <= now) throw conflict('HOLD_EXPIRED', 'Hold expired', 'The authorisation expired before capture; post a new purchase')
  const exponent = exponentOf(program)
  const money = moneyParser(exponent, program.currency)
  const amount = amountText === undefined ? row.total : money.parse(amountText, 'body/amount')
  money.done()
  if (amount <= 0n || amount > row.total) throw unprocessable('CAPTURE_EXCEEDS_AUTHORISED', 'Bad capture amount', `Capture between 0 and the authorised ${row.total} minor units`)

  const { rules } = await rulesAt(tx, program, row.occurredAt)
  const pv = pointValueMinor(rules, exponent)
  const tenders = row.tenders as StoredTender[]
  // The part not captured is released from the tenders in proportion, like a return.
  const released = splitRefund(
    row.total - amount,
    tenders.map((t) => ({ type: t.type, amount: BigInt(t.amount), points: t.points === undefined ? undefined : BigInt(t.points) })),
    pv,
  )
  const captured: StoredTender[] = tenders.map((t, i) => {
    const rel = released[i]!
    return {
      type: t.type,
      amount: (BigInt(t.amount) - rel.amount).toString(),
      ...(t.points !== undefined ? { points: (BigInt(t.points) - (rel.points ?? 0n)).toString(), refundedPoints: '0' } : {}),
      refundedAmount: '0',
    }
  })
  const capturedTotal = captured.reduce((s, t) => s + BigInt(t.amount), 0n)
  const pointsCaptured = captured.reduce((s, t) => s + BigInt(t.points ?? '0'), 0n)
  const svCaptured = captured.filter((t) => t.type === 'storedValue').reduce((s, t) => s + BigInt(t.amount), 0n)
  const moneyPaid = capturedTotal - pointsCaptured * (pv ?? 0n)
  const lines = row.lines as StoredLine[]
  const earned = earnedPoints(
    lines.map((l) => ({ amount: BigInt(l.amount), category: l.category ?? undefined })),
    moneyPaid,
    row.total,
    rules,
    exponent,
    row.earnMultiplier,
  )

  const holds = row.holds as StoredHolds
  const resolutions = [
    holds.points ? { holdId: holds.points.holdId, amount: pointsCaptured } : undefined,
    holds.storedValue ? { holdId: holds.storedValue.holdId, amount: svCaptured } : undefined,
  ]
    .filter((x): x is { holdId: string; amount: bigint } => !!x)
    .sort((a, b) => (a.holdId < b.holdId ? -1 : 1))
  const resolved = []
  for (const r of resolutions) resolved.push(await resolveHold(tx, program.id, r.holdId, 'posted', r.amount))
  // The captured points come out of the lots the hold reserved; the rest goes back to them.
  const pointsHold = resolved.find((h) => h.id === holds.points?.holdId)
  const takeLots = pointsHold ? takeReserved(pointsHold.lots, pointsCaptured) : undefined

  const legs = [...earnLegs(row.memberId, earned), ...spendLegs(row.memberId, row.storeId, program.currency, pointsCaptured, svCaptured)]
  let postedEntry: string | null = null
  if (legs.length > 0) {
    postedEntry = (
      await postEntry(
        tx,
        program.id,
        {
          kind: 'capture',
          effectiveAt: now,
          memberId: row.memberId,
          storeId: row.storeId,
          referenceType: 'purchase',
          referenceId: row.id,
          pointsExpireAt: lotExpiry(rules.pointsExpiry, program.timezone, now),
          takeLots,
          legs,
        },
        actor,
      )
    ).entryId
  }
  if (pointsHold) await expireReleased(tx, program.id, pointsHold, takeLots ?? [], now, actor)
  const [updated] = await tx
    .update(purchases)
    .set({
      status: 'completed',
      total: capturedTotal,
      tenders: captured,
      moneyPaid,
      pointsEarned: earned,
      pointsRedeemed: pointsCaptured,
      storedValueUsed: svCaptured,
      entryId: postedEntry,
      holdExpiresAt: null,
      // A partial capture no longer matches the lines: such a purchase is returned by amount.
      returnMode: capturedTotal < row.total ? 'amount' : null,
      updatedAt: new Date(),
    })
    .where(and(eq(purchases.programId, program.id), eq(purchases.id, purchaseId)))
    .returning()
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

