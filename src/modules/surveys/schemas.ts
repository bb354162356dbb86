import { z } from 'zod'
import { timestampSchema } from '../../shared/schemas.js'

export const NPS_CHANNELS = ['pos', 'sms', 'email', 'web', 'app', 'phone', 'other'] as const

export const npsResponseBodySchema = z
  .object({
    memberId: z.uuid(),
    score: z.number().int().min(0).max(10).describe('"How likely are you to recommend us?" 0-10'),
    comment: z.string().trim().min(1).max(2000).optional(),
    channel: z.enum(NPS_CHANNELS),
    respondedAt: timestampSchema.optional().describe('When the member answered, if earlier than now (a paper survey typed in later)'),
  })
  .strict()

export const npsResponseSchema = z
  .object({
    id: z.uuid(),
    memberId: z.uuid(),
    score: z.number().int(),
    category: z.enum(['promoter', 'passive', 'detractor']),
    comment: z.string().nullable(),
    channel: z.string(),
    respondedAt: z.string(),
    recordedAt: z.string(),
  })
  .meta({ id: 'NpsResponse' })

export type NpsResponseBody = z.output<typeof npsResponseBodySchema>
