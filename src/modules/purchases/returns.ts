// A return of lines or an amount: the refund split over the tenders, earned points clawed back.
import { and, eq, sql } from 'drizzle-orm'
import { queryRows, type Executor } from '../../db/client.js'
import { runnerOf } from '../../db/pipeline.js'
import { AppError, validationFailed } from '../../shared/errors.js'
import { newId } from '../../shared/ids.js'
import { moneyParser } from '../../shared/money.js'
import { D, roundToInteger } from '../../shared/rounding.js'
import type { ProgramRow } from '../programs/tables.js'
import { accountId, memberPoints, memberStoredValue, pointsIssued, pointsRedeemed, storedValueSettlement } from '../ledger/accounts.js'
import { transfer, type Leg } from '../ledger/planner.js'
import { postEntry } from '../ledger/service.js'
import { restoredPointsExpiry } from '../ledger/lots.js'
import { releaseCoupons } from '../coupons/service.js'
import { earnedPoints, pointValueMinor, splitRefund, type TenderType } from './calculator.js'
import { rulesAt } from './load.js'
import { exponentOf } from './plan.js'
import type { ReturnInput } from './schemas.js'
import { lockPurchase } from './service.js'
import type { StoredLine, StoredTender } from './stored.js'
import { purchaseReturns, purchases, type PurchaseRow } from './tables.js'

const unprocessable = (code: string, title: string, detail: string, extensions: Record<string, unknown> = {}) => new AppError(422, code, title, detail, extensions)
const conflict = (code: string, title: string, detail: string) => new AppError(409, code, title, detail)

export interface ReturnResult {
  id: string
  purchaseId: string
  memberId: string
  /** The purchase as it was before this return (its receipt describes the return against it). */
  before: PurchaseRow
  reason: string | null
  amount: bigint
  refunds: { type: TenderType; amount: bigint; points?: bigint }[]
  pointsClawedBack: bigint
  pointsDebt: bigint
  entryId: string | null
  createdAt: Date
}

/** The value of the first `q` units of a line: whole lines exact, parts rounded down, the last unit takes the rest. */
const lineValueOf = (line: StoredLine, q: number) =>
  q >= line.quantity ? BigInt(line.amount) : (BigInt(line.amount) * BigInt(q)) / BigInt(line.quantity)

export async function returnPurchase(tx: Executor, program: ProgramRow, purchaseId: string, input: ReturnInput, actor: string): Promise<ReturnResult> {
  const now = new Date()
  const row = await lockPurchase(tx, program.id, purchaseId)
  if (row.status !== 'completed') throw conflict('PURCHASE_NOT_COMPLETED', 'Not completed', `The purchase is ${row.status}; only completed purchases take returns`)
  const mode = input.lines ? 'lines' : 'amount'
  if (row.returnMode && row.returnMode !== mode) {
    throw unprocessable('RETURN_MODE_MISMATCH', 'Return the same way', `This purchase is returned by ${row.returnMode}; keep returning it that way`)
  }
  const exponent = exponentOf(program)
  const lines = (row.lines as StoredLine[]).map((l) => ({ ...l }))
  const remainingTotal = row.total - row.returnedTotal

  let refund: bigint
  if (input.lines) {
    refund = 0n
    for (const [i, r] of input.lines.entries()) {
      const index = r.line !== undefined ? r.line - 1 : lines.findIndex((l) => l.sku === r.sku)
      const matches = r.sku !== undefined ? lines.filter((l) => l.sku === r.sku).length : 1
      if (r.sku !== undefined && matches > 1) throw validationFailed(`sku ${r.sku} is on several lines; give the line number`, [{ path: `body/lines/${i}`, message: 'ambiguous sku' }])
      const line = lines[index]
      if (!line) throw unprocessable('RETURN_LINE_NOT_IN_PURCHASE', 'Not in the purchase', `line ${i + 1} is not part of this purchase`, { line: i + 1 })
      const after = line.returnedQuantity + r.quantity
      if (after > line.quantity) {
        throw unprocessable('RETURN_EXCEEDS_PURCHASE', 'More than was bought', `${line.sku}: ${line.quantity} bought, ${line.returnedQuantity} already returned`, {
          sku: line.sku,
          returnable: line.quantity - line.returnedQuantity,
        })
      }
      const value = lineValueOf(line, after) - lineValueOf(line, line.returnedQuantity)
      line.returnedQuantity = after
      line.returnedAmount = (BigInt(line.returnedAmount) + value).toString()
      refund += value
    }
  } else {
    const money = moneyParser(exponent, program.currency)
    refund = money.parse(input.amount!, 'body/amount')
    money.done()
    if (refund <= 0n) throw validationFailed('amount: must be greater than zero', [{ path: 'body/amount', message: 'must be greater than zero' }])
    if (refund > remainingTotal) {
      throw unprocessable('RETURN_EXCEEDS_PURCHASE', 'More than was bought', `At most ${remainingTotal} minor units remain returnable`, { returnable: remainingTotal.toString() })
    }
  }

  const { rules } = await rulesAt(tx, program, row.occurredAt)
  const pv = pointValueMinor(rules, exponent)
  const tenders = (row.tenders as StoredTender[]).map((t) => ({ ...t }))
  const parts = splitRefund(
    refund,
    tenders.map((t) => ({
      type: t.type,
      amount: BigInt(t.amount) - BigInt(t.refundedAmount),
      points: t.points === undefined ? undefined : BigInt(t.points) - BigInt(t.refundedPoints ?? '0'),
    })),
    pv,
  )
  tenders.forEach((t, i) => {
    t.refundedAmount = (BigInt(t.refundedAmount) + parts[i]!.amount).toString()
    if (t.points !== undefined) t.refundedPoints = (BigInt(t.refundedPoints ?? '0') + (parts[i]!.points ?? 0n)).toString()
  })
  const refunded = parts.reduce((s, p) => s + p.amount, 0n)
  const returnedTotal = row.returnedTotal + refunded
  const keptTotal = row.total - returnedTotal > 0n ? row.total - returnedTotal : 0n

  // Earned points that should remain after this return; the difference is clawed back.
  let earnedShouldBe: bigint
  if (keptTotal === 0n) earnedShouldBe = 0n
  else if (mode === 'lines') {
    const moneyRefunded = tenders.filter((t) => t.type !== 'points').reduce((s, t) => s + BigInt(t.refundedAmount), 0n)
    earnedShouldBe = earnedPoints(
      lines.map((l) => ({ amount: BigInt(l.amount) - BigInt(l.returnedAmount), category: l.category ?? undefined })),
      row.moneyPaid - moneyRefunded,
      keptTotal,
      rules,
      exponent,
      row.earnMultiplier,
    )
  } else {
    earnedShouldBe = roundToInteger(D(row.pointsEarned.toString()).times(keptTotal.toString()).div(row.total.toString()), 'down')
  }
  const stillCredited = row.pointsEarned - row.pointsClawedBack - row.pointsDebt
  const clawTarget = stillCredited - earnedShouldBe > 0n ? stillCredited - earnedShouldBe : 0n

  const pointsBack = parts.reduce((s, p) => s + (p.points ?? 0n), 0n)
  const svBack = parts.filter((p) => p.type === 'storedValue').reduce((s, p) => s + p.amount, 0n)
  let claw = clawTarget
  let debt = 0n
  const overdraft = rules.clawbackPolicy === 'negative_balance'
  if (clawTarget > 0n && !overdraft) {
    // Clamp: take what the member has (after the points given back), owe the rest. Both wallets are
    // locked now, in account-id order like every posting, so the read stays true until the write.
    const pointsWallet = accountId(program.id, memberPoints(row.memberId))
    const wallets = await queryRows<{ id: string; available: string }>(
      tx,
      sql`select id, credits_posted - debits_posted - debits_pending as available from ledger_accounts
           where program_id = ${program.id} and id in (${pointsWallet}, ${accountId(program.id, memberStoredValue(row.memberId, program.currency))})
           order by id for update`,
    )
    const wallet = wallets.find((w) => w.id === pointsWallet)
    const available = (wallet ? BigInt(wallet.available) : 0n) + pointsBack
    claw = available <= 0n ? 0n : clawTarget < available ? clawTarget : available
    debt = clawTarget - claw
  }

  const legs: Leg[] = [
    ...(pointsBack > 0n ? transfer(pointsRedeemed(), memberPoints(row.memberId), pointsBack) : []),
    ...(svBack > 0n ? transfer(storedValueSettlement(row.storeId, program.currency), memberStoredValue(row.memberId, program.currency), svBack) : []),
    ...(claw > 0n ? transfer(memberPoints(row.memberId), pointsIssued(), claw) : []),
  ]
  const id = newId()
  let entryId: string | null = null
  if (legs.length > 0) {
    entryId = (
      await postEntry(
        tx,
        program.id,
        {
          kind: 'return',
          effectiveAt: now,
          // The clawback takes the points this purchase earned first; points it redeemed go back to the lots they came from.
          consumeLotsOf: row.entryId ?? undefined,
          restoreLotsOf: row.entryId ?? undefined,
          pointsExpireAt: restoredPointsExpiry(rules, now),
          memberId: row.memberId,
          storeId: row.storeId,
          reason: input.reason,
          referenceType: 'purchase_return',
          referenceId: id,
          allowOverdraft: overdraft,
          metadata: { purchaseId: row.id },
          legs,
        },
        actor,
      )
    ).entryId
  }

  const createdAt = new Date()
  const refunds = parts.map((p) => ({ type: p.type, amount: p.amount.toString(), ...(p.points !== undefined ? { points: p.points.toString() } : {}) }))
  await tx.insert(purchaseReturns).values({
    programId: program.id,
    id,
    purchaseId: row.id,
    lines: input.lines ?? null,
    amount: refunded,
    refunds,
    pointsClawedBack: claw,
    pointsDebt: debt,
    entryId,
    reason: input.reason ?? null,
    createdAt,
    createdBy: actor,
  })
  await tx
    .update(purchases)
    .set({
      lines,
      tenders,
      returnedTotal,
      pointsClawedBack: row.pointsClawedBack + claw,
      pointsDebt: row.pointsDebt + debt,
      returnMode: mode,
      updatedAt: createdAt,
    })
    .where(and(eq(purchases.programId, program.id), eq(purchases.id, row.id)))
  // A fully returned purchase gives its coupons back (uses, member limits, budget).
  if (returnedTotal >= row.total) await releaseCoupons(runnerOf(tx), program.id, row.id)
  return { id, purchaseId: row.id, memberId: row.memberId, before: row, reason: input.reason ?? null, amount: refunded, refunds: parts, pointsClawedBack: claw, pointsDebt: debt, entryId, createdAt }
}

