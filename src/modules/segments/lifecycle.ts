import { sql, type SQL } from 'drizzle-orm'
import { queryRows, type Executor } from '../../db/client.js'
import { countedPurchases, daysBefore, ts } from './counted.js'

export const STAGES = ['new', 'growing', 'mature', 'declining', 'lapsed'] as const
export type LifecycleStage = (typeof STAGES)[number]

/** Thresholds of the lifecycle (days are 24-hour periods before the moment asked about). */
export const LIFECYCLE = {
  /** A first purchase this recent (or, with none yet, an enrolment) makes a member new. */
  newDays: 90,
  /** No purchase for longer than this: declining. */
  decliningAfterDays: 90,
  /** No purchase for longer than this: lapsed. */
  lapsedAfterDays: 180,
  /** This many purchases in the last year make an established customer mature rather than growing. */
  maturePurchasesPerYear: 4,
} as const

/**
 * A member's stage from recency and frequency, first rule that applies:
 * 1. no purchase yet: new if enrolled within newDays, else lapsed
 * 2. last purchase more than lapsedAfterDays ago: lapsed
 * 3. first purchase within newDays: new
 * 4. last purchase more than decliningAfterDays ago: declining
 * 5. maturePurchasesPerYear or more purchases in the last 365 days: mature
 * 6. otherwise: growing
 * The member view decides with this function; stagesSql says the same in SQL for counting and
 * filtering, and a test holds the two to the same answers.
 */
export function lifecycleStage(input: { enrolledAt: Date; firstPurchaseAt: Date | null; lastPurchaseAt: Date | null; purchasesLastYear: number }, asOf: Date): LifecycleStage {
  const newSince = daysBefore(asOf, LIFECYCLE.newDays)
  if (!input.lastPurchaseAt || !input.firstPurchaseAt) return input.enrolledAt >= newSince ? 'new' : 'lapsed'
  if (input.lastPurchaseAt < daysBefore(asOf, LIFECYCLE.lapsedAfterDays)) return 'lapsed'
  if (input.firstPurchaseAt >= newSince) return 'new'
  if (input.lastPurchaseAt < daysBefore(asOf, LIFECYCLE.decliningAfterDays)) return 'declining'
  return input.purchasesLastYear >= LIFECYCLE.maturePurchasesPerYear ? 'mature' : 'growing'
}

/** (member_id, stage) of every member enrolled before asOf: lifecycleStage in SQL, for counting and filtering. */
export function stagesSql(programId: string, asOf: Date): SQL {
  const newSince = ts(daysBefore(asOf, LIFECYCLE.newDays))
  return sql`
    select m.id as member_id,
           case
             when p.last_at is null then case when m.created_at >= ${newSince} then 'new' else 'lapsed' end
             when p.last_at < ${ts(daysBefore(asOf, LIFECYCLE.lapsedAfterDays))} then 'lapsed'
             when p.first_at >= ${newSince} then 'new'
             when p.last_at < ${ts(daysBefore(asOf, LIFECYCLE.decliningAfterDays))} then 'declining'
             when p.last_year >= ${LIFECYCLE.maturePurchasesPerYear} then 'mature'
             else 'growing'
           end as stage
      from members m
      left join (${purchaseFactsSql(programId, asOf)}) p on p.member_id = m.id
     where m.program_id = ${programId} and m.created_at < ${ts(asOf)}`
}

function purchaseFactsSql(programId: string, asOf: Date, memberIds?: string[]): SQL {
  return sql`
    select member_id, min(occurred_at) as first_at, max(occurred_at) as last_at,
           count(*) filter (where occurred_at >= ${ts(daysBefore(asOf, 365))}) as last_year
      from (${countedPurchases(programId, asOf)}) counted
     ${memberIds ? sql`where member_id in (${sql.join(memberIds.map((id) => sql`${id}::uuid`), sql`, `)})` : sql``}
     group by member_id`
}

/** The stage of each given member (the member view), decided by lifecycleStage from their purchase facts. */
export async function lifecycleStages(ex: Executor, programId: string, members: { id: string; createdAt: Date }[], asOf = new Date()): Promise<Map<string, LifecycleStage>> {
  if (members.length === 0) return new Map()
  const rows = await queryRows<Record<string, string | Date | null>>(ex, purchaseFactsSql(programId, asOf, members.map((m) => m.id)))
  const facts = new Map(rows.map((r) => [r.member_id as string, r]))
  const at = (v: string | Date | null | undefined) => (v === null || v === undefined ? null : new Date(v))
  return new Map(
    members.map((m) => {
      const f = facts.get(m.id)
      const stage = lifecycleStage({ enrolledAt: m.createdAt, firstPurchaseAt: at(f?.first_at), lastPurchaseAt: at(f?.last_at), purchasesLastYear: Number(f?.last_year ?? 0) }, asOf)
      return [m.id, stage]
    }),
  )
}

export async function lifecycleCounts(ex: Executor, programId: string, asOf: Date): Promise<Record<LifecycleStage, number>> {
  const rows = await queryRows<{ stage: LifecycleStage; members: string }>(ex, sql`select stage, count(*)::text as members from (${stagesSql(programId, asOf)}) s group by stage`)
  const counts = Object.fromEntries(STAGES.map((s) => [s, 0])) as Record<LifecycleStage, number>
  for (const r of rows) counts[r.stage] = Number(r.members)
  return counts
}

export const membersInStageSql = (programId: string, asOf: Date, stage: LifecycleStage): SQL =>
  sql`select member_id from (${stagesSql(programId, asOf)}) s where stage = ${stage}`
