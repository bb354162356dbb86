// A sale's tier upgrade as steps of its plan (src/db/apply.ts), pure. The sale's load (it owns
// purchases: purchases/sale-load.ts) reads the member's tier with its row version and the tier
// metric before the sale; this adds the sale's own contribution, decides the upgrade (the crossing sale earned at the old rate; the member is
// upgraded from now on), and gives the rows changeTier writes (member_tiers, tier_changes), the
// tier.changed event announceTierChange emits, and the receipt's tier line.
import type { LockStep, RowStep } from '../../db/apply.js'
import { newId } from '../../shared/ids.js'
import { eventRowOf, planEvent, type EventProgram } from '../events/emit.js'
import type { TierInput } from '../receipts/inputs.js'
import { addMonthsIn, indexOfTier, qualifyingIndex, thresholdOf, type TierChange, type TierRules } from './service.js'

export interface LoadedTier {
  /** The member's tier row, at the version read; null: no tier yet. */
  current: { code: string; version: string } | null
  /** The metric over the window ending at `at`, before this sale. */
  metricBefore: bigint
  at: Date
}

/** When a sale's metric is measured: now, or when it happened if later (as tierMetric is called). */
export const metricTime = (occurredAt: Date, now: Date) => (now > occurredAt ? now : occurredAt)

/** Where the metric's window starts for a metric measured at `at`. */
export const metricWindowFrom = (tiers: TierRules, timeZone: string, at: Date) => addMonthsIn(at, -tiers.windowMonths, timeZone)

/** Pure: the metric once this completed sale counts (it does when it happened inside the window ending at `at`). */
export function metricAfterSale(tiers: TierRules, timeZone: string, loaded: LoadedTier, sale: { occurredAt: Date; total: bigint; pointsEarned: bigint }): bigint {
  const from = metricWindowFrom(tiers, timeZone, loaded.at)
  const inWindow = sale.occurredAt > from && sale.occurredAt <= loaded.at
  if (!inWindow) return loaded.metricBefore
  return loaded.metricBefore + (tiers.metric === 'spend' ? sale.total : sale.pointsEarned)
}

/** Pure: the level the metric reaches when above the current tier (an upgrade), else undefined. */
export function upgradeIndex(tiers: TierRules, current: string | null, metric: bigint, exponent: number): number | undefined {
  const reached = qualifyingIndex(tiers, metric, exponent)
  return reached > indexOfTier(tiers, current) ? reached : undefined
}

export interface TierChangeSteps {
  change: TierChange
  rows: RowStep[]
  event: Record<string, unknown>
}

/**
 * Pure: the rows and the event of moving the member from `current` up to level `toIndex` at `at`:
 * member_tiers updated from the tier the load saw (else the plan is stale) or inserted (a
 * concurrent insert is a unique violation: loaded again), guaranteed for the retention period;
 * the tier_changes row; tier.changed, as announceTierChange emits it.
 */
export function tierChangeSteps(
  program: EventProgram,
  tiers: TierRules,
  c: { memberId: string; current: string | null; hasRow: boolean; toIndex: number; metric: bigint; at: Date; purchaseId: string },
  ids: () => string = newId,
): TierChangeSteps {
  const to = tiers.levels[c.toIndex]!.code
  const since = c.at.toISOString()
  const until = addMonthsIn(c.at, tiers.retentionMonths, program.timezone).toISOString()
  const tierRow: RowStep = c.hasRow
    ? { op: 'update', table: 'member_tiers', key: { member_id: c.memberId }, set: { tier_code: to, since, guaranteed_until: until, updated_at: since }, expect: { tier_code: c.current } }
    : { op: 'insert', table: 'member_tiers', rows: [{ program_id: program.id, member_id: c.memberId, tier_code: to, since, guaranteed_until: until, updated_at: since }] }
  const changeRow = { program_id: program.id, id: ids(), member_id: c.memberId, from_tier: c.current, to_tier: to, reason: 'upgrade', metric: c.metric.toString(), at: since, purchase_id: c.purchaseId }
  const direction: 'up' | 'down' = indexOfTier(tiers, to) > indexOfTier(tiers, c.current) ? 'up' : 'down'
  const payload = { memberId: c.memberId, from: c.current, to, direction, reason: 'upgrade' }
  const event = { program_id: program.id, ...eventRowOf(planEvent(program, { type: 'tier.changed', memberId: c.memberId, payload }, c.at)) }
  return {
    change: { memberId: c.memberId, from: c.current, to, reason: 'upgrade', metric: c.metric, at: c.at },
    rows: [tierRow, { op: 'insert', table: 'tier_changes', rows: [changeRow] }],
    event,
  }
}

/** Pure: the tier row locked at the version the load read (a review or a sale changing it makes the plan stale). */
export const tierLock = (memberId: string, loaded: LoadedTier): LockStep[] =>
  loaded.current ? [{ table: 'member_tiers', key: { member_id: memberId }, version: loaded.current.version }] : []

/** Pure: the tier line of a receipt: the tier after the sale and what is still needed for the next. */
export function tierProgress(tiers: TierRules, code: string | null, metric: bigint, exponent: number): TierInput | null {
  const index = indexOfTier(tiers, code)
  if (index < 0) return null
  const next = tiers.levels[index + 1]
  const needed = next ? thresholdOf(tiers, next, exponent) - metric : 0n
  return {
    name: tiers.levels[index]!.name,
    next: next ? { name: next.name, remaining: needed > 0n ? needed : 0n, unit: tiers.metric === 'spend' ? 'money' : 'points' } : null,
  }
}
