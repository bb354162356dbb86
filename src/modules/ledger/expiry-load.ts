// What points expiry reads, without locks (the plan guards what it depends on: exact lot shares,
// the wallet's guarded debit): the members with lots due, and per member those lots and the
// points wallet's available balance. The expire-points job and its dry run read the same.
import { and, asc, eq, gt, inArray, lte, sql } from 'drizzle-orm'
import type { Database } from '../../db/client.js'
import { accountId, memberPoints } from './accounts.js'
import type { LotState } from './lot-plans.js'
import { ledgerAccounts, pointsLots } from './tables.js'

export interface DueState {
  lots: LotState[]
  /** The points wallet's posted minus pending. */
  available: bigint
}

const due = (programId: string, asOf: Date) => and(eq(pointsLots.programId, programId), gt(pointsLots.remaining, 0n), lte(pointsLots.expiresAt, asOf))

/** The next `limit` members (by id, after `after`) with points due by `asOf`. */
export async function membersWithDueLots(database: Database, programId: string, asOf: Date, after: string, limit: number): Promise<string[]> {
  const rows = await database.db
    .selectDistinct({ memberId: pointsLots.memberId })
    .from(pointsLots)
    .where(and(due(programId, asOf), gt(pointsLots.memberId, after)))
    .orderBy(asc(pointsLots.memberId))
    .limit(limit)
  return rows.map((r) => r.memberId)
}

/** The due lots and the available points of each member, both reads sent together. */
export async function loadDue(database: Database, programId: string, asOf: Date, memberIds: string[]): Promise<Map<string, DueState>> {
  const out = new Map<string, DueState>(memberIds.map((m) => [m, { lots: [], available: 0n }]))
  if (memberIds.length === 0) return out
  const byAccount = new Map(memberIds.map((m) => [accountId(programId, memberPoints(m)), m]))
  const [lots, wallets] = await Promise.all([
    database.db
      .select({ id: pointsLots.id, memberId: pointsLots.memberId, expiresAt: pointsLots.expiresAt, remaining: pointsLots.remaining, held: pointsLots.held })
      .from(pointsLots)
      .where(and(due(programId, asOf), inArray(pointsLots.memberId, memberIds))),
    database.db
      .select({ id: ledgerAccounts.id, available: sql<string>`(${ledgerAccounts.creditsPosted} - ${ledgerAccounts.debitsPosted} - ${ledgerAccounts.debitsPending})::text` })
      .from(ledgerAccounts)
      .where(and(eq(ledgerAccounts.programId, programId), inArray(ledgerAccounts.id, [...byAccount.keys()]))),
  ])
  for (const l of lots) {
    out.get(l.memberId)!.lots.push({ id: l.id, expiresAt: l.expiresAt === null ? null : new Date(l.expiresAt), remaining: BigInt(l.remaining), held: BigInt(l.held) })
  }
  for (const w of wallets) out.get(byAccount.get(w.id)!)!.available = BigInt(w.available)
  return out
}
