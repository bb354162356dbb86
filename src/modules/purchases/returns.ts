// A return of lines or an amount: load, plan (return-plan.ts), apply. The refund is split over the
// tenders, earned points clawed back under the program's policy.
import { and, eq, sql } from 'drizzle-orm'
import { queryRows, type Executor } from '../../db/client.js'
import { runnerOf } from '../../db/pipeline.js'
import { newId } from '../../shared/ids.js'
import type { ProgramRow } from '../programs/tables.js'
import { accountId, type AccountRef } from '../ledger/accounts.js'
import { postEntry } from '../ledger/service.js'
import { releaseCoupons } from '../coupons/service.js'
import type { TenderType } from './calculator.js'
import { rulesAt } from './load.js'
import { clampReads, planReturn, readReturn } from './return-plan.js'
import type { ReturnInput } from './schemas.js'
import { lockPurchase } from './service.js'
import { purchaseReturns, purchases, type PurchaseRow } from './tables.js'

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

/**
 * The member's available points, both wallets locked in account-id order like every posting, so
 * the read stays true until the return's entry writes them.
 */
async function lockedPointsAvailable(tx: Executor, programId: string, wallets: { points: AccountRef; storedValue: AccountRef }): Promise<bigint> {
  const pointsWallet = accountId(programId, wallets.points)
  const rows = await queryRows<{ id: string; available: string }>(
    tx,
    sql`select id, credits_posted - debits_posted - debits_pending as available from ledger_accounts
         where program_id = ${programId} and id in (${pointsWallet}, ${accountId(programId, wallets.storedValue)})
         order by id for update`,
  )
  const wallet = rows.find((w) => w.id === pointsWallet)
  return wallet ? BigInt(wallet.available) : 0n
}

export async function returnPurchase(tx: Executor, program: ProgramRow, purchaseId: string, input: ReturnInput, actor: string): Promise<ReturnResult> {
  const now = new Date()
  const row = await lockPurchase(tx, program.id, purchaseId)
  // What needs nothing loaded is refused before the rules are read.
  const read = readReturn(row, input, program)
  const { rules } = await rulesAt(tx, program, row.occurredAt)
  // The clamp policy needs the member's points, read under lock; the other policy and a return that claws nothing back do not.
  const wallets = clampReads(row, read, { program, rules })
  const pointsAvailable = wallets ? await lockedPointsAvailable(tx, program.id, wallets) : undefined
  const plan = planReturn(row, read, { program, rules, pointsAvailable }, { now, actor, returnId: newId(), entryId: newId() })

  if (plan.entry) await postEntry(tx, program.id, plan.entry, actor)
  await tx.insert(purchaseReturns).values(plan.record)
  await tx
    .update(purchases)
    .set(plan.purchase)
    .where(and(eq(purchases.programId, program.id), eq(purchases.id, row.id)))
  if (plan.releasesCoupons) await releaseCoupons(runnerOf(tx), program.id, row.id)
  const { record } = plan
  return {
    id: record.id,
    purchaseId: row.id,
    memberId: row.memberId,
    before: row,
    reason: record.reason,
    amount: plan.amount,
    refunds: plan.refunds,
    pointsClawedBack: plan.pointsClawedBack,
    pointsDebt: plan.pointsDebt,
    entryId: record.entryId,
    createdAt: record.createdAt,
  }
}
