// The decisions on a pending purchase, pure: a capture (full or for less), a void, the expiry of its
// hold. From the purchase as it stands (locked), the request and the rules of the sale's time they
// decide every refusal, what each hold posts or releases, the ledger entry and the row; pending.ts
// loads, asks these, and applies the answer.
import { AppError } from '../../shared/errors.js'
import { moneyParser } from '../../shared/money.js'
import type { ProgramRules } from '../programs/rules.js'
import type { ProgramRow } from '../programs/tables.js'
import { lotExpiry } from '../ledger/lots.js'
import type { EntryPlan } from '../ledger/planner.js'
import { earnedPoints, pointValueMinor, splitRefund, type TenderRefund } from './calculator.js'
import { earnLegs, exponentOf, spendLegs } from './plan.js'
import { memberOf, type StoredHolds, type StoredLine, type StoredTender } from './stored.js'
import type { PurchaseRow } from './tables.js'
import type { ProblemCode } from '../problems/catalog.js'

const unprocessable = (code: ProblemCode, title: string, detail: string) => new AppError(422, code, title, detail)
const conflict = (code: ProblemCode, title: string, detail: string) => new AppError(409, code, title, detail)

/** A hold of the purchase and what of it posts. */
export interface HoldPosting {
  kind: 'points' | 'storedValue'
  holdId: string
  /** Points or minor units the capture takes; the rest of the hold is released. */
  amount: bigint
}

/** The fields of the purchase row a capture changes. */
export type CapturedPurchase = Pick<
  PurchaseRow,
  'status' | 'total' | 'tenders' | 'moneyPaid' | 'pointsEarned' | 'pointsRedeemed' | 'storedValueUsed' | 'entryId' | 'holdExpiresAt' | 'returnMode' | 'updatedAt'
>

export interface CapturePlan {
  /** What each tender gives back of the authorisation, in the purchase's tender order (all zero for a full capture). */
  released: TenderRefund[]
  /** The holds in hold-id order, the order they are resolved in. */
  holds: HoldPosting[]
  /**
   * The capture's entry: earned points and the captured spend; none when nothing moves. The points
   * it takes come out of the lots the hold reserved (takeReserved, once the hold is resolved).
   */
  entry: EntryPlan | undefined
  purchase: CapturedPurchase
}

export interface CaptureLoaded {
  program: Pick<ProgramRow, 'currency' | 'timezone'>
  /** The rules in force when the sale happened: the capture earns at the sale's rate. */
  rules: ProgramRules
}

/**
 * The refusals of a capture, in the order it gives them: not pending (409), the hold's deadline
 * reached (409), an amount that is not money (400), nothing or more than authorised (422).
 * Returns the amount to capture (the whole authorisation when none is sent).
 */
export function readCapture(before: PurchaseRow, amountText: string | undefined, program: Pick<ProgramRow, 'currency'>, now: Date): bigint {
  if (before.status !== 'pending') throw conflict('PURCHASE_NOT_PENDING', 'Not pending', `The purchase is ${before.status}; only a pending purchase can be captured`)
  if (before.holdExpiresAt && before.holdExpiresAt <= now) throw conflict('HOLD_EXPIRED', 'Hold expired', 'The authorisation expired before capture; post a new purchase')
  const money = moneyParser(exponentOf(program), program.currency)
  const amount = amountText === undefined ? before.total : money.parse(amountText, 'body/amount')
  money.done()
  if (amount <= 0n || amount > before.total) throw unprocessable('CAPTURE_EXCEEDS_AUTHORISED', 'Bad capture amount', `Capture between 0 and the authorised ${before.total} minor units`)
  return amount
}

/** Decides a capture of `amount` (from readCapture): the part not captured is released from the tenders in proportion, like a return. */
export function planCapture(before: PurchaseRow, amount: bigint, { program, rules }: CaptureLoaded, ctx: { now: Date; entryId: string }): CapturePlan {
  const exponent = exponentOf(program)
  const pv = pointValueMinor(rules, exponent)
  const tenders = before.tenders as StoredTender[]
  const released = splitRefund(
    before.total - amount,
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
  // Whole points come back, so the captured total can differ from the amount asked by a point's fraction.
  const capturedTotal = captured.reduce((s, t) => s + BigInt(t.amount), 0n)
  const pointsCaptured = captured.reduce((s, t) => s + BigInt(t.points ?? '0'), 0n)
  const svCaptured = captured.filter((t) => t.type === 'storedValue').reduce((s, t) => s + BigInt(t.amount), 0n)
  const moneyPaid = capturedTotal - pointsCaptured * (pv ?? 0n)
  // Each line's share of the money paid, against the authorised total: the lines are the authorised ones.
  const earned = earnedPoints(
    (before.lines as StoredLine[]).map((l) => ({ amount: BigInt(l.amount), category: l.category ?? undefined })),
    moneyPaid,
    before.total,
    rules,
    exponent,
    before.earnMultiplier,
  )

  const stored = before.holds as StoredHolds
  const holds: HoldPosting[] = [
    stored.points ? { kind: 'points' as const, holdId: stored.points.holdId, amount: pointsCaptured } : undefined,
    stored.storedValue ? { kind: 'storedValue' as const, holdId: stored.storedValue.holdId, amount: svCaptured } : undefined,
  ]
    .filter((x): x is HoldPosting => !!x)
    .sort((a, b) => (a.holdId < b.holdId ? -1 : 1))

  const memberId = memberOf(before)
  const legs = [...earnLegs(memberId, earned), ...spendLegs(memberId, before.storeId, program.currency, pointsCaptured, svCaptured)]
  const entry: EntryPlan | undefined =
    legs.length > 0
      ? {
          id: ctx.entryId,
          kind: 'capture',
          effectiveAt: ctx.now,
          memberId,
          storeId: before.storeId,
          referenceType: 'purchase',
          referenceId: before.id,
          // The points earned are earned now: their lot expires from the capture, not the sale.
          pointsExpireAt: lotExpiry(rules.pointsExpiry, program.timezone, ctx.now),
          legs,
        }
      : undefined
  const purchase: CapturedPurchase = {
    status: 'completed',
    total: capturedTotal,
    tenders: captured,
    moneyPaid,
    pointsEarned: earned,
    pointsRedeemed: pointsCaptured,
    storedValueUsed: svCaptured,
    entryId: entry ? ctx.entryId : null,
    holdExpiresAt: null,
    // A partial capture no longer matches the lines: such a purchase is returned by amount.
    returnMode: capturedTotal < before.total ? 'amount' : null,
    updatedAt: ctx.now,
  }
  return { released, holds, entry, purchase }
}

/** A pending purchase ended without capture: its holds released, the purchase voided. */
export interface ReleasePlan {
  /** The holds to end, in hold-id order. */
  holdIds: string[]
  holdStatus: 'voided' | 'expired'
  /** Held points that go back to lots due by then expire at once: the hold protected them, nothing more. */
  asOf: Date
  actor: string
  purchase: Pick<PurchaseRow, 'status' | 'warnings' | 'updatedAt'>
}

const holdIdsOf = (row: PurchaseRow) => {
  const holds = row.holds as StoredHolds
  return [holds.points?.holdId, holds.storedValue?.holdId].filter((x): x is string => !!x).sort()
}

/** A void asked for by the till: only a pending purchase; the reason, when given, is kept as a warning. */
export function planVoid(before: PurchaseRow, reason: string | undefined, now: Date): ReleasePlan {
  if (before.status !== 'pending') throw conflict('PURCHASE_NOT_PENDING', 'Not pending', `The purchase is ${before.status}; only a pending purchase can be voided (use a return)`)
  const warnings = reason ? [...before.warnings, { code: 'VOIDED', message: reason }] : before.warnings
  return { holdIds: holdIdsOf(before), holdStatus: 'voided', asOf: now, actor: 'purchase:void', purchase: { status: 'voided', warnings, updatedAt: now } }
}

/**
 * The job's void of a purchase whose hold deadline passed by `asOf`; undefined when there is
 * nothing to do (captured or voided meanwhile, or not due yet). `now` is when the row changes.
 */
export function planHoldExpiry(before: PurchaseRow, asOf: Date, now: Date): ReleasePlan | undefined {
  if (before.status !== 'pending' || !before.holdExpiresAt || before.holdExpiresAt > asOf) return undefined
  return {
    holdIds: holdIdsOf(before),
    holdStatus: 'expired',
    asOf,
    actor: 'job:void-expired-holds',
    purchase: { status: 'voided', warnings: [...before.warnings, { code: 'HOLD_EXPIRED', message: 'not captured before its deadline' }], updatedAt: now },
  }
}
