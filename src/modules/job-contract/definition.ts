// What a job is, between the modules that define jobs (ledger's points expiry, tiers' review,
// birthdays, the expired holds of purchases) and src/modules/jobs, which lists, schedules and runs
// them. It sits apart from the runner because the runner imports every job.
import type { FastifyBaseLogger } from 'fastify'
import type { Database } from '../../db/client.js'
import type { ProgramRow } from '../programs/tables.js'
import type { JobPreview } from './preview.js'

export interface JobContext {
  database: Database
  program: ProgramRow
  /** The moment the job runs for: now on the schedule, any date or instant on demand. */
  asOf: Date
  log: FastifyBaseLogger
}

/**
 * A job the service runs on its schedule and on demand (POST /v1/jobs/{name}/runs). A daily job
 * runs once per program and local date: the runner claims (program, job, date) before calling
 * `run`. `run` must be idempotent at row level as well (a claim can be taken over after its lease
 * while the first run is still going), and returns counters, e.g. `{ granted: 3 }`. `preview` is
 * the dry run: it loads what `run` would load, plans the same way and writes nothing.
 */
export interface JobDefinition {
  name: string
  description: string
  daily: boolean
  run(ctx: JobContext): Promise<Record<string, number>>
  preview(ctx: JobContext): Promise<JobPreview>
}
