// A points adjustment (grant or take away, with a reason) as one plan: the decision is pure
// (planAdjustment), the executor (src/db/apply.ts) writes the entry, its lots and the idempotency
// record in one statement, and the answer (the entry as GET /v1/ledger/entries/{id} shows it, and
// the balances after) is the template with the database's facts filled in.
import type { Database } from '../../db/client.js'
import { filled, PlanError, type Fill, type PlanData } from '../../db/apply.js'
import { notFound, pgErrorOf } from '../../shared/errors.js'
import { newId } from '../../shared/ids.js'
import { readRules } from '../programs/rules.js'
import type { ProgramRow } from '../programs/tables.js'
import { memberPoints, memberWallets, POINTS, pointsAdjustments } from './accounts.js'
import { entryFills, entryStep, plannedEntryRecord } from './entry-step.js'
import { insufficientFunds } from './errors.js'
import { lotExpiry } from './lots.js'
import { lotSteps } from './lot-steps.js'
import { transfer, type EntryPlan } from './planner.js'
import { rememberAccounts } from './repository.js'
import { currencyExponent } from '../../shared/money.js'
import { entryView } from './views.js'

export interface AdjustmentInput {
  memberId: string
  /** Positive grants, negative takes away (never below zero). */
  points: number
  reason: string
}

export interface AdjustmentPlan {
  data: Omit<PlanData, 'idempotency'>
  answer: { entry: ReturnType<typeof entryView>; balances: null }
  fills: Fill[]
  accountIds: string[]
}

/** Pure: the entry, its lots, and the answer with what only the database knows left to fill. */
export function planAdjustment(program: ProgramRow, input: AdjustmentInput, ctx: { now: Date; actor: string; entryId: string }): AdjustmentPlan {
  const { memberId, reason } = input
  const amount = BigInt(input.points)
  const legs = amount > 0n ? transfer(pointsAdjustments(), memberPoints(memberId), amount) : transfer(memberPoints(memberId), pointsAdjustments(), -amount)
  const plan: EntryPlan = {
    id: ctx.entryId,
    kind: 'adjustment',
    effectiveAt: ctx.now,
    memberId,
    reason,
    referenceType: 'adjustment',
    pointsExpireAt: lotExpiry(readRules(program.rules).pointsExpiry, program.timezone, ctx.now),
    legs,
  }
  const { step, planned, accountIds } = entryStep(program.id, plan, ctx.actor)
  step.entry.createdAt = ctx.now.toISOString()
  const record = plannedEntryRecord(program.id, { ...plan, id: ctx.entryId }, planned, ctx)
  // Member wallets carry their balance after; system accounts do not track one.
  const fills: Fill[] = [{ path: ['balances'], fact: 'balances' }, ...entryFills(planned, ['entry'])]
  const lots = lotSteps(program.id, ctx.entryId, plan)
  if (!lots) throw new RangeError('an adjustment needs no named lots, overdraft or restore')
  return {
    data: {
      program: program.id,
      member: { id: memberId, refuseErased: false },
      entries: [step],
      lots,
      wallets: memberWallets(program, memberId, currencyExponent(program.currency) ?? 0),
    },
    answer: { entry: entryView(record), balances: null },
    fills,
    accountIds,
  }
}

/** Applies the adjustment; answers 201 as the route does, or throws its refusal. */
export async function postAdjustment(database: Database, program: ProgramRow, input: AdjustmentInput, idempotency: { key: string; hash: string }, actor: string): Promise<{ status: number; body: unknown }> {
  const plan = planAdjustment(program, input, { now: new Date(), actor, entryId: newId() })
  let applied
  try {
    applied = await database.apply({ ...plan.data, idempotency: { ...idempotency, status: 201, body: plan.answer, fills: plan.fills } })
  } catch (err) {
    if (err instanceof PlanError) {
      const pg = pgErrorOf(err)
      if (pg.code === 'LL201') throw notFound('Member')
      if (pg.code === 'LL100') throw insufficientFunds(/insufficient_funds:(\S+)/.exec(err.message)?.[1] ?? POINTS)
    }
    throw err
  }
  rememberAccounts(program.id, plan.accountIds)
  return { status: 201, body: filled(plan.answer, plan.fills, applied.facts) }
}
