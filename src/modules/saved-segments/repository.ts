// Saved segments: their rows, and their members evaluated now (./filter.ts says which).
import { and, asc, eq, gt, sql } from 'drizzle-orm'
import { queryRows, type Executor } from '../../db/client.js'
import { exponentOf } from '../../shared/money.js'
import { newId } from '../../shared/ids.js'
import { listMembers } from '../members/repository.js'
import type { MemberRow } from '../members/tables.js'
import { readRules } from '../programs/rules.js'
import type { ProgramRow } from '../programs/tables.js'
import { segmentErrors } from './errors.js'
import { checkFilter, segmentMembersSql, type FilterContext, type FilterProgram, type SegmentFilter } from './filter.js'
import type { SegmentCreate } from './schemas.js'
import { segments, type SegmentRow } from './tables.js'

/** What a filter is checked against: the program's tiers and currency. */
export function filterContextOf(program: Pick<ProgramRow, 'rules' | 'currency'>): FilterContext {
  const rules = readRules(program.rules)
  return { tierCodes: rules.tiers ? rules.tiers.levels.map((l) => l.code) : null, currency: program.currency, exponent: exponentOf(program.currency) }
}

export const filterProgramOf = (program: Pick<ProgramRow, 'id' | 'timezone' | 'currency'>): FilterProgram => ({ id: program.id, timezone: program.timezone, exponent: exponentOf(program.currency) })

export async function createSegment(ex: Executor, program: ProgramRow, input: SegmentCreate, actor: string, now = new Date()): Promise<SegmentRow> {
  const filter = checkFilter(input.filter, filterContextOf(program))
  const [row] = await ex.insert(segments).values({ programId: program.id, id: newId(), name: input.name, filter, status: 'active', createdBy: actor, createdAt: now }).returning()
  return row!
}

export async function findSegment(ex: Executor, programId: string, segmentId: string): Promise<SegmentRow> {
  const [row] = await ex.select().from(segments).where(and(eq(segments.programId, programId), eq(segments.id, segmentId)))
  if (!row) throw segmentErrors.notFound()
  return row
}

export async function listSegments(ex: Executor, programId: string, query: { status?: 'active' | 'archived'; limit: number }, afterId?: string): Promise<SegmentRow[]> {
  return ex
    .select()
    .from(segments)
    .where(and(eq(segments.programId, programId), query.status ? eq(segments.status, query.status) : undefined, afterId ? gt(segments.id, afterId) : undefined))
    .orderBy(asc(segments.id))
    .limit(query.limit + 1)
}

/** Archives a segment (once: archiving it again changes nothing) and returns it. */
export async function archiveSegment(ex: Executor, programId: string, segmentId: string, now = new Date()): Promise<SegmentRow> {
  const [row] = await ex
    .update(segments)
    .set({ status: 'archived', archivedAt: now })
    .where(and(eq(segments.programId, programId), eq(segments.id, segmentId), eq(segments.status, 'active')))
    .returning()
  return row ?? findSegment(ex, programId, segmentId)
}

/** A page of the segment's members as of `asOf`, by id. */
export const segmentMembersPage = (ex: Executor, program: ProgramRow, filter: SegmentFilter, asOf: Date, limit: number, afterId?: string): Promise<MemberRow[]> =>
  listMembers(ex, program.id, { idIn: segmentMembersSql(filterProgramOf(program), filter, asOf) }, limit, afterId)

export async function countSegmentMembers(ex: Executor, program: ProgramRow, filter: SegmentFilter, asOf: Date): Promise<number> {
  const [row] = await queryRows<{ n: string }>(ex, sql`select count(*)::text as n from (${segmentMembersSql(filterProgramOf(program), filter, asOf)}) s`)
  return Number(row!.n)
}
