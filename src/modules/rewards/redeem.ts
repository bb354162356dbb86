// Redeeming a reward: one load without locks (the reward with its campaign, the member, the
// member's counter and available points, read together), the pure plan (redeem-plan.ts), and the
// one executor. A load gone stale (the reward paused meanwhile) plans again; a coupon code taken
// meanwhile plans again with another code.
import { and, eq } from 'drizzle-orm'
import type { Database, Executor } from '../../db/client.js'
import { appliedFresh, filled, PlanError } from '../../db/apply.js'
import { randomCode } from '../../shared/codes.js'
import { pgErrorOf } from '../../shared/errors.js'
import { newId } from '../../shared/ids.js'
import { couponCampaigns } from '../coupons/tables.js'
import { memberBalances } from '../ledger/reads.js'
import { rememberAccounts } from '../ledger/repository.js'
import { findMember } from '../members/repository.js'
import type { MemberRow } from '../members/tables.js'
import { rewardErrors } from './errors.js'
import { CODE_TAKEN, redemptionPlan, redemptionRefusal, type RewardCampaign, type RewardState } from './redeem-plan.js'
import { rewardMemberCounts, rewards, type RewardRow } from './tables.js'

interface Program {
  id: string
  currency: string
}

/** Each reward of the program (or the one named) with its coupon campaign, if it gives a coupon. */
export async function rewardsWithCampaigns(ex: Executor, programId: string, rewardId?: string): Promise<{ reward: RewardRow; campaign: RewardCampaign | null }[]> {
  const rows = await ex
    .select({ reward: rewards, status: couponCampaigns.status, validTo: couponCampaigns.validTo, maxUsesPerCode: couponCampaigns.maxUsesPerCode })
    .from(rewards)
    .leftJoin(couponCampaigns, and(eq(couponCampaigns.programId, rewards.programId), eq(couponCampaigns.id, rewards.campaignId)))
    .where(and(eq(rewards.programId, programId), rewardId ? eq(rewards.id, rewardId) : eq(rewards.active, true)))
  const now = new Date()
  return rows.map((r) => ({
    reward: r.reward,
    campaign: r.status === null ? null : { status: r.status, ended: r.validTo !== null && r.validTo <= now, maxUsesPerCode: r.maxUsesPerCode },
  }))
}

/** The member's active redemptions per reward with a limit (their counters). */
export async function memberCounts(ex: Executor, programId: string, memberId: string, rewardId?: string): Promise<Map<string, number>> {
  const rows = await ex
    .select({ rewardId: rewardMemberCounts.rewardId, redemptions: rewardMemberCounts.redemptions })
    .from(rewardMemberCounts)
    .where(and(eq(rewardMemberCounts.programId, programId), eq(rewardMemberCounts.memberId, memberId), rewardId ? eq(rewardMemberCounts.rewardId, rewardId) : undefined))
  return new Map(rows.map((r) => [r.rewardId, r.redemptions]))
}

/** The member (404, erased 409) and their available points. */
export async function memberWithPoints(ex: Executor, program: Program, memberId: string): Promise<{ member: MemberRow; pointsAvailable: bigint }> {
  const [member, balances] = await Promise.all([findMember(ex, program.id, memberId), memberBalances(ex, program.id, memberId, program.currency)])
  if (!member) throw rewardErrors.memberNotFound()
  if (member.erasedAt) throw rewardErrors.memberErased()
  return { member, pointsAvailable: balances.points.available }
}

async function loadRedemption(database: Database, program: Program, memberId: string, rewardId: string): Promise<RewardState> {
  const db = database.db
  const [{ pointsAvailable }, [found], counts] = await Promise.all([
    memberWithPoints(db, program, memberId),
    rewardsWithCampaigns(db, program.id, rewardId),
    memberCounts(db, program.id, memberId, rewardId),
  ])
  if (!found) throw rewardErrors.notFound()
  return { ...found, memberRedemptions: counts.get(rewardId) ?? 0, pointsAvailable }
}

/** Redeems the reward once for the member; answers 201 with the redemption and the balances after, or throws its refusal. */
export function redeemReward(
  database: Database,
  program: Program,
  input: { memberId: string; rewardId: string },
  idempotency: { key: string; hash: string },
  actor: string,
): Promise<{ status: number; body: unknown }> {
  return appliedFresh(async () => {
    for (let attempt = 1; ; attempt++) {
      const state = await loadRedemption(database, program, input.memberId, input.rewardId)
      const plan = redemptionPlan(program, state, { now: new Date(), actor, memberId: input.memberId, redemptionId: newId(), entryId: newId(), couponCode: randomCode() })
      let applied
      try {
        applied = await database.apply({ ...plan.data, idempotency: { ...idempotency, status: 201, body: plan.answer, fills: plan.fills } })
      } catch (err) {
        if (!(err instanceof PlanError)) throw err
        const pg = pgErrorOf(err)
        if (pg.constraint === CODE_TAKEN && plan.couponCode && attempt < 5) continue
        throw redemptionRefusal(pg, state.reward) ?? err
      }
      rememberAccounts(program.id, plan.accountIds)
      return { status: 201, body: filled(plan.answer, plan.fills, applied.facts) }
    }
  })
}
