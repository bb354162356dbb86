import { AppError } from '../../shared/errors.js'

export type Unavailable = 'inactive' | 'not_started' | 'ended' | 'campaign_archived' | 'campaign_ended'

export const rewardErrors = {
  notFound: () => new AppError(404, 'REWARD_NOT_FOUND', 'Reward not found', 'No reward of this program has this id'),
  notAvailable: (rewardId: string, reason: Unavailable) =>
    new AppError(409, 'REWARD_NOT_AVAILABLE', 'Reward not available', `The reward cannot be redeemed now: ${reason.replace('_', ' ')}`, { rewardId, reason }),
  outOfStock: (rewardId: string) => new AppError(409, 'REWARD_OUT_OF_STOCK', 'Reward out of stock', 'No unit of this reward is left', { rewardId }),
  limitReached: (rewardId: string, maxPerMember: number) =>
    new AppError(409, 'REWARD_LIMIT_REACHED', 'Reward limit per member reached', `The member already holds this reward ${maxPerMember} time(s), as often as it allows`, { rewardId }),
  campaignUnusable: (reason: 'shared' | 'archived' | 'ended') =>
    new AppError(422, 'REWARD_CAMPAIGN_UNUSABLE', 'Campaign cannot issue the reward’s coupons', `The campaign is ${reason === 'shared' ? 'a shared-code campaign; a reward needs codeMode "unique"' : reason}`, { reason }),
  redemptionNotFound: () => new AppError(404, 'REWARD_REDEMPTION_NOT_FOUND', 'Reward redemption not found', 'No redemption of this member has this id'),
  alreadyUsed: (couponCode: string) =>
    new AppError(409, 'REWARD_ALREADY_USED', 'Reward already used', `The coupon ${couponCode} of this redemption was used; it can no longer be cancelled`, { couponCode }),
  memberNotFound: () => new AppError(404, 'MEMBER_NOT_FOUND', 'Member not found', 'No member of this program has this id'),
  memberErased: () => new AppError(409, 'MEMBER_ERASED', 'Member erased', 'This member’s personal data was erased; the account redeems no rewards'),
  alreadyCancelled: () => new AppError(409, 'REWARD_ALREADY_CANCELLED', 'Reward already cancelled', 'This redemption was already cancelled and its points given back'),
}
