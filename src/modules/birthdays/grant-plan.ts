// One member's birthday as a plan (src/db/apply.ts), pure: the once-a-year birthday_rewards row
// (its primary key makes a concurrent or repeated grant fail: "already celebrated"), the bonus
// entry and its lot, the birthday coupon assigned to the member, and birthday.today on the day:
// queued for a member who may get marketing, recorded as suppressed otherwise, as the load saw the
// member (a consent changed between the load and the apply lands on either side, as it did between
// the old transaction's read and its commit). An erased member is refused by the plan (LL202).
import type { PlanData, RowStep } from '../../db/apply.js'
import { randomCode } from '../../shared/codes.js'
import { newId } from '../../shared/ids.js'
import { currencyExponent } from '../../shared/money.js'
import { birthdayTodayInput } from '../events/care.js'
import { eventRowOf, planEvent } from '../events/emit.js'
import { memberPoints, memberWallets, pointsIssued } from '../ledger/accounts.js'
import { entryStep } from '../ledger/entry-step.js'
import { lotExpiry } from '../ledger/lots.js'
import { lotSteps } from '../ledger/lot-steps.js'
import { transfer, type EntryPlan } from '../ledger/planner.js'
import type { ProgramRules } from '../programs/rules.js'
import type { ProgramRow } from '../programs/tables.js'
import type { BirthdayGrant } from './plan.js'

export interface Birthday {
  memberId: string
  celebratedOn: string
  year: number
}

/** What the load saw of the member. */
export interface MemberState {
  /** Why the member may not get marketing (marketingRefusalOf); null: they may. */
  marketingRefusal: string | null
}

export interface BirthdayPlan {
  data: PlanData
  /** The birthday coupon's code, when one is issued. */
  coupon?: string
  greeting?: 'pending' | 'suppressed'
  /** The accounts the entry may create (remembered once applied). */
  accountIds: string[]
}

/** The birthday_rewards row's constraint: a grant of that member and year exists already. */
export const ALREADY_CELEBRATED = 'birthday_rewards_pkey'
/** A coupon code taken meanwhile: planned again with another code. */
export const CODE_TAKEN = 'coupons_pkey'

export function birthdayPlan(
  program: Pick<ProgramRow, 'id' | 'currency' | 'timezone' | 'rules'>,
  rules: ProgramRules,
  birthday: Birthday,
  grant: BirthdayGrant,
  member: MemberState,
  ctx: { asOf: Date; now: Date; actor: string; campaign?: { id: string; maxUsesPerCode: number | null }; entryId?: string; code?: string; eventId?: string },
): BirthdayPlan {
  const { memberId, celebratedOn, year } = birthday
  const points = grant.points
  const entryId = points > 0n ? (ctx.entryId ?? newId()) : null
  const rows: RowStep[] = [
    {
      op: 'insert',
      table: 'birthday_rewards',
      rows: [{ program_id: program.id, member_id: memberId, year, celebrated_on: celebratedOn, points: points.toString(), entry_id: entryId, as_of: ctx.asOf.toISOString(), created_at: ctx.now.toISOString() }],
    },
  ]
  // Not a lock on the member's row: FOR UPDATE would wait on (and deadlock with) a sale holding the
  // member's wallet and inserting a row that references the member (a key share lock).
  const data: PlanData = { program: program.id, member: { id: memberId, refuseErased: true }, rows }
  let accountIds: string[] = []
  if (entryId) {
    const entry: EntryPlan = {
      id: entryId,
      kind: 'bonus',
      effectiveAt: ctx.asOf,
      memberId,
      reason: 'birthday',
      referenceType: 'birthday',
      referenceId: `${memberId}:${year}`,
      metadata: { celebratedOn },
      // Birthday points expire like any other points earned at asOf.
      pointsExpireAt: lotExpiry(rules.pointsExpiry, program.timezone, ctx.asOf),
      legs: transfer(pointsIssued(), memberPoints(memberId), points),
    }
    const step = entryStep(program.id, entry, ctx.actor)
    accountIds = step.accountIds
    data.entries = [step.step]
    data.lots = lotSteps(program.id, entryId, entry)!
    data.wallets = memberWallets(program, memberId, currencyExponent(program.currency) ?? 0)
  }
  const coupon = grant.coupon && ctx.campaign ? (ctx.code ?? randomCode()) : undefined
  if (coupon) {
    rows.push({
      op: 'insert',
      table: 'coupons',
      rows: [{ program_id: program.id, code: coupon, campaign_id: ctx.campaign!.id, member_id: memberId, uses: 0, max_uses: ctx.campaign!.maxUsesPerCode, issued_at: ctx.now.toISOString(), issued_by: ctx.actor, reason: 'birthday' }],
    })
  }
  let greeting: BirthdayPlan['greeting']
  if (grant.greet) {
    const offer = points > 0n || coupon ? { ...(points > 0n ? { points: Number(points) } : {}), ...(coupon ? { couponCode: coupon } : {}) } : undefined
    const event = { ...planEvent(program, birthdayTodayInput(program, { memberId, offer }, ctx.asOf), ctx.asOf), ...(ctx.eventId ? { id: ctx.eventId } : {}) }
    const row = { program_id: program.id, ...eventRowOf(event) }
    if (member.marketingRefusal === null) {
      greeting = 'pending'
      data.events = [{ row }]
    } else {
      greeting = 'suppressed'
      rows.push({
        op: 'insert',
        table: 'events',
        rows: [{ ...row, status: 'suppressed', suppressed_reason: member.marketingRefusal, dispatched_at: null, deliveries: 0, created_at: ctx.now.toISOString() }],
      })
    }
  }
  return { data, ...(coupon ? { coupon } : {}), ...(greeting ? { greeting } : {}), accountIds }
}
