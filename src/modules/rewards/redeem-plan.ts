// A reward redeemed for points as one plan (src/db/apply.ts), pure: from what the load read (the
// reward, its campaign, the member's count of it, the member's available points), the refusals
// that need nothing more, then the reward_redemption entry (member points to points redeemed, its
// lots consumed), the reward's stock and count, the member's counter, the coupon issued to the
// member and the redemption row. The database holds the limits under concurrent redemptions: the
// wallet's guarded debit (LL100), rewards_stock_check (one wins the last unit) and
// reward_member_counts_limit_check, each answered by redemptionRefusal.
import type { Fill, PlanData, RowStep } from '../../db/apply.js'
import type { AppError } from '../../shared/errors.js'
import { currencyExponent } from '../../shared/money.js'
import { memberPoints, memberWallets, POINTS, pointsRedeemed } from '../ledger/accounts.js'
import { entryStep } from '../ledger/entry-step.js'
import { insufficientFunds } from '../ledger/errors.js'
import { lotSteps } from '../ledger/lot-steps.js'
import { transfer, type EntryPlan } from '../ledger/planner.js'
import { rewardErrors, type Unavailable } from './errors.js'
import type { RedemptionView } from './schemas.js'
import type { RewardRow } from './tables.js'

/** The coupon campaign of a coupon reward as the load read it. */
export interface RewardCampaign {
  status: string
  ended: boolean
  maxUsesPerCode: number | null
}

/** What a redemption (or the member's list of rewards) decides from. */
export interface RewardState {
  reward: RewardRow
  campaign: RewardCampaign | null
  /** The member's active redemptions of the reward (its counter; 0 without one). */
  memberRedemptions: number
  pointsAvailable: bigint
}

export type Availability = 'available' | 'not_enough_points' | 'out_of_stock' | 'limit_reached' | Unavailable

/** Pure: why the reward cannot be redeemed at `now` whatever the member holds, or null. */
export function unavailable(reward: RewardRow, campaign: RewardCampaign | null, now: Date): Unavailable | null {
  if (!reward.active) return 'inactive'
  if (reward.validFrom > now) return 'not_started'
  if (reward.validTo && reward.validTo <= now) return 'ended'
  if (reward.givesKind === 'coupon') {
    if (!campaign || campaign.status !== 'active') return 'campaign_archived'
    if (campaign.ended) return 'campaign_ended'
  }
  return null
}

/** Pure: whether the member can redeem the reward now, checked in the order a redemption refuses. */
export function rewardAvailability(s: RewardState, now: Date): { availability: Availability; pointsShort: bigint; memberRedemptionsLeft: number | null } {
  const { reward } = s
  const pointsShort = reward.pointsPrice > s.pointsAvailable ? reward.pointsPrice - s.pointsAvailable : 0n
  const memberRedemptionsLeft = reward.maxPerMember === null ? null : Math.max(0, reward.maxPerMember - s.memberRedemptions)
  const availability: Availability =
    unavailable(reward, s.campaign, now) ??
    (reward.stockLeft !== null && reward.stockLeft <= 0n
      ? 'out_of_stock'
      : memberRedemptionsLeft === 0
        ? 'limit_reached'
        : pointsShort > 0n
          ? 'not_enough_points'
          : 'available')
  return { availability, pointsShort, memberRedemptionsLeft }
}

/** Pure: the refusal of an availability other than 'available'. */
export function availabilityRefusal(reward: RewardRow, availability: Availability): AppError | undefined {
  switch (availability) {
    case 'available':
      return undefined
    case 'out_of_stock':
      return rewardErrors.outOfStock(reward.id)
    case 'limit_reached':
      return rewardErrors.limitReached(reward.id, reward.maxPerMember ?? 0)
    case 'not_enough_points':
      return insufficientFunds(POINTS)
    default:
      return rewardErrors.notAvailable(reward.id, availability)
  }
}

export interface RedemptionPlan {
  data: Omit<PlanData, 'idempotency'>
  answer: { redemption: RedemptionView; balances: null }
  fills: Fill[]
  accountIds: string[]
  couponCode: string | null
}

export const REDEMPTION_FILLS: Fill[] = [{ path: ['balances'], fact: 'balances' }]

/** The coupon's code taken meanwhile: planned again with another code. */
export const CODE_TAKEN = 'coupons_pkey'

/** Pure: the redemption as one plan with its answer, or the refusal of what the load saw. */
export function redemptionPlan(
  program: { id: string; currency: string },
  state: RewardState,
  ctx: { now: Date; actor: string; memberId: string; redemptionId: string; entryId: string; couponCode: string },
): RedemptionPlan {
  const { reward } = state
  const refusal = availabilityRefusal(reward, rewardAvailability(state, ctx.now).availability)
  if (refusal) throw refusal
  const { memberId, redemptionId, entryId, now } = ctx
  const entry: EntryPlan = {
    id: entryId,
    kind: 'reward_redemption',
    effectiveAt: now,
    memberId,
    reason: reward.name,
    referenceType: 'reward_redemption',
    referenceId: redemptionId,
    metadata: { rewardId: reward.id },
    legs: transfer(memberPoints(memberId), pointsRedeemed(), reward.pointsPrice),
  }
  const { step, accountIds } = entryStep(program.id, entry, ctx.actor)
  step.entry.createdAt = now.toISOString()
  const lots = lotSteps(program.id, entryId, entry)
  if (!lots) throw new RangeError('a redemption debits free points only')
  const coupon = reward.givesKind === 'coupon' ? ctx.couponCode : null
  const rows: RowStep[] = [
    {
      op: 'update',
      table: 'rewards',
      key: { id: reward.id },
      add: { stock_left: '-1', redemptions: '1' },
      // A reward paused or moved in time meanwhile is planned again; a changed stock is the CHECK's to judge.
      expect: { active: true, valid_from: reward.validFrom.toISOString(), valid_to: reward.validTo?.toISOString() ?? null },
    },
  ]
  if (reward.maxPerMember !== null) {
    rows.push({
      op: 'insert',
      table: 'reward_member_counts',
      rows: [{ program_id: program.id, reward_id: reward.id, member_id: memberId, redemptions: 1, max_redemptions: reward.maxPerMember }],
      onConflict: { columns: ['program_id', 'reward_id', 'member_id'], add: ['redemptions'] },
    })
  }
  if (coupon) {
    rows.push({
      op: 'insert',
      table: 'coupons',
      rows: [{ program_id: program.id, code: coupon, campaign_id: reward.campaignId, member_id: memberId, uses: 0, max_uses: state.campaign!.maxUsesPerCode, issued_at: now.toISOString(), issued_by: ctx.actor, reason: 'reward' }],
    })
  }
  const row = {
    program_id: program.id,
    id: redemptionId,
    reward_id: reward.id,
    member_id: memberId,
    reward_name: reward.name,
    points: reward.pointsPrice.toString(),
    entry_id: entryId,
    gives_kind: reward.givesKind,
    coupon_code: coupon,
    campaign_id: reward.campaignId,
    sku: reward.sku,
    item_description: reward.itemDescription,
    status: 'active',
    created_at: now.toISOString(),
    created_by: ctx.actor,
    cancelled_at: null,
    cancellation_entry_id: null,
  }
  rows.push({ op: 'insert', table: 'reward_redemptions', rows: [row] })
  const redemption: RedemptionView = {
    id: redemptionId,
    memberId,
    reward: { id: reward.id, name: reward.name },
    points: Number(reward.pointsPrice),
    gives: coupon ? { kind: 'coupon', campaignId: reward.campaignId!, couponCode: coupon } : { kind: 'item', sku: reward.sku!, description: reward.itemDescription },
    status: 'active',
    entryId,
    createdAt: now.toISOString(),
    cancelledAt: null,
    cancellationEntryId: null,
  }
  return {
    data: {
      program: program.id,
      member: { id: memberId, refuseErased: true },
      entries: [step],
      lots,
      rows,
      wallets: memberWallets(program, memberId, currencyExponent(program.currency) ?? 0),
    },
    answer: { redemption, balances: null },
    fills: REDEMPTION_FILLS,
    accountIds,
    couponCode: coupon,
  }
}

/** Pure: a refused plan as the API answers it (undefined: not a refusal of the redemption). */
export function redemptionRefusal(error: { code?: string; constraint?: string }, reward: RewardRow): AppError | undefined {
  if (error.code === 'LL201') return rewardErrors.memberNotFound()
  if (error.code === 'LL202') return rewardErrors.memberErased()
  if (error.code === 'LL100') return insufficientFunds(POINTS)
  if (error.constraint === 'rewards_stock_check') return rewardErrors.outOfStock(reward.id)
  if (error.constraint === 'reward_member_counts_limit_check') return rewardErrors.limitReached(reward.id, reward.maxPerMember ?? 0)
  return undefined
}
