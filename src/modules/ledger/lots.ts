import { zonedParts, zonedToUtc } from '../../shared/zoned-time.js'
import { and, eq, gt, sql } from 'drizzle-orm'
import type { Executor } from '../../db/client.js'
import type { ProgramRules } from '../programs/rules.js'
import type { MemberLots } from './lot-steps.js'
import { holds, lotHolds, pointsLots } from './tables.js'

/**
 * When points earned at `earnedAt` expire: `afterDays` after the local day they were earned,
 * rounded up to the end of that day, month, quarter or year, in the program's zone. The lot is
 * usable until the returned instant (the start of the following local day). Null: never.
 */
export function lotExpiry(policy: ProgramRules['pointsExpiry'], timeZone: string, earnedAt: Date): Date | null {
  if (!policy) return null
  const local = zonedParts(earnedAt, timeZone)
  const last = new Date(Date.UTC(local.year, local.month - 1, local.day + policy.afterDays))
  let y = last.getUTCFullYear()
  let m = last.getUTCMonth() + 1
  let d = last.getUTCDate()
  if (policy.roundUpTo !== 'day') {
    if (policy.roundUpTo === 'quarter') m = Math.ceil(m / 3) * 3
    if (policy.roundUpTo === 'year') m = 12
    d = new Date(Date.UTC(y, m, 0)).getUTCDate() // last day of month m
  }
  const next = new Date(Date.UTC(y, m - 1, d + 1))
  ;[y, m, d] = [next.getUTCFullYear(), next.getUTCMonth() + 1, next.getUTCDate()]
  return zonedToUtc({ year: y, month: m, day: d, hour: 0, minute: 0 }, timeZone)
}

/** Expiry of points a return or reversal gives back after their lot expired: the program's grace period from now. */
export function restoredPointsExpiry(rules: ProgramRules, now: Date): Date | null {
  return rules.pointsExpiry ? new Date(now.getTime() + rules.pointsExpiry.restoredGraceDays * 86_400_000) : null
}

/** The lots an overdraft of `memberId` decides from (lot-steps.ts): every lot with points left and the pending holds' reservations of them, read together. */
export async function loadMemberLots(db: Executor, programId: string, memberId: string): Promise<MemberLots> {
  const [lots, reservations] = await Promise.all([
    db
      .select({ id: pointsLots.id, expiresAt: pointsLots.expiresAt, remaining: pointsLots.remaining, held: pointsLots.held, sourceEntryId: pointsLots.sourceEntryId })
      .from(pointsLots)
      .where(and(eq(pointsLots.programId, programId), eq(pointsLots.memberId, memberId), gt(pointsLots.remaining, 0n))),
    db
      .select({ holdId: lotHolds.holdId, lotId: lotHolds.lotId, points: sql<string>`${lotHolds.points} - ${lotHolds.cut}` })
      .from(lotHolds)
      .innerJoin(holds, and(eq(holds.programId, lotHolds.programId), eq(holds.id, lotHolds.holdId), eq(holds.status, 'pending')))
      .innerJoin(pointsLots, and(eq(pointsLots.programId, lotHolds.programId), eq(pointsLots.id, lotHolds.lotId), eq(pointsLots.memberId, memberId)))
      .where(and(eq(lotHolds.programId, programId), gt(lotHolds.points, lotHolds.cut))),
  ])
  return { lots, reservations: reservations.map((r) => ({ holdId: r.holdId, lotId: r.lotId, points: BigInt(r.points) })) }
}
