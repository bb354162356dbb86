import { z } from 'zod'
import { cursorSchema, limitSchema } from '../../shared/pagination.js'
import { PREVIEW_ACTIONS, PREVIEW_LIMIT } from '../job-contract/preview.js'

export const jobParamsSchema = z.object({ name: z.string().min(1).max(64) }).strict()

export const runBodySchema = z
  .object({
    asOf: z
      .string()
      .max(64)
      .optional()
      .describe(
        'When the job runs for: a date YYYY-MM-DD (the start of that day in the program time zone) or an ISO 8601 instant with offset; default now. ' +
          'A daily job runs once per program and local date of asOf. Not later than now, nor before the day the program was created (a dry run may be dated anywhere in 1900-2999).',
      ),
    dryRun: z
      .boolean()
      .optional()
      .describe('true: answer what the run would do (counters, the members or purchases affected) and write nothing: no run is claimed or recorded, no entry, no event'),
  })
  .strict()

export const runsQuerySchema = z.object({ limit: limitSchema, cursor: cursorSchema }).strict()

export const jobSchema = z
  .object({
    name: z.string(),
    description: z.string(),
    daily: z.boolean().describe('true: runs once per program and local date (claimed by date); false: runs every scheduler interval, idempotent by row state'),
  })
  .meta({ id: 'Job' })

export const jobRunSchema = z
  .object({
    id: z.uuid(),
    job: z.string(),
    runDate: z.string().nullable().describe('The local date (program time zone) a daily run is for; null for other jobs'),
    asOf: z.string(),
    status: z.enum(['running', 'succeeded', 'failed']),
    attempts: z.number().int().describe('Claims of this run: more than 1 after a failed run was retried or a stalled one taken over'),
    startedAt: z.string(),
    finishedAt: z.string().nullable(),
    result: z.record(z.string(), z.number()).nullable().describe('The job’s counters, e.g. {"granted": 3}'),
    error: z.string().nullable(),
  })
  .meta({ id: 'JobRun' })

export const runResultSchema = jobRunSchema
  .extend({
    replayed: z.boolean().describe('true (status 200): this date’s run already existed and is returned as it stands; nothing ran now'),
  })
  .meta({ id: 'JobRunResult' })

export const dryRunSchema = z
  .object({
    job: z.string(),
    dryRun: z.literal(true),
    runDate: z.string().nullable().describe('The local date (program time zone) the run would be for; null for jobs that are not daily'),
    asOf: z.string(),
    result: z.record(z.string(), z.number()).describe('The counters the run would return now (it may find other rows when it really runs)'),
    affected: z
      .array(
        z.object({
          action: z.enum(PREVIEW_ACTIONS),
          memberId: z.string().nullable(),
          points: z.number().int().nullable().describe('Points the run would move for the member (expired, granted); null when none'),
          detail: z.record(z.string(), z.string().nullable()).optional().describe('fromTier and toTier (review-tiers), celebratedOn (birthday-rewards), purchaseId (void-expired-holds)'),
        }),
      )
      .describe(`The members (purchases for void-expired-holds) the run would change, at most ${PREVIEW_LIMIT}`),
    affectedTotal: z.number().int().describe('How many the run would change in all'),
  })
  .meta({ id: 'JobDryRun' })
