// The nightly analytics snapshot (job `analytics-snapshot`, docs/finance.md): at a million
// members and ten million purchases the RFM scores, lifecycle stages, summaries and cohorts read
// every counted purchase of the program, tens of seconds each on two cores (docs/benchmarks.md),
// so a daily job computes them and the reports answer from the latest snapshot, with its as-of
// time, when the request asks what the job computed. Answers are the live report's own (reports.ts,
// summary.ts) at the snapshot's moment; only the `snapshot` field is added.
import { sql } from 'drizzle-orm'
import { inSnapshot } from '../../db/snapshot.js'
import { queryRows, type Database, type Executor } from '../../db/client.js'
import { storeSnapshot } from '../segments/snapshots.js'
import { newId } from '../../shared/ids.js'
import { localDate, resolvePeriod, type Period } from '../../shared/period.js'
import type { JobContext, JobDefinition } from '../job-contract/definition.js'
import type { ProgramRow } from '../programs/tables.js'
import { stagesSql } from '../segments/lifecycle.js'
import { scoredMembersSql } from '../segments/rfm.js'
import type { CohortUnit } from './cohorts.js'
import { cohortsAnswer, lifecycleAnswer, rfmAnswer } from './reports.js'
import { analyticsSummary, DEFAULT_ACTIVE_DAYS } from './summary.js'

/**
 * Programs with fewer purchases than this are answered live only (the job skips them): below it
 * every report answers in under 2 s on the benchmark machine, and a live answer is always current.
 */
export const DEFAULT_SNAPSHOT_MIN_PURCHASES = 1_000_000

const minPurchasesOf = new WeakMap<Database, number>()
/** The app sets ANALYTICS_SNAPSHOT_MIN_PURCHASES on its database once; the job reads it. */
export function setSnapshotMinPurchases(database: Database, purchases: number): void {
  minPurchasesOf.set(database, purchases)
}

/** The question a summary or cohort table answers, as stored in `params`: the resolved period and option. */
export const periodKey = (period: Period, option: string | number) => `${period.from.toISOString()}/${period.to.toISOString()}/${option}`

function addDays(date: string, days: number): string {
  const d = new Date(`${date}T00:00:00Z`)
  d.setUTCDate(d.getUTCDate() + days)
  return d.toISOString().slice(0, 10)
}

/**
 * The periods the job computes summaries and cohort tables for, all closed by the snapshot (they
 * end with the day before asOf's, program zone): the last 30 and 365 days and the previous
 * calendar month. A request for any other period answers live.
 */
export function snapshotPeriods(asOf: Date, tz: string): { summaries: Period[]; cohorts: { period: Period; by: CohortUnit }[] } {
  const yesterday = addDays(localDate(asOf, tz), -1)
  const monthStart = `${localDate(asOf, tz).slice(0, 7)}-01`
  const lastDays = (n: number) => resolvePeriod({ from: addDays(yesterday, 1 - n), to: yesterday }, tz)
  const previousMonth = resolvePeriod({ from: `${addDays(monthStart, -1).slice(0, 7)}-01`, to: addDays(monthStart, -1) }, tz)
  return { summaries: [lastDays(30), lastDays(365), previousMonth], cohorts: [{ period: lastDays(365), by: 'month' }] }
}

/**
 * Takes the snapshot of `program` as of `asOf`. RFM, lifecycle and every member's segment and stage
 * in one repeatable-read transaction (they agree with each other, as the live reports do); each
 * summary and cohort table in a transaction of its own, as each live request is.
 */
export async function takeAnalyticsSnapshot(database: Database, program: ProgramRow, asOf: Date): Promise<{ members: number; reports: number }> {
  let members = 0
  await database.db.transaction(
    async (raw) => {
      const tx = raw as unknown as Executor
      const rfmId = newId()
      await storeSnapshot(tx, program.id, rfmId, asOf, 'rfm', '', await rfmAnswer(tx, program, asOf))
      await storeSnapshot(tx, program.id, newId(), asOf, 'lifecycle', '', await lifecycleAnswer(tx, program, asOf))
      const [inserted] = await queryRows<{ n: string }>(
        tx,
        sql`with inserted as (
              insert into member_analytics_snapshots (program_id, snapshot_id, member_id, segment, stage)
              select ${program.id}::uuid, ${rfmId}::uuid, s.member_id, r.segment, s.stage
                from (${stagesSql(program.id, asOf)}) s
                left join (${scoredMembersSql(program.id, program.timezone, asOf)}) r on r.member_id = s.member_id
              returning 1)
            select count(*)::text as n from inserted`,
      )
      members = Number(inserted!.n)
    },
    { isolationLevel: 'repeatable read' },
  )
  const { summaries, cohorts } = snapshotPeriods(asOf, program.timezone)
  for (const period of summaries) {
    const answer = await inSnapshot(database, (tx) => analyticsSummary(tx, program, period, DEFAULT_ACTIVE_DAYS))
    await storeSnapshot(database.db, program.id, newId(), asOf, 'summary', periodKey(period, DEFAULT_ACTIVE_DAYS), answer)
  }
  for (const { period, by } of cohorts) {
    const answer = await inSnapshot(database, (tx) => cohortsAnswer(tx, program, period, by))
    await storeSnapshot(database.db, program.id, newId(), asOf, 'cohorts', periodKey(period, by), answer)
  }
  return { members, reports: 2 + summaries.length + cohorts.length }
}

/** Whether the program has at least `min` purchases (reads at most `min` index entries). */
async function hasPurchases(ex: Executor, programId: string, min: number): Promise<boolean> {
  if (min <= 0) return true
  const [row] = await queryRows<{ n: string }>(ex, sql`select count(*)::text as n from (select 1 from purchases where program_id = ${programId} limit ${min}) p`)
  return Number(row!.n) >= min
}

async function run({ database, program, asOf }: JobContext): Promise<Record<string, number>> {
  if (!(await hasPurchases(database.db, program.id, minPurchasesOf.get(database) ?? DEFAULT_SNAPSHOT_MIN_PURCHASES))) return { skipped: 1, members: 0, reports: 0 }
  return { skipped: 0, ...(await takeAnalyticsSnapshot(database, program, asOf)) }
}

/** The dry run: whether the program is large enough to be snapshotted; it computes nothing. */
async function preview({ database, program }: JobContext) {
  const due = await hasPurchases(database.db, program.id, minPurchasesOf.get(database) ?? DEFAULT_SNAPSHOT_MIN_PURCHASES)
  return { result: { skipped: due ? 0 : 1 }, affected: [], affectedTotal: 0 }
}

export const analyticsSnapshotJob: JobDefinition = {
  name: 'analytics-snapshot',
  description: `Computes the RFM scores, lifecycle stages, summaries (last 30 and 365 days, previous month) and cohorts (last 365 days by month) of programs with ANALYTICS_SNAPSHOT_MIN_PURCHASES purchases or more (default ${DEFAULT_SNAPSHOT_MIN_PURCHASES.toLocaleString('en')}); the reports answer from it`,
  daily: true,
  run,
  preview,
}
