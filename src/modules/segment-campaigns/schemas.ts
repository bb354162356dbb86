import { z } from 'zod'
import { cursorSchema, limitSchema } from '../../shared/pagination.js'
import { segmentFilterSchema } from '../saved-segments/filter.js'

const grantSchema = z
  .discriminatedUnion('kind', [
    z.object({ kind: z.literal('points'), points: z.number().int().min(1).max(1_000_000_000).describe('Points to each member (a bonus entry each, expiring like points earned now)') }).strict(),
    z.object({ kind: z.literal('coupon'), couponCampaignId: z.uuid().describe('A unique-code coupon campaign: each member gets a code of their own') }).strict(),
  ])
  .meta({ id: 'SegmentCampaignGrant' })

export const campaignCreateSchema = z
  .object({
    name: z.string().trim().min(1).max(120).describe('Shown to members in the campaign.granted event'),
    grant: grantSchema,
  })
  .strict()

export type CampaignCreate = z.output<typeof campaignCreateSchema>

export const campaignParamsSchema = z.object({ campaignId: z.uuid() })

export const campaignQuerySchema = z
  .object({ segmentId: z.uuid().optional().describe('Only the campaigns of this segment'), limit: limitSchema, cursor: cursorSchema })
  .strict()

export const campaignSchema = z
  .object({
    id: z.uuid(),
    segmentId: z.uuid(),
    name: z.string(),
    grant: grantSchema,
    filter: segmentFilterSchema.describe('The segment’s filter as the campaign applied it'),
    status: z
      .enum(['running', 'completed', 'failed'])
      .describe('running: members are being granted (progress shows how far). completed: every member has its grant. failed: a run stopped on an error (`error`); POST .../runs resumes it'),
    asOf: z.string().describe('When the segment was evaluated: its members then are the campaign’s'),
    progress: z.object({ done: z.number().int().describe('Members handled (granted or skipped)'), total: z.number().int().describe('The campaign’s members') }),
    granted: z.number().int().describe('Members who received the grant'),
    skipped: z.number().int().describe('Members erased after the campaign was created: nothing given'),
    points: z.number().int().describe('Points granted so far, in all'),
    coupons: z.number().int().describe('Coupon codes issued so far'),
    events: z.object({
      queued: z.number().int().describe('campaign.granted events queued (consent given; sent inside the sending window)'),
      suppressed: z.number().int().describe('Recorded as suppressed: no consent, Do-Not-Call or no phone'),
    }),
    error: z.string().nullable().describe('failed: why'),
    createdAt: z.string(),
    completedAt: z.string().nullable(),
    links: z.object({ self: z.string(), segment: z.string(), runs: z.string() }),
  })
  .meta({ id: 'SegmentCampaign' })

export type CampaignView = z.output<typeof campaignSchema>
