import type { ProgramRules } from '../programs/rules.js'
import { indexOfTier } from '../tiers/service.js'

export interface BirthdayGrant {
  /** Points to grant: the program's birthday bonus plus the member's tier bonus. */
  points: bigint
  /** Celebrated after the day: a late or missed run caught up. */
  late: boolean
  /** The birthday coupon is issued (the rules name a campaign). */
  coupon: boolean
  /** birthday.today is emitted: on the day itself only, a greeting for "today" is not sent late. */
  greet: boolean
}

/** What celebrating one member's birthday on `celebratedOn` gives, in a run for `today` (local dates). */
export function planBirthdayGrant(rules: ProgramRules, tierBonus: bigint, celebratedOn: string, today: string): BirthdayGrant {
  return {
    points: BigInt(rules.birthday.bonusPoints) + tierBonus,
    late: celebratedOn !== today,
    coupon: Boolean(rules.birthday.couponCampaignId),
    greet: celebratedOn === today,
  }
}

/** The counters a run reports, shared by the run and its dry run. */
export interface GrantCounts {
  celebrated: number
  late: number
  granted: number
  points: number
  coupons: number
}

/** Counts one celebrated birthday: what was (or would be) granted. */
export function countGrant(counts: GrantCounts, grant: { late: boolean; points: bigint; coupon: unknown }): void {
  counts.celebrated += 1
  if (grant.late) counts.late += 1
  if (grant.points > 0n) {
    counts.granted += 1
    counts.points += Number(grant.points)
  }
  if (grant.coupon) counts.coupons += 1
}

/** Pure: the birthday bonus of a tier (0 without tiers or tier). */
export function tierBonusOf(rules: ProgramRules, tierCode: string | undefined): bigint {
  const level = rules.tiers && tierCode !== undefined ? rules.tiers.levels[indexOfTier(rules.tiers, tierCode)] : undefined
  return BigInt(level?.birthdayBonusPoints ?? 0)
}
