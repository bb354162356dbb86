import { randomUUID } from 'node:crypto'
import { hostname } from 'node:os'
import { sql } from 'drizzle-orm'
import type { FastifyBaseLogger } from 'fastify'
import pino from 'pino'
import { queryRows, type Database } from '../../db/client.js'
import { AppError } from '../../shared/errors.js'
import { newId } from '../../shared/ids.js'
import { localDate } from '../../shared/period.js'
import type { ProgramRow } from '../programs/tables.js'
import type { JobDefinition } from '../job-contract/definition.js'
import { findJob } from './registry.js'

/** A claim whose heartbeat is older than this is presumed dead (its instance crashed) and may be taken over. */
export const JOB_LEASE_MS = 10 * 60_000
const HEARTBEAT_MS = 60_000

/** This process, as recorded in job_runs.claimed_by. */
export const INSTANCE_ID = `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`

export interface JobRun {
  programId: string
  id: string
  job: string
  runDate: string | null
  asOf: Date
  status: 'running' | 'succeeded' | 'failed'
  attempts: number
  startedAt: Date
  finishedAt: Date | null
  result: Record<string, number> | null
  error: string | null
}

export interface RunOutcome {
  run: JobRun
  /** true: the run of this date was already claimed (done, or running elsewhere); nothing ran now. */
  replayed: boolean
}

export interface RunOptions {
  log?: FastifyBaseLogger
  leaseMs?: number
}

export const jobNotFound = (name: string) => new AppError(404, 'JOB_NOT_FOUND', 'Job not found', `There is no job named ${JSON.stringify(name)}`)

const silent = pino({ level: 'silent' }) as unknown as FastifyBaseLogger

/**
 * Runs a job for a program as of `asOf`. A daily job first claims (program, job, local date of
 * asOf): if that run exists and succeeded, or is running under a live claim (its heartbeat is
 * fresher than the lease), the existing record is returned with `replayed: true` and nothing
 * runs. A failed run, or one whose claimant stopped beating, is claimed again (attempts + 1).
 * The job's own writes are idempotent as well: the claim saves work, it is not the only guard.
 */
export async function runJob(database: Database, program: ProgramRow, job: string | JobDefinition, asOf: Date, options: RunOptions = {}): Promise<RunOutcome> {
  const definition = typeof job === 'string' ? findJob(job) : job
  if (!definition) throw jobNotFound(job as string)
  const log = (options.log ?? silent).child({ job: definition.name, programId: program.id })
  const leaseMs = options.leaseMs ?? JOB_LEASE_MS
  const runDate = definition.daily ? localDate(asOf, program.timezone) : null

  const [claimed] = await queryRows<RawRun>(
    database.db,
    sql`insert into job_runs as r (program_id, id, job, run_date, as_of, status, attempts, claimed_by, started_at, heartbeat_at)
        values (${program.id}::uuid, ${newId()}::uuid, ${definition.name}, ${runDate}::date, ${asOf.toISOString()}::timestamptz, 'running', 1, ${INSTANCE_ID}, now(), now())
        on conflict (program_id, job, run_date) do update
           set status = 'running', attempts = r.attempts + 1, claimed_by = excluded.claimed_by, as_of = excluded.as_of,
               started_at = now(), heartbeat_at = now(), finished_at = null, result = null, error = null
         where r.status = 'failed' or (r.status = 'running' and r.heartbeat_at < now() - ${leaseMs} * interval '1 millisecond')
        returning ${RUN_COLUMNS}`,
  )
  if (!claimed) {
    const [existing] = await queryRows<RawRun>(
      database.db,
      sql`select ${RUN_COLUMNS} from job_runs r where program_id = ${program.id}::uuid and job = ${definition.name} and run_date = ${runDate}::date`,
    )
    if (!existing) throw new Error(`job run of ${definition.name} for ${runDate} neither claimed nor found`)
    return { run: toRun(existing), replayed: true }
  }

  const run = toRun(claimed)
  const runLog = log.child({ runId: run.id, runDate, attempt: run.attempts })
  const heartbeat = setInterval(() => {
    queryRows(database.db, sql`update job_runs set heartbeat_at = now() where program_id = ${program.id}::uuid and id = ${run.id}::uuid and attempts = ${run.attempts} and status = 'running'`).catch(
      (err: unknown) => runLog.warn({ err }, 'job heartbeat failed'),
    )
  }, Math.min(HEARTBEAT_MS, Math.max(1000, Math.floor(leaseMs / 3))))
  heartbeat.unref()

  let status: 'succeeded' | 'failed'
  let result: Record<string, number> | null = null
  let error: string | null = null
  const started = Date.now()
  try {
    result = await definition.run({ database, program, asOf, log: runLog })
    status = 'succeeded'
    runLog.info({ result, ms: Date.now() - started }, 'job ran')
  } catch (err) {
    status = 'failed'
    // Stored and shown to the program's operators: an AppError's message is meant for them, anything else stays in the log.
    error = err instanceof AppError ? err.message : `The job failed (${err instanceof Error ? err.name : 'error'}); the service log has the details under runId ${run.id}`
    runLog.error({ err, ms: Date.now() - started }, 'job failed')
  } finally {
    clearInterval(heartbeat)
  }
  database.telemetry.emit('job', { programId: program.id, job: definition.name, status })

  // Fenced by the attempt: a claimant that lost its claim to a take-over does not overwrite the new one.
  const [finished] = await queryRows<RawRun>(
    database.db,
    sql`update job_runs r set status = ${status}, finished_at = now(), result = ${result === null ? null : JSON.stringify(result)}::jsonb, error = ${error}
         where program_id = ${program.id}::uuid and id = ${run.id}::uuid and attempts = ${run.attempts}
        returning ${RUN_COLUMNS}`,
  )
  if (!finished) {
    runLog.warn({ status }, 'job run was taken over by another instance before it finished; its outcome is not recorded')
    return { run: { ...run, status, result, error, finishedAt: new Date() }, replayed: false }
  }
  return { run: toRun(finished), replayed: false }
}

/** Recent runs of a job for a program, newest first (run ids are time-ordered). */
export async function listRuns(database: Database, programId: string, job: string, limit: number, beforeId?: string): Promise<JobRun[]> {
  const rows = await queryRows<RawRun>(
    database.db,
    sql`select ${RUN_COLUMNS} from job_runs r
         where program_id = ${programId}::uuid and job = ${job} ${beforeId ? sql`and id < ${beforeId}::uuid` : sql``}
         order by id desc limit ${limit}`,
  )
  return rows.map(toRun)
}

const RUN_COLUMNS = sql.raw(
  `r.program_id, r.id, r.job, r.run_date::text as run_date, r.as_of, r.status, r.attempts, r.started_at, r.finished_at, r.result::text as result, r.error`,
)

interface RawRun {
  program_id: string
  id: string
  job: string
  run_date: string | null
  as_of: Date | string
  status: JobRun['status']
  attempts: number | string
  started_at: Date | string
  finished_at: Date | string | null
  result: string | null
  error: string | null
}

function toRun(r: RawRun): JobRun {
  return {
    programId: r.program_id,
    id: r.id,
    job: r.job,
    runDate: r.run_date,
    asOf: new Date(r.as_of),
    status: r.status,
    attempts: Number(r.attempts),
    startedAt: new Date(r.started_at),
    finishedAt: r.finished_at === null ? null : new Date(r.finished_at),
    result: r.result === null ? null : (JSON.parse(r.result) as Record<string, number>),
    error: r.error,
  }
}
