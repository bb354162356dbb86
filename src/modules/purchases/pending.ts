// Ending a pending purchase on the write executor: a capture, a void by the till, the job's expiry
// of its hold. Each loads (pending-load.ts), decides (capture-plan.ts, pure), builds its plan
// (pending-steps.ts, pure; a capture's tier and referral steps: sale-steps.ts) and applies it in
// one statement; a plan the database finds stale (the purchase, a hold's reservation, a lot or the
// member's row changed since the load) is loaded and planned again (appliedFresh). Two round
// trips: the load and the apply (a late upload's rules add one).
import { and, eq, sql } from 'drizzle-orm'
import { appliedFresh, filled, PlanError, STALE, type AppliedPlan, type Fill, type PlanData } from '../../db/apply.js'
import type { Database } from '../../db/client.js'
import { notFound, pgErrorOf } from '../../shared/errors.js'
import { newId } from '../../shared/ids.js'
import { nudgeDispatchers } from '../events/signal.js'
import { holdResolved, insufficientFunds } from '../ledger/errors.js'
import { rememberAccounts } from '../ledger/repository.js'
import { readRules } from '../programs/rules.js'
import type { ProgramRow } from '../programs/tables.js'
import { receiptLinkOf } from '../receipts/links.js'
import { pendingEndReceiptSteps } from '../receipts/plan-steps.js'
import { planCapture, planHoldExpiry, planVoid, readCapture } from './capture-plan.js'
import { rulesAt } from './load.js'
import { loadPending } from './pending-load.js'
import { captureSteps, releaseSteps, withTierAndReferral, type PendingSteps } from './pending-steps.js'
import { loadMemberState } from './sale-load.js'
import { racedAsStale, tierAndReferralSteps } from './sale-steps.js'
import { memberOf } from './stored.js'
import { purchases } from './tables.js'
import { purchaseView } from './views.js'

export interface PendingCall {
  actor: string
  baseUrl: string
  idempotency: { key: string; hash: string }
}

const ANSWER_FILLS: Fill[] = [{ path: ['balances'], fact: 'balances' }]

/**
 * Captures the purchase; answers 200 as the route does, or throws its refusal. In a program with
 * tiers or a referral rule the captured sale counts towards the member's tier and referral like
 * any completed sale: the member's state (sale-load.ts) is loaded with the purchase, through its
 * member, when the program's current rules need it (a late upload's older rules load it after),
 * and the plan appends tierAndReferralSteps behind the member-row guard a captured sale takes.
 */
export function capturePlanned(database: Database, program: ProgramRow, purchaseId: string, amountText: string | undefined, call: PendingCall): Promise<{ status: number; body: unknown }> {
  const seen = freshness()
  const current = readRules(program.rules)
  return appliedFresh(async () => {
    const now = new Date()
    const [loaded, early] = await Promise.all([
      loadPending(database.db, program.id, purchaseId, { redemptions: false }),
      loadMemberState(database.db, program, current, sql`(${memberOfPurchase(database, program.id, purchaseId)})`, now),
    ])
    const amount = readCapture(loaded.row, amountText, program, now)
    const { rules } = await rulesAt(database.db, program, loaded.row.occurredAt)
    const state = loaded.row.occurredAt >= program.rulesEffectiveFrom ? early : await loadMemberState(database.db, program, rules, memberOf(loaded.row), now)
    const plan = planCapture(loaded.row, amount, { program, rules }, { now, entryId: newId() })
    const steps = captureSteps(program.id, loaded, plan, { now, actor: call.actor })
    const more = tierAndReferralSteps({ program, rules, memberId: memberOf(loaded.row), state }, { purchaseId, occurredAt: loaded.row.occurredAt, total: plan.purchase.total, pointsEarned: plan.purchase.pointsEarned }, now)
    const receipt = pendingEndReceiptSteps(program, { ...steps.row, memberId: memberOf(steps.row) }, 'capture', { now, originalReceiptId: loaded.saleReceiptId })
    return answered(database, program, withTierAndReferral(program.id, steps, more), { ...receipt, events: [...more.events.map((row) => ({ row })), ...receipt.events] }, call, seen)
  })
}

/** The purchase's member, as a scalar subquery. */
const memberOfPurchase = (database: Database, programId: string, purchaseId: string) =>
  database.db
    .select({ id: purchases.memberId })
    .from(purchases)
    .where(and(eq(purchases.programId, programId), eq(purchases.id, purchaseId)))

/** Voids the purchase (the till's void: only a pending one); answers 200 as the route does, or throws its refusal. */
export function voidPlanned(database: Database, program: ProgramRow, purchaseId: string, reason: string | undefined, call: PendingCall): Promise<{ status: number; body: unknown }> {
  const seen = freshness()
  return appliedFresh(async () => {
    const loaded = await loadPending(database.db, program.id, purchaseId, { redemptions: true })
    const plan = planVoid(loaded.row, reason, new Date())
    const steps = releaseSteps(program.id, loaded, plan, loaded.redemptions)
    return answered(database, program, steps, pendingEndReceiptSteps(program, { ...steps.row, memberId: memberOf(steps.row) }, 'void', { now: plan.asOf, originalReceiptId: loaded.saleReceiptId, note: reason ?? null }), call, seen)
  })
}

/** Voids one pending purchase whose hold deadline passed by `asOf`; false when it was captured, voided or resolved meanwhile. */
export async function expirePlanned(database: Database, programId: string, purchaseId: string, asOf: Date): Promise<boolean> {
  const seen = freshness()
  try {
    return await appliedFresh(async () => {
      const loaded = await loadPending(database.db, programId, purchaseId, { redemptions: true })
      const plan = planHoldExpiry(loaded.row, asOf, new Date())
      if (!plan) return false
      const steps = releaseSteps(programId, loaded, plan, loaded.redemptions)
      await applyPlan(database, { program: programId, ...steps.data }, seen)
      rememberAccounts(programId, steps.accountIds)
      return true
    })
  } catch (err) {
    if (err instanceof PlanError && err.code === 'LL301') return false
    throw err
  }
}

/** Applies the steps with the receipt, its events and the idempotency record; the answer is the purchase after, its balances and the receipt's link. */
async function answered(database: Database, program: ProgramRow, steps: PendingSteps, receipt: ReturnType<typeof pendingEndReceiptSteps>, call: PendingCall, seen: Freshness) {
  const answer = { ...purchaseView(program, steps.row), balances: null, receipt: receiptLinkOf(receipt.receipt, call.baseUrl) }
  const data: PlanData = {
    program: program.id,
    ...steps.data,
    receipts: receipt.receipts,
    events: receipt.events,
    idempotency: { ...call.idempotency, status: 200, body: answer, fills: ANSWER_FILLS },
  }
  let applied
  try {
    applied = await applyPlan(database, data, seen)
  } catch (err) {
    throw refusalOf(err)
  }
  rememberAccounts(program.id, steps.accountIds)
  if (applied.events.length > 0) nudgeDispatchers()
  return { status: 200, body: filled(answer, ANSWER_FILLS, applied.facts) }
}

/** Whether a command already loaded again after its expiry of released points was refused. */
interface Freshness {
  expiryRefused: boolean
}
const freshness = (): Freshness => ({ expiryRefused: false })

const stale = () => new PlanError({ code: STALE, message: 'stale:points_lots', constraint: null })

/**
 * Applies the plan. The expiry of released points is sized by the lots as loaded; a hold placed
 * on those lots since (its reservation is not guarded by the plan) shows up as a share the CHECK
 * refuses (held <= remaining): the load is out of date, as LL300 says. It may also show up as the
 * expiry's debit refused (LL100: the new hold took the wallet's available points): loaded once
 * more before the refusal is answered, since a real shortfall (an overdraft) refuses again.
 */
async function applyPlan(database: Database, data: PlanData, seen: Freshness): Promise<AppliedPlan> {
  try {
    return await database.apply(data)
  } catch (err) {
    if (!(err instanceof PlanError)) throw err
    if (err.constraint_name === 'points_lots_held_check') throw stale()
    if (err.code === 'LL100' && !seen.expiryRefused && (data.entries ?? []).some((e) => e.entry.kind === 'expiry')) {
      seen.expiryRefused = true
      throw stale()
    }
    throw err
  }
}

/** A plan's refusal as the API answers it; a stale plan as it came (appliedFresh plans again). */
function refusalOf(err: unknown): unknown {
  if (!(err instanceof PlanError)) return err
  const pg = pgErrorOf(err)
  if (pg.code === 'LL301') return holdResolved(/hold_resolved:(\S+)/.exec(err.message)?.[1] ?? 'resolved')
  if (pg.code === 'LL100') return insufficientFunds(/insufficient_funds:(\S+)/.exec(err.message)?.[1] ?? 'POINTS')
  if (pg.code === 'LL404') return err.message.includes('hold') ? notFound('Hold') : notFound('Purchase')
  return racedAsStale(pg.constraint) ?? err
}
