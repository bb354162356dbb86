import { z } from 'zod'
import { AppError } from '../../shared/errors.js'
import { cursorSchema, limitSchema } from '../../shared/pagination.js'
import { startOfDayIn } from '../../shared/period.js'

export const jobParamsSchema = z.object({ name: z.string().min(1).max(64) }).strict()

export const runBodySchema = z
  .object({
    asOf: z
      .string()
      .max(64)
      .optional()
      .describe(
        'When the job runs for: a date YYYY-MM-DD (the start of that day in the program time zone) or an ISO 8601 instant with offset; default now. ' +
          'A daily job runs once per program and local date of asOf.',
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

const DATE = /^\d{4}-\d{2}-\d{2}$/

const invalidAsOf = (message: string) =>
  new AppError(422, 'INVALID_AS_OF', 'Invalid asOf', `asOf: ${message}`, { errors: [{ path: 'body/asOf', message }] })

/** asOf as an instant: a date is the start of that day in the program's zone; an instant needs an offset. */
export function resolveAsOf(text: string | undefined, timezone: string, now: Date): Date {
  if (text === undefined) return now
  if (DATE.test(text)) {
    if (!z.iso.date().safeParse(text).success) throw invalidAsOf('not a calendar date')
    return startOfDayIn(text, timezone)
  }
  if (!z.iso.datetime({ offset: true }).safeParse(text).success) {
    throw invalidAsOf('expected YYYY-MM-DD or an ISO 8601 date-time with offset, e.g. 2026-03-15T08:00:00+07:00')
  }
  const at = new Date(text)
  if (Number.isNaN(at.getTime())) throw invalidAsOf('not a valid instant')
  return at
}
