// What a completed sale does beyond its own entry and row, pure, as plan steps: the referral reward
// on a referred member's first purchase, the tier upgrade the sale's metric reaches, and the guard
// both decisions need. They depend on the member's other purchases, which the load read without
// locks: the plan locks the member's row at the version loaded and writes it (unchanged) back, so
// a concurrent sale of the member (or a referrer named meanwhile) makes the later plan stale and
// it loads again: two sales cannot both miss, or both make, an upgrade or a reward. A member at the
// top tier with a purchase behind them has nothing left to decide: no guard, no retry.
// A captured sale takes them (applied.ts), and so does a capture of a held sale (pending.ts).
import { PlanError, STALE, type LockStep, type RowStep } from '../../db/apply.js'
import { newId } from '../../shared/ids.js'
import type { EntryPlan } from '../ledger/planner.js'
import type { ProgramRules } from '../programs/rules.js'
import type { ProgramRow } from '../programs/tables.js'
import type { TierInput } from '../receipts/inputs.js'
import { referralRewardPlan, type ReferralRewardPlan } from '../referrals/reward-plan.js'
import { indexOfTier, type TierChange } from '../tiers/service.js'
import { metricAfterSale, tierChangeSteps, tierLock, tierProgress, upgradeIndex } from '../tiers/upgrade-plan.js'
import { exponentOf } from './plan.js'
import { needsMemberState, type SaleState } from './sale-load.js'

export interface MemberStateLoaded {
  program: ProgramRow
  rules: ProgramRules
  memberId: string
  state: Pick<SaleState, 'memberVersion' | 'referredBy' | 'tier' | 'referral'>
}

/** The sale as completed: its purchase, when it happened, its total and the points it earned. */
export interface CompletedSale {
  purchaseId: string
  occurredAt: Date
  total: bigint
  pointsEarned: bigint
}

export interface TierAndReferralSteps {
  /** After the member, before the wallets. */
  locks: LockStep[]
  /** After the sale's own entry. */
  entries: EntryPlan[]
  rows: RowStep[]
  /** Before the receipt's events (tier.changed is announced first). */
  events: Record<string, unknown>[]
  /** The receipt's tier line: the tier after the sale and the way to the next. */
  tierLine: TierInput | null
  tierChange: TierChange | undefined
  reward: ReferralRewardPlan | null
}

/** Pure: the referral reward and tier upgrade of a completed sale at `now`, with their guard. */
export function tierAndReferralSteps(loaded: MemberStateLoaded, sale: CompletedSale, now: Date, ids: () => string = newId): TierAndReferralSteps {
  const { program, rules, memberId, state } = loaded
  const out: TierAndReferralSteps = { locks: [], entries: [], rows: [], events: [], tierLine: null, tierChange: undefined, reward: null }
  if (!needsMemberState(rules)) return out
  const tiers = rules.tiers
  const current = state.tier?.current?.code ?? null
  // Guarded only while the decision is open: below the top tier (a concurrent sale may add the
  // metric that upgrades), or before a first completed purchase (a reward still to give, or a
  // referrer named meanwhile). No member row: the plan is refused (LL201) before any of this.
  const tierOpen = Boolean(tiers && state.tier && indexOfTier(tiers, current) < tiers.levels.length - 1)
  const rewardOpen = Boolean(rules.referral && state.referral && !state.referral.rewarded && !state.referral.purchasedBefore)
  const guarded = state.memberVersion !== null && (tierOpen || rewardOpen)
  if (guarded) out.locks.push({ table: 'members', key: { id: memberId }, version: state.memberVersion! })
  if (rules.referral && state.referral) {
    out.reward = referralRewardPlan(program, rules, state.referral, { refereeId: memberId, purchaseId: sale.purchaseId, at: now, entryId: ids() })
    if (out.reward) {
      if (out.reward.entry) out.entries.push(out.reward.entry)
      out.rows.push({ op: 'insert', table: 'referral_rewards', rows: [out.reward.row] })
    }
  }
  if (tiers && state.tier) {
    const exponent = exponentOf(program)
    const metric = metricAfterSale(tiers, program.timezone, state.tier, sale)
    const toIndex = upgradeIndex(tiers, current, metric, exponent)
    out.locks.push(...tierLock(memberId, state.tier))
    if (toIndex !== undefined) {
      const steps = tierChangeSteps(program, tiers, { memberId, current, hasRow: state.tier.current !== null, toIndex, metric, at: now, purchaseId: sale.purchaseId }, ids)
      out.rows.push(...steps.rows)
      out.events.push(steps.event)
      out.tierChange = steps.change
    }
    out.tierLine = tierProgress(tiers, out.tierChange?.to ?? current, metric, exponent)
  }
  // The guard: the member's row written back as loaded, so that its version changes with this plan.
  if (guarded) out.rows.push({ op: 'update', table: 'members', key: { id: memberId }, set: { referred_by: state.referredBy } })
  return out
}

/** Rows a concurrent command inserted first: the plan's load is out of date. */
const RACED = new Set(['referral_rewards_pkey', 'member_tiers_pkey'])

/** A violation of a key a concurrent reward or tier change took first, as a stale plan (loaded and planned again); undefined for any other. */
export function racedAsStale(constraint: string | undefined): PlanError | undefined {
  return constraint !== undefined && RACED.has(constraint) ? new PlanError({ code: STALE, message: `stale:${constraint}`, constraint: null }) : undefined
}
