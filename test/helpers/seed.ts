import { sql } from 'drizzle-orm'
import type { Database } from '../../src/db/client.js'
import { newId } from '../../src/shared/ids.js'
import { purchases } from '../../src/modules/purchases/tables.js'

/**
 * Purchases written straight into the table, for analytics over years: the API takes sales at most
 * `offlineWindowHours` (90 days) old. They carry no ledger entries; analytics read only purchases.
 */
export async function seedPurchase(
  database: Database,
  programId: string,
  p: { memberId: string; occurredAt: string | Date; total: bigint; returned?: bigint; status?: 'completed' | 'pending' | 'voided'; storeId?: string },
): Promise<string> {
  const id = newId()
  await database.db.insert(purchases).values({
    programId,
    id,
    memberId: p.memberId,
    storeId: p.storeId ?? 'S1',
    terminalId: 'T1',
    externalId: `seed-${id}`,
    occurredAt: new Date(p.occurredAt),
    currency: 'VND',
    status: p.status ?? 'completed',
    lines: [],
    tenders: [],
    subtotal: p.total,
    discountTotal: 0n,
    total: p.total,
    moneyPaid: p.total,
    pointsEarned: 0n,
    pointsRedeemed: 0n,
    storedValueUsed: 0n,
    returnedTotal: p.returned ?? 0n,
    pointsClawedBack: 0n,
    pointsDebt: 0n,
    holds: {},
    rulesEffectiveFrom: new Date(p.occurredAt),
    warnings: [],
    createdBy: 'seed',
  })
  return id
}

/** Backdates a member's enrolment (the API enrols now). */
export async function enrolledAt(database: Database, programId: string, memberId: string, at: string | Date): Promise<void> {
  await database.db.execute(sql`update members set created_at = ${new Date(at).toISOString()}::timestamptz where program_id = ${programId} and id = ${memberId}`)
}

export const daysAgo = (days: number, from = new Date()) => new Date(from.getTime() - days * 86_400_000)
