import { sql } from 'drizzle-orm'
import { queryRows, type Database } from '../../db/client.js'
import { expirePurchase } from '../purchases/service.js'
import type { JobDefinition } from './definition.js'

/**
 * Voids pending purchases whose hold deadline has passed at `asOf`, each in its own transaction
 * behind the purchase row lock, so a capture racing the job either wins or finds it voided.
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
      if (await database.transaction((tx) => expirePurchase(tx, p.program_id, p.id, asOf))) {
        voided += 1
        progressed += 1
      }
    }
    if (progressed === 0) return { voided }
  }
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
}
