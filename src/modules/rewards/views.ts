// Rewards and redemptions as the API shows them, pure.
import { isoTimestamp } from '../../shared/schemas.js'
import { pointsNumber } from '../ledger/views.js'
import type { RedemptionView, RewardView } from './schemas.js'
import type { RewardRedemptionRow, RewardRow } from './tables.js'

export function rewardView(r: RewardRow): RewardView {
  return {
    id: r.id,
    name: r.name,
    pointsPrice: pointsNumber(r.pointsPrice),
    stock: r.stockLeft === null ? null : pointsNumber(r.stockLeft),
    redemptions: Number(r.redemptions),
    validFrom: isoTimestamp(r.validFrom),
    validTo: r.validTo ? isoTimestamp(r.validTo) : null,
    maxPerMember: r.maxPerMember,
    gives: r.givesKind === 'coupon' ? { kind: 'coupon', campaignId: r.campaignId! } : { kind: 'item', sku: r.sku!, description: r.itemDescription },
    active: r.active,
    createdAt: isoTimestamp(r.createdAt),
    updatedAt: isoTimestamp(r.updatedAt),
  }
}

export function redemptionView(r: RewardRedemptionRow): RedemptionView {
  return {
    id: r.id,
    memberId: r.memberId,
    reward: { id: r.rewardId, name: r.rewardName },
    points: pointsNumber(r.points),
    gives: r.givesKind === 'coupon' ? { kind: 'coupon', campaignId: r.campaignId!, couponCode: r.couponCode! } : { kind: 'item', sku: r.sku!, description: r.itemDescription },
    status: r.status as 'active' | 'cancelled',
    entryId: r.entryId,
    createdAt: isoTimestamp(r.createdAt),
    cancelledAt: r.cancelledAt ? isoTimestamp(r.cancelledAt) : null,
    cancellationEntryId: r.cancellationEntryId,
  }
}
