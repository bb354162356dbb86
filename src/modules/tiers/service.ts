import { and, eq, sql } from 'drizzle-orm'
import { queryRows, type Executor } from '../../db/client.js'
import { newId } from '../../shared/ids.js'
import { parseMinorUnits } from '../../shared/money.js'
import { zonedParts, zonedToUtc } from '../../shared/zoned-time.js'
import { emitTierChanged } from '../events/care.js'
import type { ProgramRules } from '../programs/rules.js'
import type { ProgramRow } from '../programs/tables.js'
import { memberTiers, tierChanges } from './tables.js'

export type TierRules = NonNullable<ProgramRules['tiers']>
export type TierLevel = TierRules['levels'][number]

export interface CurrentTier {
  code: string
  since: Date
  guaranteedUntil: Date
}

export interface TierChange {
  memberId: string
  from: string | null
  to: string | null
  reason: 'upgrade' | 'review'
  metric: bigint
  at: Date
}

/** A level's threshold in the metric's unit: minor units of money for spend, points for pointsEarned. */
export function thresholdOf(tiers: TierRules, level: TierLevel, exponent: number): bigint {
  return tiers.metric === 'spend' ? (parseMinorUnits(level.threshold, exponent) ?? 0n) : BigInt(level.threshold)
}

/** The highest level the metric qualifies for, as an index into `levels`; -1 for none. */
export function qualifyingIndex(tiers: TierRules, metric: bigint, exponent: number): number {
  let found = -1
  tiers.levels.forEach((level, i) => {
    if (metric >= thresholdOf(tiers, level, exponent)) found = i
  })
  return found
}

export const indexOfTier = (tiers: TierRules, code: string | null | undefined) => (code ? tiers.levels.findIndex((l) => l.code === code) : -1)

/** The same wall-clock time `months` later (or earlier) in the zone; the day is clamped to the month's end. */
export function addMonthsIn(at: Date, months: number, timeZone: string): Date {
  const p = zonedParts(at, timeZone)
  const first = new Date(Date.UTC(p.year, p.month - 1 + months, 1))
  const lastDay = new Date(Date.UTC(first.getUTCFullYear(), first.getUTCMonth() + 1, 0)).getUTCDate()
  return zonedToUtc({ year: first.getUTCFullYear(), month: first.getUTCMonth() + 1, day: Math.min(p.day, lastDay), hour: p.hour, minute: p.minute, second: p.second }, timeZone)
}

/** The member's tier row. */
export async function findTier(ex: Executor, programId: string, memberId: string): Promise<CurrentTier | undefined> {
  const [row] = await ex
    .select({ code: memberTiers.tierCode, since: memberTiers.since, guaranteedUntil: memberTiers.guaranteedUntil })
    .from(memberTiers)
    .where(and(eq(memberTiers.programId, programId), eq(memberTiers.memberId, memberId)))
  return row
}

/**
 * The qualifying metric over the rolling window ending at `at`: spend is what the member bought
 * (purchase totals, points-paid part included) net of returns; pointsEarned is points earned on
 * purchases net of clawbacks. Completed purchases only, by when they happened.
 */
// The purchases table by name: tiers is below purchases (a purchase upgrades a tier), so it does not import its tables.
export async function tierMetric(ex: Executor, program: ProgramRow, tiers: TierRules, memberId: string, at: Date): Promise<bigint> {
  const from = addMonthsIn(at, -tiers.windowMonths, program.timezone)
  const measure = tiers.metric === 'spend' ? sql`total - returned_total` : sql`points_earned - points_clawed_back`
  const [row] = await queryRows<{ metric: string }>(
    ex,
    sql`select coalesce(sum(${measure}), 0) as metric from purchases
      where program_id = ${program.id}::uuid and member_id = ${memberId}::uuid and status = 'completed'
        and occurred_at > ${from.toISOString()}::timestamptz and occurred_at <= ${at.toISOString()}::timestamptz`,
  )
  return BigInt(row?.metric ?? '0')
}

/**
 * Moves the member to `toIndex` (or out of every tier, -1) if the tier is still `fromCode`: a
 * concurrent change wins and this one does nothing. The new tier is guaranteed for the
 * retention period.
 */
export async function changeTier(
  ex: Executor,
  program: ProgramRow,
  tiers: TierRules,
  change: { memberId: string; fromCode: string | null; toIndex: number; reason: TierChange['reason']; metric: bigint; at: Date; purchaseId?: string },
): Promise<TierChange | undefined> {
  const to = change.toIndex >= 0 ? tiers.levels[change.toIndex]!.code : null
  let changed: unknown[]
  if (to === null) {
    changed = await ex
      .delete(memberTiers)
      .where(and(eq(memberTiers.programId, program.id), eq(memberTiers.memberId, change.memberId), eq(memberTiers.tierCode, change.fromCode!)))
      .returning({ memberId: memberTiers.memberId })
  } else {
    const until = addMonthsIn(change.at, tiers.retentionMonths, program.timezone)
    // A template: the builder cannot say an insert from a guarded select (only while the tier is still `fromCode`).
    const [pid, mid, from] = [sql`${program.id}::uuid`, sql`${change.memberId}::uuid`, sql`${change.fromCode}::text`]
    changed = await queryRows(
      ex,
      sql`insert into member_tiers as t (program_id, member_id, tier_code, since, guaranteed_until, updated_at)
       select ${pid}, ${mid}, ${to}, ${change.at.toISOString()}::timestamptz, ${until.toISOString()}::timestamptz, now()
        where ${from} is null or exists (select 1 from member_tiers where program_id = ${pid} and member_id = ${mid} and tier_code = ${from})
       on conflict (program_id, member_id) do update
         set tier_code = excluded.tier_code, since = excluded.since, guaranteed_until = excluded.guaranteed_until, updated_at = now()
       where t.tier_code is not distinct from ${from}
       returning member_id`,
    )
  }
  if (changed.length === 0) return undefined
  await ex.insert(tierChanges).values({
    programId: program.id,
    id: newId(),
    memberId: change.memberId,
    fromTier: change.fromCode,
    toTier: to,
    reason: change.reason,
    metric: change.metric,
    at: change.at,
    purchaseId: change.purchaseId ?? null,
  })
  return { memberId: change.memberId, from: change.fromCode, to, reason: change.reason, metric: change.metric, at: change.at }
}

/** The tier.changed event of a change, in the change's transaction. */
export async function announceTierChange(ex: Executor, program: ProgramRow, tiers: TierRules, change: TierChange): Promise<void> {
  const up = indexOfTier(tiers, change.to) > indexOfTier(tiers, change.from)
  await emitTierChanged(ex, program, { memberId: change.memberId, from: change.from, to: change.to ?? 'none', direction: up ? 'up' : 'down', reason: change.reason }, { now: change.at })
}
