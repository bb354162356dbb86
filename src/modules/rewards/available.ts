// What a member can redeem now, pure: each active reward of the catalog judged as a redemption
// would judge it (rewardAvailability), the available ones (or, when asked, every one with the
// first reason it would be refused), cheapest first.
import { rewardAvailability, type Availability, type RewardCampaign } from './redeem-plan.js'
import type { RewardRow } from './tables.js'

export interface MemberReward {
  reward: RewardRow
  /** Never inactive: the list holds active rewards only. */
  availability: Exclude<Availability, 'inactive'>
  pointsShort: bigint
  memberRedemptionsLeft: number | null
}

export function memberRewards(
  catalog: { reward: RewardRow; campaign: RewardCampaign | null }[],
  counts: Map<string, number>,
  pointsAvailable: bigint,
  now: Date,
  options: { all: boolean },
): MemberReward[] {
  return catalog
    .filter(({ reward }) => reward.active)
    .map(({ reward, campaign }) => ({ reward, ...rewardAvailability({ reward, campaign, memberRedemptions: counts.get(reward.id) ?? 0, pointsAvailable }, now) }) as MemberReward)
    .filter((r) => options.all || r.availability === 'available')
    .sort((a, b) => (a.reward.pointsPrice !== b.reward.pointsPrice ? (a.reward.pointsPrice < b.reward.pointsPrice ? -1 : 1) : a.reward.name.localeCompare(b.reward.name) || a.reward.id.localeCompare(b.reward.id)))
}
