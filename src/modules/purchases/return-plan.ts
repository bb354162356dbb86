// The decision of a return, pure: from the purchase as it stands (locked), the request, the rules of
// the sale's time and, when the clamp policy must know it, the member's available points, it decides
// every refusal, the refund over the tenders, the points clawed back or owed, the ledger entry and the
// rows. returnPurchase (returns.ts) loads, asks these, and applies the answer.
import { AppError, validationFailed } from '../../shared/errors.js'
import { moneyParser } from '../../shared/money.js'
import { isMeasured, isWhole, milliOf, quantityText, quantityValue, valueOfFirst } from '../../shared/quantity.js'
import { D, roundToInteger } from '../../shared/rounding.js'
import type { ProgramRules } from '../programs/rules.js'
import type { ProgramRow } from '../programs/tables.js'
import { giftCardSettlement, giftCardWallet, memberPoints, memberStoredValue, pointsIssued, pointsRedeemed, storedValueSettlement, type AccountRef } from '../ledger/accounts.js'
import { restoredPointsExpiry } from '../ledger/lots.js'
import { transfer, type EntryPlan, type Leg } from '../ledger/planner.js'
import { cardOf, earnedPoints, pointValueMinor, splitRefund, type TenderRefund } from './calculator.js'
import { exponentOf } from './plan.js'
import type { ReturnInput } from './schemas.js'
import { memberOf, type StoredLine, type StoredReturnLine, type StoredTender } from './stored.js'
import type { PurchaseReturnRow, PurchaseRow } from './tables.js'
import type { ProblemCode } from '../problems/catalog.js'

const unprocessable = (code: ProblemCode, title: string, detail: string, extensions: Record<string, unknown> = {}) => new AppError(422, code, title, detail, extensions)
const conflict = (code: ProblemCode, title: string, detail: string) => new AppError(409, code, title, detail)

export type ClawbackPolicy = ProgramRules['clawbackPolicy']

/** A return as asked, checked against the purchase: what it gives back before the split over tenders. */
export interface ReturnRead {
  mode: 'lines' | 'amount'
  /** The purchase's lines with this return counted in (returnedQuantity, returnedAmount). */
  lines: StoredLine[]
  /** What is returned, in minor units. */
  refund: bigint
  /** The lines as sent, each quantity in its line's form (a number of pieces, a measure's decimal string); kept on the return's row. Null for an amount. */
  requested: StoredReturnLine[] | null
  reason: string | null
}

/** What a return loads before it decides. */
export interface ReturnLoaded {
  program: Pick<ProgramRow, 'id' | 'currency'>
  /** The rules in force when the sale happened. */
  rules: ProgramRules
  /** The member's available points (posted - pending), read under the wallets' lock; only when clampReads asks for it. */
  pointsAvailable?: bigint
}

export interface ReturnContext {
  now: Date
  actor: string
  returnId: string
  entryId: string
}

/** The fields of the purchase row a return changes. */
export type ReturnedPurchase = Pick<PurchaseRow, 'lines' | 'tenders' | 'returnedTotal' | 'pointsClawedBack' | 'pointsDebt' | 'returnMode' | 'updatedAt'>

export interface ReturnPlan {
  /** What goes back on each tender, in the purchase's tender order; sums to `amount`. */
  refunds: TenderRefund[]
  amount: bigint
  pointsClawedBack: bigint
  /** Earned points the member no longer had (clamp policy): owed, not taken. */
  pointsDebt: bigint
  /** None when nothing moves in the ledger (money refunded for a sale that earned nothing). */
  entry: EntryPlan | undefined
  /** The purchase_returns row. */
  record: PurchaseReturnRow
  purchase: ReturnedPurchase
  /** Fully returned: the purchase gives its coupons back (uses, member limits, budget). */
  releasesCoupons: boolean
}

/**
 * What returning `milli` thousandths of a line gives back, the line's returned part before it
 * being `done`: the value of everything returned after, less before (valueOfFirst: parts rounded
 * down, the whole line exact), so the returns of a line always sum to its amount.
 */
export function returnedValue(amount: bigint, quantity: bigint, done: bigint, milli: bigint): bigint {
  return valueOfFirst(amount, done + milli, quantity) - valueOfFirst(amount, done, quantity)
}

/** Counts each requested line into `lines` (mutated: a sku asked for twice adds up) and returns their value and the lines as kept. */
function returnLines(lines: StoredLine[], requested: NonNullable<ReturnInput['lines']>): { refund: bigint; kept: StoredReturnLine[] } {
  let refund = 0n
  const kept: StoredReturnLine[] = []
  for (const [i, r] of requested.entries()) {
    const index = r.line !== undefined ? r.line - 1 : lines.findIndex((l) => l.sku === r.sku)
    const matches = r.sku !== undefined ? lines.filter((l) => l.sku === r.sku).length : 1
    if (r.sku !== undefined && matches > 1) throw validationFailed(`sku ${r.sku} is on several lines; give the line number`, [{ path: `body/lines/${i}`, message: 'ambiguous sku' }])
    const line = lines[index]
    if (!line) throw unprocessable('RETURN_LINE_NOT_IN_PURCHASE', 'Not in the purchase', `line ${i + 1} is not part of this purchase`, { line: i + 1 })
    const milli = milliOf(r.quantity)
    if (!isMeasured(line.unit) && !isWhole(milli)) {
      throw validationFailed(`body/lines/${i}/quantity: ${line.sku} is sold by the piece; return whole pieces`, [{ path: `body/lines/${i}/quantity`, message: 'sold by the piece: a whole number' }])
    }
    const bought = milliOf(line.quantity)
    const done = milliOf(line.returnedQuantity)
    const unit = isMeasured(line.unit) ? ` ${line.unit}` : ''
    if (done + milli > bought) {
      throw unprocessable('RETURN_EXCEEDS_PURCHASE', 'More than was bought', `${line.sku}: ${quantityText(bought)}${unit} bought, ${quantityText(done)}${unit} already returned`, {
        sku: line.sku,
        returnable: quantityValue(bought - done, line.unit),
      })
    }
    const value = returnedValue(BigInt(line.amount), bought, done, milli)
    line.returnedQuantity = quantityValue(done + milli, line.unit)
    line.returnedAmount = (BigInt(line.returnedAmount) + value).toString()
    refund += value
    kept.push({ ...r, quantity: quantityValue(milli, line.unit) })
  }
  return { refund, kept }
}

function returnAmount(before: PurchaseRow, text: string, program: Pick<ProgramRow, 'currency'>): bigint {
  const money = moneyParser(exponentOf(program), program.currency)
  const refund = money.parse(text, 'body/amount')
  money.done()
  if (refund <= 0n) throw validationFailed('amount: must be greater than zero', [{ path: 'body/amount', message: 'must be greater than zero' }])
  const remaining = before.total - before.returnedTotal
  if (refund > remaining) throw unprocessable('RETURN_EXCEEDS_PURCHASE', 'More than was bought', `At most ${remaining} minor units remain returnable`, { returnable: remaining.toString() })
  return refund
}

/**
 * The refusals that need nothing loaded, in the order a return gives them: not completed (409), a
 * purchase returned the other way, then per line (ambiguous sku 400, not in the purchase, more than
 * bought) or the amount (not money 400, zero 400, more than is left).
 */
export function readReturn(before: PurchaseRow, input: ReturnInput, program: Pick<ProgramRow, 'currency'>): ReturnRead {
  if (before.status !== 'completed') throw conflict('PURCHASE_NOT_COMPLETED', 'Not completed', `The purchase is ${before.status}; only completed purchases take returns`)
  const mode = input.lines ? 'lines' : 'amount'
  // One purchase is returned one way, so the earned points come back consistently.
  if (before.returnMode && before.returnMode !== mode) {
    throw unprocessable('RETURN_MODE_MISMATCH', 'Return the same way', `This purchase is returned by ${before.returnMode}; keep returning it that way`)
  }
  const lines = (before.lines as StoredLine[]).map((l) => ({ ...l }))
  if (!input.lines) return { mode, lines, refund: returnAmount(before, input.amount!, program), requested: null, reason: input.reason ?? null }
  const { refund, kept } = returnLines(lines, input.lines)
  return { mode, lines, refund, requested: kept, reason: input.reason ?? null }
}

interface Split {
  parts: TenderRefund[]
  tenders: StoredTender[]
  refunded: bigint
  returnedTotal: bigint
  /** Earned points to take back, before the policy meets the member's balance. */
  target: bigint
  pointsBack: bigint
  storedValueBack: bigint
}

/** The refund over what is left on each tender, and the earned points that should no longer be credited. */
function splitOf(before: PurchaseRow, read: ReturnRead, { program, rules }: ReturnLoaded): Split {
  const exponent = exponentOf(program)
  const tenders = (before.tenders as StoredTender[]).map((t) => ({ ...t }))
  // Points come back whole, rounded up when no money tender can take a point's fraction: an earlier
  // return may have given back a little more than its lines, so the last lines get what is left.
  const left = before.total - before.returnedTotal
  const parts = splitRefund(
    read.refund < left ? read.refund : left,
    tenders.map((t) => ({
      type: t.type,
      amount: BigInt(t.amount) - BigInt(t.refundedAmount),
      points: t.points === undefined ? undefined : BigInt(t.points) - BigInt(t.refundedPoints ?? '0'),
      ...cardOf(t),
    })),
    pointValueMinor(rules, exponent),
  )
  tenders.forEach((t, i) => {
    t.refundedAmount = (BigInt(t.refundedAmount) + parts[i]!.amount).toString()
    if (t.points !== undefined) t.refundedPoints = (BigInt(t.refundedPoints ?? '0') + (parts[i]!.points ?? 0n)).toString()
  })
  const refunded = parts.reduce((s, p) => s + p.amount, 0n)
  const returnedTotal = before.returnedTotal + refunded
  const keptTotal = before.total - returnedTotal > 0n ? before.total - returnedTotal : 0n

  // By lines: what the kept lines earn on the money still paid, at the sale's rate and multiplier.
  // By amount: the earned points in proportion to what is kept, rounded down.
  let earnedShouldBe: bigint
  if (keptTotal === 0n) earnedShouldBe = 0n
  else if (read.mode === 'lines') {
    const moneyRefunded = tenders.filter((t) => t.type !== 'points').reduce((s, t) => s + BigInt(t.refundedAmount), 0n)
    earnedShouldBe = earnedPoints(
      read.lines.map((l) => ({ amount: BigInt(l.amount) - BigInt(l.returnedAmount), category: l.category ?? undefined })),
      before.moneyPaid - moneyRefunded,
      keptTotal,
      rules,
      exponent,
      before.earnMultiplier,
    )
  } else {
    earnedShouldBe = roundToInteger(D(before.pointsEarned.toString()).times(keptTotal.toString()).div(before.total.toString()), 'down')
  }
  // Debt recorded by earlier returns counts as taken: it is never asked twice.
  const stillCredited = before.pointsEarned - before.pointsClawedBack - before.pointsDebt
  return {
    parts,
    tenders,
    refunded,
    returnedTotal,
    target: stillCredited - earnedShouldBe > 0n ? stillCredited - earnedShouldBe : 0n,
    pointsBack: parts.reduce((s, p) => s + (p.points ?? 0n), 0n),
    storedValueBack: parts.filter((p) => p.type === 'storedValue').reduce((s, p) => s + p.amount, 0n),
  }
}

/**
 * What the policy takes of `target` earned points. negative_balance: all of it, the balance may go
 * below zero. clamp: what the member has (`available`, the points this return gives back included),
 * the rest recorded as debt; never below zero.
 */
export function clawbackOf(target: bigint, policy: ClawbackPolicy, available: bigint): { clawedBack: bigint; debt: bigint } {
  if (target <= 0n) return { clawedBack: 0n, debt: 0n }
  if (policy === 'negative_balance') return { clawedBack: target, debt: 0n }
  const clawedBack = available <= 0n ? 0n : target < available ? target : available
  return { clawedBack, debt: target - clawedBack }
}

/** The member's wallets a clamped clawback locks and reads before it decides; undefined when there is nothing to clamp. */
export function clampReads(before: PurchaseRow, read: ReturnRead, loaded: ReturnLoaded): { points: AccountRef; storedValue: AccountRef } | undefined {
  if (loaded.rules.clawbackPolicy === 'negative_balance' || splitOf(before, read, loaded).target <= 0n) return undefined
  const memberId = memberOf(before)
  return { points: memberPoints(memberId), storedValue: memberStoredValue(memberId, loaded.program.currency) }
}

/** Each gift card's part of a refund goes back to the card: its store's gift card settlement -> the card's wallet. */
export function giftCardRefundLegs(parts: TenderRefund[], storeId: string, currency: string): Leg[] {
  return parts.flatMap((p) => (p.type === 'giftCard' && p.amount > 0n ? transfer(giftCardSettlement(storeId, currency), giftCardWallet(p.giftCardId!, currency), p.amount) : []))
}

/** Decides the return: the split, the clawback under the program's policy, the entry and the rows. */
export function planReturn(before: PurchaseRow, read: ReturnRead, loaded: ReturnLoaded, ctx: ReturnContext): ReturnPlan {
  const { program, rules } = loaded
  const split = splitOf(before, read, loaded)
  const clamps = rules.clawbackPolicy !== 'negative_balance' && split.target > 0n
  if (clamps && loaded.pointsAvailable === undefined) throw new RangeError('a clamped clawback needs the member’s available points (clampReads)')
  const { clawedBack, debt } = clawbackOf(split.target, rules.clawbackPolicy, (loaded.pointsAvailable ?? 0n) + split.pointsBack)
  const { storeId } = before
  // Points and stored value belong to a member; a sale without one (gift cards and money) has neither to give back.
  const member = () => memberOf(before)
  const legs: Leg[] = [
    ...(split.pointsBack > 0n ? transfer(pointsRedeemed(), memberPoints(member()), split.pointsBack) : []),
    ...(split.storedValueBack > 0n ? transfer(storedValueSettlement(storeId, program.currency), memberStoredValue(member(), program.currency), split.storedValueBack) : []),
    ...giftCardRefundLegs(split.parts, storeId, program.currency),
    ...(clawedBack > 0n ? transfer(memberPoints(member()), pointsIssued(), clawedBack) : []),
  ]
  const entry: EntryPlan | undefined =
    legs.length > 0
      ? {
          id: ctx.entryId,
          kind: 'return',
          effectiveAt: ctx.now,
          // The clawback takes the points this purchase earned first; points it redeemed go back to the lots they came from.
          consumeLotsOf: before.entryId ?? undefined,
          restoreLotsOf: before.entryId ?? undefined,
          pointsExpireAt: restoredPointsExpiry(rules, ctx.now),
          memberId: before.memberId ?? undefined,
          storeId,
          reason: read.reason ?? undefined,
          referenceType: 'purchase_return',
          referenceId: ctx.returnId,
          allowOverdraft: rules.clawbackPolicy === 'negative_balance',
          metadata: { purchaseId: before.id },
          legs,
        }
      : undefined
  const amount = split.refunded
  const record: PurchaseReturnRow = {
    programId: program.id,
    id: ctx.returnId,
    purchaseId: before.id,
    lines: read.requested ?? null,
    amount,
    refunds: split.parts.map((p) => ({ type: p.type, amount: p.amount.toString(), ...(p.points !== undefined ? { points: p.points.toString() } : {}), ...cardOf(p) })),
    pointsClawedBack: clawedBack,
    pointsDebt: debt,
    entryId: entry ? ctx.entryId : null,
    reason: read.reason,
    createdAt: ctx.now,
    createdBy: ctx.actor,
  }
  const purchase: ReturnedPurchase = {
    lines: read.lines,
    tenders: split.tenders,
    returnedTotal: split.returnedTotal,
    pointsClawedBack: before.pointsClawedBack + clawedBack,
    pointsDebt: before.pointsDebt + debt,
    returnMode: read.mode,
    updatedAt: ctx.now,
  }
  return { refunds: split.parts, amount, pointsClawedBack: clawedBack, pointsDebt: debt, entry, record, purchase, releasesCoupons: split.returnedTotal >= before.total }
}
