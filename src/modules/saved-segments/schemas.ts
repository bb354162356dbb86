import { z } from 'zod'
import { cursorSchema, limitSchema } from '../../shared/pagination.js'
import { segmentFilterSchema } from './filter.js'

export const segmentCreateSchema = z
  .object({
    name: z.string().trim().min(1).max(120),
    filter: segmentFilterSchema.default({}),
  })
  .strict()

export type SegmentCreate = z.output<typeof segmentCreateSchema>

export const segmentParamsSchema = z.object({ segmentId: z.uuid() })

export const segmentQuerySchema = z
  .object({
    status: z.enum(['active', 'archived']).optional().describe('Only segments of this status (default: both)'),
    limit: limitSchema,
    cursor: cursorSchema,
  })
  .strict()

export const segmentMembersQuerySchema = z.object({ limit: limitSchema, cursor: cursorSchema }).strict()

export const segmentSchema = z
  .object({
    id: z.uuid(),
    name: z.string(),
    filter: segmentFilterSchema,
    status: z.enum(['active', 'archived']).describe('archived: kept for the campaigns that name it; it takes no new campaign'),
    createdAt: z.string(),
    archivedAt: z.string().nullable(),
    links: z.object({ self: z.string(), members: z.string(), count: z.string(), campaigns: z.string() }),
  })
  .meta({ id: 'Segment' })

export type SegmentView = z.output<typeof segmentSchema>

export const segmentCountSchema = z
  .object({
    segmentId: z.uuid(),
    members: z.number().int().describe('Members in the segment now (enrolled, not erased, meeting every criterion)'),
    asOf: z.string().describe('The moment the segment was evaluated'),
  })
  .meta({ id: 'SegmentCount' })
