import { and, asc, eq, gt, sql, type SQL } from 'drizzle-orm'
import type { Executor } from '../../db/client.js'
import { memberConsentEvents, members, type MemberRow } from './tables.js'

export async function insertMember(ex: Executor, row: typeof members.$inferInsert): Promise<MemberRow> {
  const [created] = await ex.insert(members).values(row).returning()
  return created!
}

export async function findMember(ex: Executor, programId: string, memberId: string): Promise<MemberRow | undefined> {
  const [row] = await ex
    .select()
    .from(members)
    .where(and(eq(members.programId, programId), eq(members.id, memberId)))
  return row
}

export interface MemberFilter {
  phone?: string
  externalId?: string
  cardNumber?: string
  /** A subquery selecting member ids (an RFM segment, a lifecycle stage). */
  idIn?: SQL
}

export async function listMembers(ex: Executor, programId: string, filter: MemberFilter, limit: number, afterId?: string): Promise<MemberRow[]> {
  const conditions: (SQL | undefined)[] = [
    eq(members.programId, programId),
    filter.phone !== undefined ? eq(members.phone, filter.phone) : undefined,
    filter.externalId !== undefined ? eq(members.externalId, filter.externalId) : undefined,
    filter.cardNumber !== undefined ? eq(members.cardNumber, filter.cardNumber) : undefined,
    filter.idIn !== undefined ? sql`${members.id} in (${filter.idIn})` : undefined,
    afterId ? gt(members.id, afterId) : undefined,
  ]
  return ex
    .select()
    .from(members)
    .where(and(...conditions))
    .orderBy(asc(members.id))
    .limit(limit + 1)
}

export async function updateMember(ex: Executor, programId: string, memberId: string, patch: Partial<typeof members.$inferInsert>): Promise<MemberRow | undefined> {
  const [row] = await ex
    .update(members)
    .set({ ...patch, updatedAt: new Date() })
    .where(and(eq(members.programId, programId), eq(members.id, memberId)))
    .returning()
  return row
}

export async function insertConsentEvents(ex: Executor, rows: (typeof memberConsentEvents.$inferInsert)[]): Promise<void> {
  if (rows.length > 0) await ex.insert(memberConsentEvents).values(rows)
}
