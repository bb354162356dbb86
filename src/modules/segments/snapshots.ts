// The stored answers of the nightly analytics snapshot (job analytics-snapshot, in
// src/modules/analytics/snapshot.ts): the reports read them back, and the members list reads each
// member's segment and stage from them, so they sit here, below both.
import { sql } from 'drizzle-orm'
import { queryRows, type Executor } from '../../db/client.js'

export type SnapshotKind = 'rfm' | 'lifecycle' | 'summary' | 'cohorts'

/** A snapshot older than this is not served (the job has been failing): the reports answer live. */
export const SNAPSHOT_MAX_AGE_MS = 48 * 3_600_000

export interface StoredAnswer {
  id: string
  asOf: Date
  takenAt: Date
  answer: Record<string, unknown>
}

/**
 * The latest snapshot answer of `kind` for `params`, if it is fresh enough and was taken at or
 * after `closedBy` (a period's end: the figures of a closed period are final when taken after it).
 */
export async function latestSnapshot(ex: Executor, programId: string, kind: SnapshotKind, params: string, closedBy?: Date): Promise<StoredAnswer | undefined> {
  const [row] = await queryRows<{ id: string; as_of: string | Date; taken_at: string | Date; answer: unknown }>(
    ex,
    sql`select id, as_of, taken_at, answer from analytics_snapshots
         where program_id = ${programId} and kind = ${kind} and params = ${params}
           and as_of > now() - ${SNAPSHOT_MAX_AGE_MS} * interval '1 millisecond'
           ${closedBy ? sql`and as_of >= ${closedBy.toISOString()}::timestamptz` : sql``}
         order by as_of desc limit 1`,
  )
  if (!row) return undefined
  const answer = typeof row.answer === 'string' ? JSON.parse(row.answer) : row.answer
  return { id: row.id, asOf: new Date(row.as_of), takenAt: new Date(row.taken_at), answer: answer as Record<string, unknown> }
}

/** A stored answer as the route sends it: the report's own fields (of type T) and when the snapshot was taken. */
export const fromSnapshot = <T>(stored: StoredAnswer): T & { snapshot: { asOf: string; takenAt: string } } => ({
  ...(stored.answer as T),
  snapshot: { asOf: stored.asOf.toISOString(), takenAt: stored.takenAt.toISOString() },
})

/** The member ids of an RFM segment or lifecycle stage in the latest snapshot, for GET /v1/members. */
export async function snapshotGroup(ex: Executor, programId: string): Promise<{ id: string; asOf: Date } | undefined> {
  const stored = await latestSnapshot(ex, programId, 'rfm', '')
  return stored && { id: stored.id, asOf: stored.asOf }
}

export const snapshotMembersSql = (programId: string, snapshotId: string, group: { segment?: string; stage?: string }) =>
  sql`select member_id from member_analytics_snapshots
       where program_id = ${programId} and snapshot_id = ${snapshotId}
         ${group.segment ? sql`and segment = ${group.segment}` : sql``} ${group.stage ? sql`and stage = ${group.stage}` : sql``}`

export async function storeSnapshot(tx: Executor, programId: string, id: string, asOf: Date, kind: SnapshotKind, params: string, answer: unknown): Promise<void> {
  await tx.execute(
    sql`insert into analytics_snapshots (program_id, id, as_of, kind, params, answer)
        values (${programId}, ${id}, ${asOf.toISOString()}::timestamptz, ${kind}, ${params}, ${JSON.stringify(answer)}::jsonb)`,
  )
  // The older answers to the same question go (their member rows with them, on delete cascade).
  await tx.execute(sql`delete from analytics_snapshots where program_id = ${programId} and kind = ${kind} and params = ${params} and id <> ${id}`)
}

