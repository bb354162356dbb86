// A referral's reward as steps of the referee's first purchase's plan (src/db/apply.ts), pure:
// from what the sale's load read (is the member referred, by whom, was the reward given, did the
// member complete a purchase before), the referral_rewards row (its primary key on the referee makes
// the reward once) and the one bonus entry crediting both members.
import type { ProgramRules } from '../programs/rules.js'
import { memberPoints, pointsIssued } from '../ledger/accounts.js'
import { lotExpiry } from '../ledger/lots.js'
import { transfer, type EntryPlan } from '../ledger/planner.js'

export interface ReferralState {
  referredBy: string | null
  /** The referrer's row was found, and whether its personal data was erased (an erased referrer gets nothing). */
  referrer: { erased: boolean } | null
  /** A referral_rewards row exists for the member. */
  rewarded: boolean
  /** The member has a completed purchase (this sale is not their first). */
  purchasedBefore: boolean
}

export interface ReferralRewardPlan {
  referrerId: string
  refereePoints: bigint
  referrerPoints: bigint
  /** The referral_rewards row, every column. */
  row: Record<string, unknown>
  /** None when the rules give 0 points to both. */
  entry: EntryPlan | undefined
}

/** Pure: the bonus entry of a reward (one entry, both members' points expiring by the program's rule). */
export function referralEntry(
  program: { timezone: string },
  rules: ProgramRules,
  r: { entryId: string; refereeId: string; referrerId: string; refereePoints: bigint; referrerPoints: bigint; purchaseId: string; at: Date },
): EntryPlan | undefined {
  const legs = [
    ...(r.refereePoints > 0n ? transfer(pointsIssued(), memberPoints(r.refereeId), r.refereePoints) : []),
    ...(r.referrerPoints > 0n ? transfer(pointsIssued(), memberPoints(r.referrerId), r.referrerPoints) : []),
  ]
  if (legs.length === 0) return undefined
  return {
    id: r.entryId,
    kind: 'bonus',
    effectiveAt: r.at,
    memberId: r.refereeId,
    reason: 'referral',
    referenceType: 'referral',
    referenceId: r.refereeId,
    pointsExpireAt: lotExpiry(rules.pointsExpiry, program.timezone, r.at),
    metadata: { referrerId: r.referrerId, purchaseId: r.purchaseId },
    legs,
  }
}

/**
 * Pure: the reward this completed sale gives, or null: no referral rules, the member not referred
 * (or the referrer gone), already rewarded, or not on their first completed purchase.
 */
export function referralRewardPlan(
  program: { id: string; timezone: string },
  rules: ProgramRules,
  state: ReferralState,
  sale: { refereeId: string; purchaseId: string; at: Date; entryId: string },
): ReferralRewardPlan | null {
  if (!rules.referral || state.referredBy === null || state.referrer === null || state.rewarded || state.purchasedBefore) return null
  const referrerId = state.referredBy
  const refereePoints = BigInt(rules.referral.refereePoints)
  const referrerPoints = state.referrer.erased ? 0n : BigInt(rules.referral.referrerPoints)
  const entry = referralEntry(program, rules, { entryId: sale.entryId, refereeId: sale.refereeId, referrerId, refereePoints, referrerPoints, purchaseId: sale.purchaseId, at: sale.at })
  const row = {
    program_id: program.id,
    referee_id: sale.refereeId,
    referrer_id: referrerId,
    purchase_id: sale.purchaseId,
    entry_id: entry ? sale.entryId : null,
    referee_points: refereePoints.toString(),
    referrer_points: referrerPoints.toString(),
    created_at: sale.at.toISOString(),
  }
  return { referrerId, refereePoints, referrerPoints, row, entry }
}
