// What a segment campaign reads and the coordination of its runners (claims, heartbeat, its end):
// plain statements like the jobs runner's claims. The grants themselves are plans (./plan.ts).
import { and, asc, eq, gt, sql } from 'drizzle-orm'
import { queryRows, type Executor } from '../../db/client.js'
import { rowVersion } from '../../db/core.js'
import { marketingRefusalOf } from '../events/emit.js'
import { segmentMembersSql, type FilterProgram, type SegmentFilter } from '../saved-segments/filter.js'
import type { MemberState } from './plan.js'
import { segmentCampaigns, type SegmentCampaignRow } from './tables.js'

/** Inserts the campaign and its members as the segment has them at `asOf` (one insert-select), and returns the campaign with its total. */
export async function insertCampaign(ex: Executor, program: FilterProgram, row: Omit<typeof segmentCampaigns.$inferInsert, 'total'>, filter: SegmentFilter, asOf: Date): Promise<SegmentCampaignRow> {
  await ex.insert(segmentCampaigns).values({ ...row, total: 0 })
  const [counted] = await queryRows<{ n: string }>(
    ex,
    sql`with added as (
          insert into segment_campaign_members (program_id, campaign_id, member_id)
          select ${program.id}::uuid, ${row.id}::uuid, member_id from (${segmentMembersSql(program, filter, asOf)}) s
          returning 1)
        select count(*)::text as n from added`,
  )
  await ex.execute(sql`analyze segment_campaign_members`)
  const [campaign] = await ex
    .update(segmentCampaigns)
    .set({ total: Number(counted!.n) })
    .where(and(eq(segmentCampaigns.programId, program.id), eq(segmentCampaigns.id, row.id)))
    .returning()
  return campaign!
}

export async function findCampaign(ex: Executor, programId: string, campaignId: string): Promise<SegmentCampaignRow | undefined> {
  const [row] = await ex.select().from(segmentCampaigns).where(and(eq(segmentCampaigns.programId, programId), eq(segmentCampaigns.id, campaignId)))
  return row
}

export async function listCampaigns(ex: Executor, programId: string, query: { segmentId?: string; limit: number }, afterId?: string): Promise<SegmentCampaignRow[]> {
  return ex
    .select()
    .from(segmentCampaigns)
    .where(and(eq(segmentCampaigns.programId, programId), query.segmentId ? eq(segmentCampaigns.segmentId, query.segmentId) : undefined, afterId ? gt(segmentCampaigns.id, afterId) : undefined))
    .orderBy(asc(segmentCampaigns.id))
    .limit(query.limit + 1)
}

/** What the grant rows of campaigns say so far: progress and what was given. */
export interface CampaignProgress {
  done: number
  granted: number
  skipped: number
  points: bigint
  coupons: number
  queued: number
  suppressed: number
}

export async function campaignProgress(ex: Executor, programId: string, campaignIds: string[]): Promise<Map<string, CampaignProgress>> {
  if (campaignIds.length === 0) return new Map()
  const rows = await queryRows<Record<string, string>>(
    ex,
    sql`select campaign_id, count(*)::text as done, count(*) filter (where outcome = 'granted')::text as granted, count(*) filter (where outcome = 'skipped')::text as skipped,
               coalesce(sum(points), 0)::text as points, count(coupon_code)::text as coupons,
               count(*) filter (where event_status = 'pending')::text as queued, count(*) filter (where event_status = 'suppressed')::text as suppressed
          from segment_campaign_grants
         where program_id = ${programId}::uuid and campaign_id in (${sql.join(campaignIds.map((id) => sql`${id}::uuid`), sql`, `)})
         group by campaign_id`,
  )
  return new Map(
    rows.map((r) => [
      r.campaign_id!,
      { done: Number(r.done), granted: Number(r.granted), skipped: Number(r.skipped), points: BigInt(r.points!), coupons: Number(r.coupons), queued: Number(r.queued), suppressed: Number(r.suppressed) },
    ]),
  )
}

/**
 * Claims up to `limit` members of the campaign not granted yet and not claimed by a live runner,
 * after `after` in member id order, for `leaseMs`: two runners take different members (SKIP
 * LOCKED passes rows another claim is taking), and a runner that died frees its claims when the
 * lease ends. A claim saves work; the grant row's key is what makes a grant happen once.
 */
export async function claimMembers(ex: Executor, programId: string, campaignId: string, runner: string, after: string, limit: number, leaseMs: number): Promise<string[]> {
  // The grant looked up by its whole key for each member passed (a lateral probe): the planner
  // cannot turn it into a scan of every grant per member, which stale statistics made it do.
  const rows = await queryRows<{ member_id: string }>(
    ex,
    sql`with next as (
          select cm.member_id from segment_campaign_members cm
            left join lateral (
              select true as done from segment_campaign_grants g
               where g.program_id = cm.program_id and g.campaign_id = cm.campaign_id and g.member_id = cm.member_id limit 1) g on true
           where cm.program_id = ${programId}::uuid and cm.campaign_id = ${campaignId}::uuid and cm.member_id > ${after}::uuid
             and (cm.claimed_until is null or cm.claimed_until < now())
             and g.done is null
           order by cm.member_id
           limit ${limit}
             for update of cm skip locked)
        update segment_campaign_members cm set claimed_by = ${runner}, claimed_until = now() + ${leaseMs} * interval '1 millisecond'
          from next where cm.program_id = ${programId}::uuid and cm.campaign_id = ${campaignId}::uuid and cm.member_id = next.member_id
        returning cm.member_id`,
  )
  return rows.map((r) => r.member_id).sort()
}

/** Of these members, those already granted (by another runner, or before a crash). */
export async function grantedAmong(ex: Executor, programId: string, campaignId: string, memberIds: string[]): Promise<Set<string>> {
  const rows = await queryRows<{ member_id: string }>(
    ex,
    sql`select member_id from segment_campaign_grants where program_id = ${programId}::uuid and campaign_id = ${campaignId}::uuid
          and member_id in (${sql.join(memberIds.map((id) => sql`${id}::uuid`), sql`, `)})`,
  )
  return new Set(rows.map((r) => r.member_id))
}

/** Each member's marketing standing as the batch's plan sees it, and the version of the row it was read from. */
export async function loadMemberStates(ex: Executor, programId: string, memberIds: string[]): Promise<MemberState[]> {
  const rows = await queryRows<{ id: string; version: string; sms_marketing_consent: boolean; do_not_contact: boolean; erased_at: unknown; phone: string | null }>(
    ex,
    sql`select id, ${rowVersion(sql.raw('members'))} as version, sms_marketing_consent, do_not_contact, erased_at, phone from members
         where program_id = ${programId}::uuid and id in (${sql.join(memberIds.map((id) => sql`${id}::uuid`), sql`, `)})`,
  )
  return rows.map((m) => {
    const erased = m.erased_at !== null
    return { memberId: m.id, version: m.version, erased, marketingRefusal: marketingRefusalOf({ consent: m.sms_marketing_consent, doNotContact: m.do_not_contact, erased, phone: m.phone }) }
  })
}

/** Marks the campaign run by `runner` now (a failed one runs again); false when it is completed. */
export async function markRunning(ex: Executor, programId: string, campaignId: string, runner: string): Promise<boolean> {
  const rows = await queryRows(
    ex,
    sql`update segment_campaigns set status = 'running', runner = ${runner}, heartbeat_at = now(), error = null
         where program_id = ${programId}::uuid and id = ${campaignId}::uuid and status <> 'completed' returning id`,
  )
  return rows.length > 0
}

/**
 * Running campaigns with no sign of life since `silentSince` (their runner died or its instance
 * stopped), oldest first; a campaign whose first run never started counts from its creation.
 */
export async function silentCampaigns(ex: Executor, silentSince: Date, programIds?: string[]): Promise<{ programId: string; id: string }[]> {
  if (programIds?.length === 0) return []
  const rows = await queryRows<{ program_id: string; id: string }>(
    ex,
    sql`select program_id, id from segment_campaigns
         where status = 'running' and coalesce(heartbeat_at, created_at) < ${silentSince.toISOString()}::timestamptz
           ${programIds ? sql`and program_id in (${sql.join(programIds.map((id) => sql`${id}::uuid`), sql`, `)})` : sql``}
         order by coalesce(heartbeat_at, created_at) limit 100`,
  )
  return rows.map((r) => ({ programId: r.program_id, id: r.id }))
}

export async function heartbeat(ex: Executor, programId: string, campaignId: string, runner: string): Promise<void> {
  await queryRows(ex, sql`update segment_campaigns set heartbeat_at = now(), runner = ${runner} where program_id = ${programId}::uuid and id = ${campaignId}::uuid and status = 'running' returning id`)
}

/** Completes the campaign when every member has its grant row (a grant row is of a campaign member: its key says so); false while some have none. */
export async function completeIfDone(ex: Executor, programId: string, campaignId: string): Promise<boolean> {
  const rows = await queryRows(
    ex,
    sql`update segment_campaigns c set status = 'completed', completed_at = now(), heartbeat_at = now()
         where c.program_id = ${programId}::uuid and c.id = ${campaignId}::uuid and c.status <> 'completed'
           and c.total = (select count(*) from segment_campaign_grants g where g.program_id = c.program_id and g.campaign_id = c.id)
        returning c.id`,
  )
  return rows.length > 0
}

/**
 * Refreshes the planner's statistics of the tables a campaign grows: without autovacuum a session
 * keeps plans made for their earlier size (see docs/member-imports.md, where a chunk went from 150
 * to 450 ms).
 */
export async function analyzeCampaignTables(ex: Executor): Promise<void> {
  await ex.execute(sql`analyze segment_campaign_members, segment_campaign_grants, ledger_accounts, journal_entries, postings, points_lots, lot_movements, coupons, events`)
}

export async function markFailed(ex: Executor, programId: string, campaignId: string, runner: string, error: string): Promise<void> {
  await queryRows(ex, sql`update segment_campaigns set status = 'failed', error = ${error} where program_id = ${programId}::uuid and id = ${campaignId}::uuid and status = 'running' and runner = ${runner} returning id`)
}
