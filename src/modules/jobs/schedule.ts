import { asc, inArray } from 'drizzle-orm'
import type { FastifyBaseLogger } from 'fastify'
import type { Database } from '../../db/client.js'
import { localDate } from '../../shared/period.js'
import { programs, type ProgramRow } from '../programs/tables.js'
import type { JobDefinition } from '../job-contract/definition.js'
import { jobs as registeredJobs } from './registry.js'
import { runJob } from './runner.js'
import { voidExpiredHolds } from './void-expired-holds.js'
import { resumeSilentCampaigns } from '../segment-campaigns/service.js'

export interface TickOptions {
  /** Only these programs (tests on a shared database); default every program. */
  programIds?: string[]
  /** The jobs to consider; default the registry. */
  jobs?: JobDefinition[]
  /** Checked between runs: true stops the tick early (shutdown). */
  shouldStop?: () => boolean
}

export interface TickRun {
  programId: string
  job: string
  runDate: string | null
  outcome: 'ran' | 'replayed' | 'failed'
  result?: Record<string, number> | null
}

export interface TickReport {
  programs: number
  runs: TickRun[]
  /** Purchases voided by void-expired-holds; null when that sweep failed. */
  voided: number | null
  /** Runs started of segment campaigns whose runner went silent; null when that sweep failed or did not run. */
  resumed: number | null
}

/**
 * One pass of the in-process schedule at `now`: every daily job for every program (the claim by
 * local date makes this once per program and day, whichever instance gets there first), then
 * the sweep of expired holds, then segment campaigns whose runner went silent are started again
 * here. A program or job that fails is logged and the others go on.
 * `seen` remembers the runs this instance already found done, so later ticks of the same day
 * skip them without a round trip.
 */
export async function runScheduledJobs(database: Database, log: FastifyBaseLogger, now: Date, options: TickOptions = {}, seen?: Map<string, string>): Promise<TickReport> {
  const daily = (options.jobs ?? registeredJobs).filter((j) => j.daily)
  const stop = options.shouldStop ?? (() => false)
  const list: ProgramRow[] = options.programIds
    ? options.programIds.length === 0
      ? []
      : await database.db.select().from(programs).where(inArray(programs.id, options.programIds)).orderBy(asc(programs.id))
    : await database.db.select().from(programs).orderBy(asc(programs.id))
  const runs: TickRun[] = []

  for (const program of list) {
    for (const job of daily) {
      if (stop()) return { programs: list.length, runs, voided: null, resumed: null }
      const runDate = localDate(now, program.timezone)
      const key = `${program.id}/${job.name}`
      if (seen?.get(key) === runDate) continue
      try {
        const { run, replayed } = await runJob(database, program, job, now, { log })
        runs.push({ programId: program.id, job: job.name, runDate: run.runDate, outcome: replayed ? 'replayed' : run.status === 'failed' ? 'failed' : 'ran', result: run.result })
        if (run.status === 'succeeded') seen?.set(key, runDate)
        if (seen && seen.size > 100_000) seen.clear()
      } catch (err) {
        // The claim itself failed (database trouble): the next tick tries again.
        runs.push({ programId: program.id, job: job.name, runDate, outcome: 'failed' })
        log.error({ err, job: job.name, programId: program.id }, 'scheduled job could not run')
      }
    }
  }

  let voided: number | null = null
  if (!stop() && (options.jobs ?? registeredJobs).some((j) => j.name === 'void-expired-holds')) {
    try {
      if (options.programIds) {
        voided = 0
        for (const program of list) voided += (await voidExpiredHolds(database, now, program.id)).voided
      } else {
        voided = (await voidExpiredHolds(database, now)).voided
      }
      if (voided > 0) log.info({ job: 'void-expired-holds', voided }, 'job ran')
    } catch (err) {
      log.error({ err, job: 'void-expired-holds' }, 'job failed')
    }
  }
  let resumed: number | null = null
  if (!stop()) {
    try {
      resumed = await resumeSilentCampaigns(database, log, now, options.programIds)
    } catch (err) {
      log.error({ err, sweep: 'segment-campaigns' }, 'resuming silent segment campaigns failed')
    }
  }
  return { programs: list.length, runs, voided, resumed }
}
