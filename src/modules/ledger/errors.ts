import { AppError } from '../../shared/errors.js'

export const insufficientFunds = (asset: string) =>
  new AppError(422, 'INSUFFICIENT_FUNDS', 'Insufficient funds', `The available ${asset === 'POINTS' ? 'points' : `${asset} stored value`} do not cover this`, { asset })

export const alreadyReversed = () => new AppError(409, 'ALREADY_REVERSED', 'Already reversed', 'This entry has already been reversed')

export const holdResolved = (status: string) => new AppError(409, 'HOLD_ALREADY_RESOLVED', 'Hold already resolved', `The hold is already ${status}`, { holdStatus: status })

export const cannotReverseRewardRedemption = () =>
  new AppError(409, 'CANNOT_REVERSE_REWARD_REDEMPTION', 'Cannot reverse a reward redemption', 'This entry paid for a reward; cancel the redemption instead (POST /v1/members/{memberId}/rewards/redemptions/{redemptionId}/cancellation)')
