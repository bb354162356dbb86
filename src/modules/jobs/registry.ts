import { birthdayRewardsJob } from '../birthdays/job.js'
import { expirePointsJob } from '../ledger/expiry.js'
import { reviewTiersJob } from '../tiers/job.js'
import type { JobDefinition } from '../job-contract/definition.js'
import { voidExpiredHoldsJob } from './void-expired-holds.js'
import { purgeIdempotencyKeysJob } from './purge-idempotency-keys.js'
import { analyticsSnapshotJob } from '../analytics/snapshot.js'

export type { JobContext, JobDefinition } from '../job-contract/definition.js'

/** Every job the service runs: the scheduler runs the daily ones for each program, the API any of them on demand. */
export const jobs: JobDefinition[] = [expirePointsJob, reviewTiersJob, birthdayRewardsJob, voidExpiredHoldsJob, purgeIdempotencyKeysJob, analyticsSnapshotJob]

export const findJob = (name: string): JobDefinition | undefined => jobs.find((j) => j.name === name)
