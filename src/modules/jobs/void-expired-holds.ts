import { sql } from 'drizzle-orm'
import { queryRows, type Database } from '../../db/client.js'
import { expirePurchase } from '../purchases/service.js'

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
