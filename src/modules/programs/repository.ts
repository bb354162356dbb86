import { and, asc, desc, eq, gt, isNull, lte } from 'drizzle-orm'
import type { Executor } from '../../db/client.js'
import { apiClients, programRuleVersions, programs, type ApiClientRow, type ProgramRow } from './tables.js'

export async function insertProgram(ex: Executor, row: typeof programs.$inferInsert): Promise<ProgramRow> {
  const [created] = await ex.insert(programs).values(row).returning()
  return created!
}

export async function findProgram(ex: Executor, id: string): Promise<ProgramRow | undefined> {
  const [row] = await ex.select().from(programs).where(eq(programs.id, id))
  return row
}

export async function listPrograms(ex: Executor, limit: number, afterId?: string): Promise<ProgramRow[]> {
  return ex
    .select()
    .from(programs)
    .where(afterId ? gt(programs.id, afterId) : undefined)
    .orderBy(asc(programs.id))
    .limit(limit + 1)
}

export async function updateProgram(ex: Executor, id: string, patch: Partial<typeof programs.$inferInsert>): Promise<ProgramRow | undefined> {
  const [row] = await ex
    .update(programs)
    .set({ ...patch, updatedAt: new Date() })
    .where(eq(programs.id, id))
    .returning()
  return row
}

export async function insertClient(ex: Executor, row: typeof apiClients.$inferInsert): Promise<ApiClientRow> {
  const [created] = await ex.insert(apiClients).values(row).returning()
  return created!
}

export async function findClient(ex: Executor, clientId: string): Promise<ApiClientRow | undefined> {
  const [row] = await ex.select().from(apiClients).where(eq(apiClients.id, clientId))
  return row
}

/** The hot lookup behind every program-scoped request: one indexed join. */
export async function findActiveClientWithProgram(ex: Executor, clientId: string): Promise<{ client: ApiClientRow; program: ProgramRow } | undefined> {
  const [row] = await ex
    .select({ client: apiClients, program: programs })
    .from(apiClients)
    .innerJoin(programs, eq(programs.id, apiClients.programId))
    .where(and(eq(apiClients.id, clientId), isNull(apiClients.revokedAt)))
  return row
}

export async function listClients(ex: Executor, programId: string): Promise<ApiClientRow[]> {
  return ex.select().from(apiClients).where(eq(apiClients.programId, programId)).orderBy(desc(apiClients.createdAt))
}

export async function revokeClient(ex: Executor, programId: string, clientId: string, revokedBy: string): Promise<ApiClientRow | undefined> {
  const [row] = await ex
    .update(apiClients)
    .set({ revokedAt: new Date(), revokedBy })
    .where(and(eq(apiClients.programId, programId), eq(apiClients.id, clientId), isNull(apiClients.revokedAt)))
    .returning()
  return row
}

export async function insertRuleVersion(ex: Executor, row: typeof programRuleVersions.$inferInsert): Promise<void> {
  await ex.insert(programRuleVersions).values(row)
}

/** The rules version in force at `at`: the latest that took effect at or before it. */
/** The rules version in force at `at`, if any is older than the current rules. */
export async function findRulesAt(ex: Executor, programId: string, at: Date): Promise<{ rules: unknown; effectiveFrom: Date } | undefined> {
  const [row] = await ex
    .select({ rules: programRuleVersions.rules, effectiveFrom: programRuleVersions.effectiveFrom })
    .from(programRuleVersions)
    .where(and(eq(programRuleVersions.programId, programId), lte(programRuleVersions.effectiveFrom, at)))
    .orderBy(desc(programRuleVersions.effectiveFrom))
    .limit(1)
  if (!row) return undefined
  return { rules: typeof row.rules === 'string' ? JSON.parse(row.rules) : row.rules, effectiveFrom: row.effectiveFrom }
}
