// Segment campaigns as the API shows them, pure.
import { isoTimestamp } from '../../shared/schemas.js'
import { pointsNumber } from '../ledger/views.js'
import { segmentPath } from '../saved-segments/views.js'
import type { CampaignProgress } from './repository.js'
import type { CampaignView } from './schemas.js'
import type { SegmentCampaignRow } from './tables.js'

export const campaignPath = (id: string) => `/v1/segment-campaigns/${id}`

const NOTHING: CampaignProgress = { done: 0, granted: 0, skipped: 0, points: 0n, coupons: 0, queued: 0, suppressed: 0 }

export function campaignView(c: SegmentCampaignRow, progress: CampaignProgress = NOTHING): CampaignView {
  return {
    id: c.id,
    segmentId: c.segmentId,
    name: c.name,
    grant: c.grantKind === 'points' ? { kind: 'points', points: pointsNumber(c.points!) } : { kind: 'coupon', couponCampaignId: c.couponCampaignId! },
    filter: c.filter,
    status: c.status as CampaignView['status'],
    asOf: isoTimestamp(c.asOf),
    progress: { done: progress.done, total: c.total },
    granted: progress.granted,
    skipped: progress.skipped,
    points: pointsNumber(progress.points),
    coupons: progress.coupons,
    events: { queued: progress.queued, suppressed: progress.suppressed },
    error: c.error,
    createdAt: isoTimestamp(c.createdAt),
    completedAt: c.completedAt ? isoTimestamp(c.completedAt) : null,
    links: { self: campaignPath(c.id), segment: segmentPath(c.segmentId), runs: `${campaignPath(c.id)}/runs` },
  }
}
