// A redemption cancelled as one plan (src/db/apply.ts), pure: the redemption locked at the version
// the load read, a reward_cancellation entry reversing the redemption's (the points go back to the
// lots they were taken from; journal_entries_reverses_key refuses a second one), the reward's stock
// and count and the member's counter given back, the coupon voided (only while unused: a use
// meanwhile makes the plan stale, and the next load refuses it), the redemption marked cancelled.
import type { Fill, PlanData, RowStep } from '../../db/apply.js'
import type { AppError } from '../../shared/errors.js'
import { currencyExponent } from '../../shared/money.js'
import { memberPoints, memberWallets, pointsRedeemed } from '../ledger/accounts.js'
import { entryStep } from '../ledger/entry-step.js'
import { lotSteps } from '../ledger/lot-steps.js'
import { transfer, type EntryPlan } from '../ledger/planner.js'
import { rewardErrors } from './errors.js'
import type { RedemptionView } from './schemas.js'
import type { RewardRedemptionRow } from './tables.js'
import { redemptionView } from './views.js'

/** The redemption to cancel as the load read it. */
export interface LoadedRedemption {
  row: RewardRedemptionRow
  /** The row's xmin: a cancellation committed meanwhile makes the plan stale. */
  version: string
  /** The reward keeps a counter per member (it has a limit per member). */
  counted: boolean
  /** The issued coupon's uses; null for an item. */
  couponUses: number | null
}

export interface CancellationPlan {
  data: Omit<PlanData, 'idempotency'>
  answer: { redemption: RedemptionView; balances: null }
  fills: Fill[]
  accountIds: string[]
}

/** Pure: the cancellation as one plan with its answer, or the refusal of what the load saw. */
export function cancellationPlan(
  program: { id: string; currency: string },
  loaded: LoadedRedemption,
  ctx: { now: Date; actor: string; entryId: string; restoredPointsExpireAt: Date | null },
): CancellationPlan {
  const { row } = loaded
  if (row.status !== 'active') throw rewardErrors.alreadyCancelled()
  if (loaded.couponUses !== null && loaded.couponUses > 0) throw rewardErrors.alreadyUsed(row.couponCode!)
  const { now, entryId } = ctx
  const entry: EntryPlan = {
    id: entryId,
    kind: 'reward_cancellation',
    effectiveAt: now,
    memberId: row.memberId,
    reason: row.rewardName,
    referenceType: 'reward_redemption',
    referenceId: row.id,
    metadata: { rewardId: row.rewardId },
    reversesEntryId: row.entryId,
    // The points go back to the lots the redemption took them from; those expired meanwhile open a lot with the program's grace.
    restoreLotsOf: row.entryId,
    pointsExpireAt: ctx.restoredPointsExpireAt,
    legs: transfer(pointsRedeemed(), memberPoints(row.memberId), row.points),
  }
  const { step, accountIds } = entryStep(program.id, entry, ctx.actor)
  step.entry.createdAt = now.toISOString()
  const lots = lotSteps(program.id, entryId, entry)
  if (!lots) throw new RangeError('a cancellation only gives points back')
  const rows: RowStep[] = [{ op: 'update', table: 'rewards', key: { id: row.rewardId }, add: { stock_left: '1', redemptions: '-1' } }]
  if (loaded.counted) rows.push({ op: 'update', table: 'reward_member_counts', key: { reward_id: row.rewardId, member_id: row.memberId }, add: { redemptions: '-1' } })
  // A voided coupon is used up: a sale naming it is refused as COUPON_USED_UP.
  if (row.couponCode) rows.push({ op: 'update', table: 'coupons', key: { code: row.couponCode }, set: { max_uses: 0 }, expect: { uses: 0 } })
  rows.push({
    op: 'update',
    table: 'reward_redemptions',
    key: { id: row.id },
    set: { status: 'cancelled', cancelled_at: now.toISOString(), cancellation_entry_id: entryId },
    expect: { status: 'active' },
  })
  return {
    data: {
      program: program.id,
      member: { id: row.memberId, refuseErased: false },
      locks: [{ table: 'reward_redemptions', key: { id: row.id }, version: loaded.version, missing: { code: 'LL404', message: 'redemption_not_found' } }],
      entries: [step],
      lots,
      rows,
      wallets: memberWallets(program, row.memberId, currencyExponent(program.currency) ?? 0),
    },
    answer: { redemption: redemptionView({ ...row, status: 'cancelled', cancelledAt: now, cancellationEntryId: entryId }), balances: null },
    fills: [{ path: ['balances'], fact: 'balances' }],
    accountIds,
  }
}

/** Pure: a refused plan as the API answers it (undefined: not a refusal of the cancellation). */
export function cancellationRefusal(error: { code?: string; constraint?: string }): AppError | undefined {
  if (error.constraint === 'journal_entries_reverses_key') return rewardErrors.alreadyCancelled()
  if (error.code === 'LL404' || error.code === 'LL201') return rewardErrors.redemptionNotFound()
  return undefined
}
