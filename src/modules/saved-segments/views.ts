// Saved segments as the API shows them, pure.
import { isoTimestamp } from '../../shared/schemas.js'
import type { SegmentView } from './schemas.js'
import type { SegmentRow } from './tables.js'

export const segmentPath = (id: string) => `/v1/segments/${id}`

export function segmentView(s: SegmentRow): SegmentView {
  const self = segmentPath(s.id)
  return {
    id: s.id,
    name: s.name,
    filter: s.filter,
    status: s.status as 'active' | 'archived',
    createdAt: isoTimestamp(s.createdAt),
    archivedAt: s.archivedAt ? isoTimestamp(s.archivedAt) : null,
    links: { self, members: `${self}/members`, count: `${self}/count`, campaigns: `${self}/campaigns` },
  }
}
