import { sql } from 'drizzle-orm'
import { queryRows, type Database } from '../../db/client.js'
import { expirePlanned } from '../purchases/pending.js'
import type { JobContext, JobDefinition } from '../job-contract/definition.js'
import { PREVIEW_LIMIT, type JobPreview } from '../job-contract/preview.js'

/**
 * Voids pending purchases whose hold deadline has passed at `asOf`, each as one plan locking the
 * purchase at the version it loaded (purchases/pending.ts), so a capture racing the job either
 * wins (the job finds it captured) or finds it voided.
 * Safe to run on several instances at once.
 */
export async function voidExpiredHolds(database: Database, asOf: Date, programId?: string): Promise<{ voided: number }> {
  let voided = 0
  for (;;) {
    const due = await queryRows<{ program_id: string; id: string }>(
      database.db,
      sql`select program_id, id from purchases
           where status = 'pending' and hold_expires_at <= ${asOf.toISOString()}
             ${programId ? sql`and program_id = ${programId}` : sql``}
           order by hold_expires_at limit 200`,
    )
    if (due.length === 0) return { voided }
    let progressed = 0
    for (const p of due) {
      if (await expirePlanned(database, p.program_id, p.id, asOf)) {
        voided += 1
        progressed += 1
      }
    }
    if (progressed === 0) return { voided }
  }
}

/** The dry run: the program's pending purchases whose hold has expired at asOf, the first PREVIEW_LIMIT by deadline, and how many. */
export async function previewVoidExpiredHolds({ database, program, asOf }: JobContext): Promise<JobPreview> {
  const due = await queryRows<{ id: string; member_id: string | null; total: number | string }>(
    database.db,
    sql`select id, member_id, count(*) over () as total from purchases
         where program_id = ${program.id} and status = 'pending' and hold_expires_at <= ${asOf.toISOString()}
         order by hold_expires_at, id limit ${PREVIEW_LIMIT}`,
  )
  const total = Number(due[0]?.total ?? 0)
  return { result: { voided: total }, affected: due.map((p) => ({ action: 'void', memberId: p.member_id, points: null, detail: { purchaseId: p.id } })), affectedTotal: total }
}

/**
 * Not daily: asOf is an instant and the job is idempotent by row state (a purchase is voided once,
 * behind its row lock), so it needs no claim. The scheduler sweeps every program in one pass; the
 * API runs it for the caller's program.
 */
export const voidExpiredHoldsJob: JobDefinition = {
  name: 'void-expired-holds',
  description: 'Voids uncaptured purchases whose hold (rules.holdMinutes) has expired at asOf, releasing their points and stored value',
  daily: false,
  run: ({ database, program, asOf }) => voidExpiredHolds(database, asOf, program.id),
  preview: previewVoidExpiredHolds,
}
