import type { JobDefinition } from '../job-contract/definition.js'
import type { JobRun } from './runner.js'

export const jobView = (j: JobDefinition) => ({ name: j.name, description: j.description, daily: j.daily })

export const runView = (r: JobRun) => ({
  id: r.id,
  job: r.job,
  runDate: r.runDate,
  asOf: r.asOf.toISOString(),
  status: r.status,
  attempts: r.attempts,
  startedAt: r.startedAt.toISOString(),
  finishedAt: r.finishedAt?.toISOString() ?? null,
  result: r.result,
  error: r.error,
})
