import type { ProgramRules } from '../programs/rules.js'

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
