import { sql, type SQL } from 'drizzle-orm'
import { queryRows, type Executor } from '../../db/client.js'
import { countedPurchases, ts } from './counted.js'

/** The named segments of DOMAIN.md ("Hibernating" of some charts is folded into Lost). */
export const SEGMENTS = [
  'champions',
  'loyal_customers',
  'potential_loyalist',
  'new_customers',
  'promising',
  'need_attention',
  'about_to_sleep',
  'at_risk',
  'cant_lose_them',
  'lost',
] as const
export type Segment = (typeof SEGMENTS)[number]

/**
 * Segment by recency score (rows, R 1-5) and frequency score (columns, F 1-5): the widely used
 * RF grid. Monetary is scored and reported but does not move a member between segments.
 */
export const RF_GRID: readonly (readonly Segment[])[] = [
  /* R1 */ ['lost', 'lost', 'at_risk', 'at_risk', 'cant_lose_them'],
  /* R2 */ ['lost', 'lost', 'at_risk', 'at_risk', 'cant_lose_them'],
  /* R3 */ ['about_to_sleep', 'about_to_sleep', 'need_attention', 'loyal_customers', 'loyal_customers'],
  /* R4 */ ['promising', 'potential_loyalist', 'potential_loyalist', 'loyal_customers', 'loyal_customers'],
  /* R5 */ ['new_customers', 'potential_loyalist', 'potential_loyalist', 'champions', 'champions'],
]

/** The grid as a SQL CASE over (r, f): built from constants, so it can be inlined. */
const segmentCase = sql.raw(
  `case (r - 1) * 5 + f ${RF_GRID.flatMap((row, ri) => row.map((s, fi) => `when ${ri * 5 + fi + 1} then '${s}'`)).join(' ')} end`,
)

/**
 * Every member with a counted purchase before `asOf`, scored 1-5 on each dimension by quintile of
 * rank: score = 1 + floor(5 * (members strictly worse) / members). Ties share a score (two members
 * with the same frequency always score the same), and the best fifth scores 5.
 * - recency: calendar days (program zone) from the day of the last purchase to the day asOf ends
 *   (a purchase today: 0; fewer is better)
 * - frequency: counted purchases; monetary: their total net of returns
 */
export function scoredMembersSql(programId: string, tz: string, asOf: Date): SQL {
  return sql`
    select member_id, recency_days, frequency, monetary, r, f, m, ${segmentCase} as segment
      from (
        select member_id, recency_days, frequency, monetary,
               1 + (5 * (rank() over (order by recency_days desc) - 1)) / n as r,
               1 + (5 * (rank() over (order by frequency) - 1)) / n as f,
               1 + (5 * (rank() over (order by monetary) - 1)) / n as m
          from (
            select member_id,
                   ((${ts(asOf)} - interval '1 microsecond') at time zone ${tz})::date - (max(occurred_at) at time zone ${tz})::date as recency_days,
                   count(*) as frequency, sum(net) as monetary, count(*) over () as n
              from (${countedPurchases(programId, asOf)}) counted
             group by member_id) per_member) scored`
}

export interface ScoreBand {
  score: number
  members: number
  min: string
  max: string
}

export async function rfmReport(tx: Executor, programId: string, tz: string, asOf: Date) {
  const rows = await queryRows<Record<string, string>>(
    tx,
    sql`with s as (${scoredMembersSql(programId, tz, asOf)})
        select 'segment' as kind, segment as key, count(*)::text as members, null as min, null as max from s group by segment
        union all select 'recency', r::text, count(*)::text, min(recency_days)::text, max(recency_days)::text from s group by r
        union all select 'frequency', f::text, count(*)::text, min(frequency)::text, max(frequency)::text from s group by f
        union all select 'monetary', m::text, count(*)::text, min(monetary)::text, max(monetary)::text from s group by m`,
  )
  const of = (kind: string) => rows.filter((r) => r.kind === kind)
  const bands = (kind: string): ScoreBand[] =>
    of(kind)
      .map((r) => ({ score: Number(r.key), members: Number(r.members), min: r.min!, max: r.max! }))
      .sort((a, b) => a.score - b.score)
  const counts = new Map(of('segment').map((r) => [r.key as Segment, Number(r.members)]))
  const total = [...counts.values()].reduce((a, b) => a + b, 0)
  return { total, segments: SEGMENTS.map((segment) => ({ segment, members: counts.get(segment) ?? 0 })), recency: bands('recency'), frequency: bands('frequency'), monetary: bands('monetary') }
}

/** Member ids of one segment, for `GET /v1/members?segment=`. */
export const membersInSegmentSql = (programId: string, tz: string, asOf: Date, segment: Segment): SQL =>
  sql`select member_id from (${scoredMembersSql(programId, tz, asOf)}) rfm where segment = ${segment}`
