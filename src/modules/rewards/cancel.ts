// Cancelling an unused redemption: the load (the redemption at its version, whether its reward
// counts per member, its coupon's uses, in one statement), the pure plan (cancel-plan.ts), the one
// executor. A plan gone stale (a cancellation or a use of the coupon meanwhile) loads and plans
// again, and the new load says why it is refused.
import { and, eq, isNotNull } from 'drizzle-orm'
import type { Database } from '../../db/client.js'
import { appliedFresh, filled, PlanError } from '../../db/apply.js'
import { rowVersion } from '../../db/core.js'
import { pgErrorOf } from '../../shared/errors.js'
import { newId } from '../../shared/ids.js'
import { coupons } from '../coupons/tables.js'
import { restoredPointsExpiry } from '../ledger/lots.js'
import { rememberAccounts } from '../ledger/repository.js'
import { readRules } from '../programs/rules.js'
import type { ProgramRow } from '../programs/tables.js'
import { cancellationPlan, cancellationRefusal, type LoadedRedemption } from './cancel-plan.js'
import { rewardErrors } from './errors.js'
import { rewardRedemptions, rewards } from './tables.js'

type Program = Pick<ProgramRow, 'id' | 'currency' | 'rules'>

export async function loadCancellation(database: Database, programId: string, memberId: string, redemptionId: string): Promise<LoadedRedemption | undefined> {
  const [found] = await database.db
    .select({ row: rewardRedemptions, version: rowVersion(rewardRedemptions), counted: isNotNull(rewards.maxPerMember), couponUses: coupons.uses })
    .from(rewardRedemptions)
    .innerJoin(rewards, and(eq(rewards.programId, rewardRedemptions.programId), eq(rewards.id, rewardRedemptions.rewardId)))
    .leftJoin(coupons, and(eq(coupons.programId, rewardRedemptions.programId), eq(coupons.code, rewardRedemptions.couponCode)))
    .where(and(eq(rewardRedemptions.programId, programId), eq(rewardRedemptions.memberId, memberId), eq(rewardRedemptions.id, redemptionId)))
  return found && { ...found, counted: Boolean(found.counted) }
}

/** Cancels the redemption once; answers 200 with the cancelled redemption and the balances after, or throws its refusal. */
export function cancelRedemption(
  database: Database,
  program: Program,
  input: { memberId: string; redemptionId: string },
  idempotency: { key: string; hash: string },
  actor: string,
): Promise<{ status: number; body: unknown }> {
  return appliedFresh(async () => {
    const loaded = await loadCancellation(database, program.id, input.memberId, input.redemptionId)
    if (!loaded) throw rewardErrors.redemptionNotFound()
    const now = new Date()
    const plan = cancellationPlan(program, loaded, { now, actor, entryId: newId(), restoredPointsExpireAt: restoredPointsExpiry(readRules(program.rules), now) })
    let applied
    try {
      applied = await database.apply({ ...plan.data, idempotency: { ...idempotency, status: 200, body: plan.answer, fills: plan.fills } })
    } catch (err) {
      if (!(err instanceof PlanError)) throw err
      throw cancellationRefusal(pgErrorOf(err)) ?? err
    }
    rememberAccounts(program.id, plan.accountIds)
    return { status: 200, body: filled(plan.answer, plan.fills, applied.facts) }
  })
}
