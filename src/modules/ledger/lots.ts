import { zonedParts, zonedToUtc } from '../../shared/zoned-time.js'
import { and, eq, gt, sql } from 'drizzle-orm'
import { queryRows, type Executor } from '../../db/client.js'
import type { ProgramRules } from '../programs/rules.js'
import type { EntryPlan } from './planner.js'
import { openStep, pointsFlows, type MemberLots } from './lot-steps.js'
import { holds, lotHolds, pointsLots } from './tables.js'
import type { LotShare } from './lot-plans.js'

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

/**
 * Runs the lot statements of an entry right after its ledger statement (same transaction, so
 * they see the wallet as the entry left it, and the wallet's row lock serialises them per member).
 * Debits consume lots first (the shares the plan names, then the entry's preferred lots, then
 * soonest-expiring), free points only; credits then open a lot.
 */
export async function applyLots(ex: Executor, programId: string, entryId: string, plan: EntryPlan): Promise<void> {
  // A restore and an overdraft (returns, reversals) take their lots as plan steps (lot-steps.ts).
  if (plan.allowOverdraft || plan.restoreLotsOf) throw new RangeError('an entry restoring lots or overdrawing is applied as a plan (lot-steps.ts)')
  for (const [memberId, flow] of pointsFlows(plan)) {
    if (flow.debit > 0n) await debit(ex, programId, entryId, memberId, flow.debit, plan)
    if (flow.credit > 0n) await open(ex, programId, entryId, memberId, flow.credit, plan.effectiveAt, plan.pointsExpireAt ?? null)
  }
}

async function debit(ex: Executor, programId: string, entryId: string, memberId: string, points: bigint, plan: EntryPlan): Promise<void> {
  const named = plan.takeLots ?? []
  const namedPoints = named.reduce((s, x) => s + x.points, 0n)
  if (namedPoints > points) throw new RangeError(`an entry debiting ${points} points cannot take ${namedPoints} from lots`)
  if (named.length > 0) await takeShares(ex, programId, entryId, named.map((x) => ({ ...x, held: 0n })))
  if (points > namedPoints) await consume(ex, programId, entryId, memberId, points - namedPoints, plan.consumeLotsOf ?? null)
}

/** Takes exactly the given shares (of which `held` from the lots' reserved parts). A template: the builder cannot say an update feeding an insert (CTE). */
function takeShares(ex: Executor, programId: string, entryId: string, shares: (LotShare & { held: bigint })[]) {
  const json = JSON.stringify(shares.map((x) => ({ lot_id: x.lotId, points: x.points.toString(), held: x.held.toString() })))
  return ex.execute(
    sql`with s as (select * from jsonb_to_recordset(${json}::jsonb) as s(lot_id uuid, points bigint, held bigint)),
     taken as (
       update points_lots l set remaining = l.remaining - s.points, held = l.held - s.held
         from s where l.program_id = ${programId}::uuid and l.id = s.lot_id
       returning l.id, s.points)
     insert into lot_movements (program_id, entry_id, lot_id, kind, points)
     select ${programId}::uuid, ${entryId}::uuid, id, 'take', -points from taken
     on conflict (program_id, entry_id, lot_id, kind) do update set points = lot_movements.points + excluded.points`,
  )
}

/** Takes up to `points` of free points from the member's lots: lots of `preferEntry` first, then soonest-expiring, oldest first (ll_lot_consume, migration 0018). */
function consume(ex: Executor, programId: string, entryId: string, memberId: string, points: bigint, preferEntry: string | null) {
  return queryRows(ex, sql`select ll_lot_consume(${programId}::uuid, ${entryId}::uuid, ${memberId}::uuid, ${points.toString()}::bigint, ${preferEntry}::uuid)`)
}

/** Opens a lot for credited points, no larger than what the wallet holds beyond its other lots (ll_lot_open, migration 0018). */
function open(ex: Executor, programId: string, entryId: string, memberId: string, points: bigint, earnedAt: Date, expiresAt: Date | null) {
  const s = openStep(programId, entryId, memberId, points, earnedAt, expiresAt)
  return queryRows(
    ex,
    sql`select ll_lot_open(${programId}::uuid, ${s.lotId}::uuid, ${s.memberId}::uuid, ${s.entryId}::uuid, ${s.points}::bigint, ${s.earnedAt}::timestamptz, ${s.expiresAt}::timestamptz, ${s.accountId}::uuid)`,
  )
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
