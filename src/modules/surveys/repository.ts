import { sql } from 'drizzle-orm'
import { queryRows, type Executor } from '../../db/client.js'
import type { Period } from '../../shared/period.js'
import type { NpsCounts } from './nps.js'
import { npsResponses, type NpsResponseRow } from './tables.js'

export async function insertNpsResponse(ex: Executor, row: typeof npsResponses.$inferInsert): Promise<NpsResponseRow> {
  const [created] = await ex.insert(npsResponses).values(row).returning()
  return created!
}

/** Erasure (Law 91/2025/QH15): the member's comments go; the anonymous scores keep counting. */
export async function eraseNpsComments(ex: Executor, programId: string, memberId: string): Promise<void> {
  await ex.execute(sql`update nps_responses set comment = null where program_id = ${programId} and member_id = ${memberId} and comment is not null`)
}

/** Answers in the period, in total and per calendar month of the program zone, counted in SQL. */
export async function npsCounts(ex: Executor, programId: string, tz: string, period: Period): Promise<{ month: string | null; counts: NpsCounts }[]> {
  const rows = await queryRows<Record<string, string | null>>(
    ex,
    sql`select month,
               count(*) filter (where score >= 9)::text as promoters,
               count(*) filter (where score between 7 and 8)::text as passives,
               count(*) filter (where score <= 6)::text as detractors
          from (select to_char(responded_at at time zone ${tz}, 'YYYY-MM') as month, score
                  from nps_responses
                 where program_id = ${programId}
                   and responded_at >= ${period.from.toISOString()}::timestamptz and responded_at < ${period.to.toISOString()}::timestamptz) answers
         group by rollup (month)
         order by month nulls first`,
  )
  return rows.map((r) => ({ month: r.month ?? null, counts: { promoters: Number(r.promoters), passives: Number(r.passives), detractors: Number(r.detractors) } }))
}
