import { sql } from 'drizzle-orm'
import { queryRows, type Executor } from '../../db/client.js'
import { AppError } from '../../shared/errors.js'
import { localDate, type Period } from '../../shared/period.js'
import { countedPurchases, ratio, ts } from '../segments/counted.js'

export type CohortUnit = 'month' | 'quarter' | 'year'

const MONTHS: Record<CohortUnit, number> = { month: 1, quarter: 3, year: 12 }

/** YYYY-MM-DD of the first day of a calendar bucket -> its index in months. */
const monthIndex = (date: string) => Number(date.slice(0, 4)) * 12 + Number(date.slice(5, 7)) - 1

export function bucketLabel(date: string, unit: CohortUnit): string {
  if (unit === 'year') return date.slice(0, 4)
  if (unit === 'quarter') return `${date.slice(0, 4)}-Q${Math.floor((Number(date.slice(5, 7)) - 1) / 3) + 1}`
  return date.slice(0, 7)
}

function bucketAt(firstBucket: string, offset: number, unit: CohortUnit): string {
  const idx = monthIndex(firstBucket) + offset * MONTHS[unit]
  return `${Math.floor(idx / 12)}-${String((idx % 12) + 1).padStart(2, '0')}-01`
}

/**
 * The most calendar buckets a cohort table may span: a table is up to buckets x buckets / 2 cells,
 * so 120 (ten years of months) is at most 7,260. Measured on PostgreSQL, 1 January 1900 to
 * 31 December 2999 by month answered 650 kB for one cohort (13,200 cells); ten years of monthly
 * cohorts over that range would be 1.6 million cells.
 */
export const MAX_COHORT_BUCKETS = 120

/** How many buckets of `unit` the period touches, in the program zone (its last instant included). */
export function bucketsSpanned(period: Period, tz: string, unit: CohortUnit): number {
  const first = monthIndex(localDate(period.from, tz))
  const last = monthIndex(localDate(new Date(period.to.getTime() - 1), tz))
  return Math.floor(last / MONTHS[unit]) - Math.floor(first / MONTHS[unit]) + 1
}

/** Refuses a period longer than MAX_COHORT_BUCKETS buckets of `unit`: 422 RANGE_TOO_LONG with the limit. */
export function assertCohortRange(period: Period, tz: string, unit: CohortUnit): void {
  const buckets = bucketsSpanned(period, tz, unit)
  if (buckets <= MAX_COHORT_BUCKETS) return
  throw new AppError(422, 'RANGE_TOO_LONG', 'Range too long', `A cohort table by ${unit} spans at most ${MAX_COHORT_BUCKETS} ${unit}s; this period spans ${buckets}`, {
    by: unit,
    maxBuckets: MAX_COHORT_BUCKETS,
    buckets,
  })
}

export interface CohortCell {
  cohort: string
  bucket: string
  active: number
}

/**
 * Retention cohorts: members grouped by the calendar month (quarter, year) of their first counted
 * purchase, in the program's time zone, for first purchases in the period; for each later bucket up
 * to the end of the period, how many of them made a counted purchase in it.
 */
export async function cohortCells(tx: Executor, programId: string, tz: string, period: Period, unit: CohortUnit): Promise<{ cells: CohortCell[]; lastBucket: string }> {
  const bucket = (col: ReturnType<typeof sql>) => sql`to_char(date_trunc(${unit}, ${col} at time zone ${tz}), 'YYYY-MM-DD')`
  const rows = await queryRows<Record<string, string>>(
    tx,
    sql`with counted as (${countedPurchases(programId, period.to)}),
        firsts as (select member_id, min(occurred_at) as first_at from counted group by member_id having min(occurred_at) >= ${ts(period.from)})
        select ${bucket(sql`f.first_at`)} as cohort, ${bucket(sql`c.occurred_at`)} as bucket, count(distinct c.member_id)::text as active
          from firsts f join counted c on c.member_id = f.member_id
         group by 1, 2
         order by 1, 2`,
  )
  const [last] = await queryRows<{ bucket: string }>(tx, sql`select ${bucket(sql`(${ts(period.to)} - interval '1 microsecond')`)} as bucket`)
  return { cells: rows.map((r) => ({ cohort: r.cohort!, bucket: r.bucket!, active: Number(r.active) })), lastBucket: last!.bucket }
}

/** The table: one row per cohort, one column per bucket since its start (offset 0 is the cohort itself, 100%). */
export function cohortTable(cells: CohortCell[], lastBucket: string, unit: CohortUnit) {
  const cohorts = new Map<string, Map<number, number>>()
  for (const c of cells) {
    const offset = (monthIndex(c.bucket) - monthIndex(c.cohort)) / MONTHS[unit]
    if (!cohorts.has(c.cohort)) cohorts.set(c.cohort, new Map())
    cohorts.get(c.cohort)!.set(offset, c.active)
  }
  return [...cohorts.entries()].map(([start, byOffset]) => {
    const size = byOffset.get(0) ?? 0
    const span = (monthIndex(lastBucket) - monthIndex(start)) / MONTHS[unit]
    return {
      cohort: bucketLabel(start, unit),
      startsOn: start,
      members: size,
      retention: Array.from({ length: span + 1 }, (_, offset) => {
        const active = byOffset.get(offset) ?? 0
        return { offset, period: bucketLabel(bucketAt(start, offset, unit), unit), active, rate: ratio(active, size) }
      }),
    }
  })
}
