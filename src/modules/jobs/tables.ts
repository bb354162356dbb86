import { sql } from 'drizzle-orm'
import { check, date, index, integer, jsonb, pgTable, primaryKey, text, timestamp, unique, uuid } from 'drizzle-orm/pg-core'
import { programs } from '../programs/tables.js'

/**
 * One row per run of a job for a program. Daily jobs claim their run by (program, job, run date):
 * the unique key makes a second run of the same local date (another instance, a retry, a late
 * tick) find the first instead of running again. Other jobs have no run date (NULLs never
 * collide) and are recorded when started through the API.
 */
export const jobRuns = pgTable(
  'job_runs',
  {
    programId: uuid()
      .notNull()
      .references(() => programs.id),
    id: uuid().notNull(),
    job: text().notNull(),
    /** The asOf calendar date in the program time zone; null for jobs that are not daily. */
    runDate: date({ mode: 'string' }),
    asOf: timestamp({ withTimezone: true }).notNull(),
    status: text().notNull(),
    /** Incremented by every claim (a retry of a failed run, a take-over of a stale one): the fencing token of the claimant. */
    attempts: integer().notNull().default(1),
    /** The service instance that holds the claim. */
    claimedBy: text().notNull(),
    startedAt: timestamp({ withTimezone: true }).notNull().defaultNow(),
    /** Refreshed while the job runs; a claim whose heartbeat is older than the lease may be taken over. */
    heartbeatAt: timestamp({ withTimezone: true }).notNull().defaultNow(),
    finishedAt: timestamp({ withTimezone: true }),
    /** The job's counters, e.g. {"granted": 3}. */
    result: jsonb().$type<Record<string, unknown>>(),
    error: text(),
  },
  (t) => [
    primaryKey({ name: 'job_runs_pkey', columns: [t.programId, t.id] }),
    unique('job_runs_program_job_date_key').on(t.programId, t.job, t.runDate),
    index('job_runs_program_job_idx').on(t.programId, t.job, t.id),
    check('job_runs_status_check', sql`${t.status} in ('running', 'succeeded', 'failed')`),
  ],
)

export type JobRunRow = typeof jobRuns.$inferSelect
