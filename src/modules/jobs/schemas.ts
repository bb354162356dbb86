import { z } from 'zod'
import { cursorSchema, limitSchema } from '../../shared/pagination.js'

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
