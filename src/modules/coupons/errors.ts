import { AppError } from '../../shared/errors.js'
import type { ProblemCode } from '../problems/catalog.js'

const refused = (status: number, code: ProblemCode, title: string, detail: string, extensions: Record<string, unknown>) => new AppError(status, code, title, detail, extensions)

export const couponErrors = {
  notFound: (couponCode: string) => refused(422, 'COUPON_NOT_FOUND', 'Coupon not found', `No coupon ${couponCode} in this program`, { couponCode }),
  notActive: (couponCode: string, reason: 'archived' | 'not_started' | 'expired') =>
    refused(422, 'COUPON_NOT_ACTIVE', 'Coupon not active', `Coupon ${couponCode} cannot be used now: its campaign is ${reason.replace('_', ' ')}`, { couponCode, reason }),
  notForMember: (couponCode: string) => refused(422, 'COUPON_NOT_FOR_MEMBER', 'Coupon issued to another member', `Coupon ${couponCode} was issued to another member`, { couponCode }),
  duplicate: (couponCode: string) =>
    refused(422, 'COUPON_DUPLICATE', 'Coupon used twice', `Coupon ${couponCode} repeats a code or a campaign already used in this purchase`, { couponCode }),
  minSpendNotMet: (couponCode: string, minSpend: string) =>
    refused(422, 'COUPON_MIN_SPEND_NOT_MET', 'Minimum spend not met', `Coupon ${couponCode} needs a purchase of at least ${minSpend} before coupons`, { couponCode, minSpend }),
  budgetExhausted: (couponCode: string) =>
    refused(409, 'COUPON_BUDGET_EXHAUSTED', 'Coupon budget exhausted', `The campaign of coupon ${couponCode} has not enough budget left for this discount`, { couponCode }),
  usedUp: (couponCode: string) => refused(409, 'COUPON_USED_UP', 'Coupon used up', `Coupon ${couponCode} has been used as often as it may be`, { couponCode }),
  memberLimitReached: (couponCode: string) =>
    refused(409, 'COUPON_MEMBER_LIMIT_REACHED', 'Coupon limit per member reached', `This member has used the campaign of coupon ${couponCode} as often as it allows`, { couponCode }),
}

export const campaignErrors = {
  notFound: () => new AppError(404, 'CAMPAIGN_NOT_FOUND', 'Campaign not found', 'No coupon campaign of this program has this id'),
  archived: () => new AppError(409, 'CAMPAIGN_ARCHIVED', 'Campaign archived', 'The campaign is archived; it issues no more codes'),
  ended: () => new AppError(409, 'CAMPAIGN_ENDED', 'Campaign ended', 'The campaign’s validity has ended; a new code could never be used'),
  shared: () => new AppError(409, 'CAMPAIGN_SHARED_CODE', 'Campaign uses one shared code', 'The campaign uses one shared code; generate codes only for campaigns with codeMode "unique"'),
  memberNotFound: () => new AppError(404, 'MEMBER_NOT_FOUND', 'Member not found', 'No member of this program has this id'),
}
