// A batch of a campaign's members as one plan (src/db/apply.ts), pure: for each member its grant
// row (the primary key makes a second grant of that member fail the plan: exactly once), the
// bonus entry and its lot or the coupon code issued to the member, and campaign.granted: queued
// (its sending time in the program's window) for a member who may get marketing, recorded as
// suppressed otherwise, as the load saw the member. A member erased since the campaign was created
// gets a `skipped` grant row and nothing else; every member's row is locked at the version the load
// read, so the plan is stale if one was erased (or changed) meanwhile. The entries are in the order
// of the wallets they credit (account id); the executor locks those wallets in that order, as every
// plan does.
import type { EntryStep, LockStep, LotStep, PlanData, RowStep } from '../../db/apply.js'
import { randomCode } from '../../shared/codes.js'
import { newId } from '../../shared/ids.js'
import { eventRowOf, planEvent, type EventProgram } from '../events/emit.js'
import { accountId, memberPoints, pointsIssued } from '../ledger/accounts.js'
import { entryStep } from '../ledger/entry-step.js'
import { lotExpiry } from '../ledger/lots.js'
import { lotSteps } from '../ledger/lot-steps.js'
import { transfer, type EntryPlan } from '../ledger/planner.js'
import type { ProgramRules } from '../programs/rules.js'

/** What the batch's load saw of a member. */
export interface MemberState {
  memberId: string
  /** The member row's version as loaded: the plan locks the row at it. */
  version: string
  erased: boolean
  /** Why the member may not get marketing (marketingRefusalOf); null: they may. */
  marketingRefusal: string | null
}

export interface CampaignGrant {
  id: string
  name: string
  /** Points to each member, or a code of this coupon campaign. */
  grant: { kind: 'points'; points: bigint } | { kind: 'coupon'; campaignId: string; maxUsesPerCode: number | null }
}

export interface BatchPlan {
  data: PlanData
  /** The accounts the entries may create (remembered once applied). */
  accountIds: string[]
  /** Members granted and skipped, points, codes and events of the plan. */
  counts: BatchCounts
}

export interface BatchCounts {
  granted: number
  skipped: number
  points: bigint
  coupons: number
  queued: number
  suppressed: number
}

/** The grant rows' key: a member granted meanwhile (another runner) fails the plan on it. */
export const ALREADY_GRANTED = 'segment_campaign_grants_pkey'
/** A coupon code taken meanwhile: the batch is planned again with other codes. */
export const CODE_TAKEN = 'coupons_pkey'

export const REFERENCE_TYPE = 'segment_campaign'

export function campaignBatchPlan(
  program: EventProgram & { id: string },
  rules: Pick<ProgramRules, 'pointsExpiry'>,
  campaign: CampaignGrant,
  members: MemberState[],
  ctx: { now: Date; actor: string; code?: () => string; id?: () => string },
): BatchPlan {
  const id = ctx.id ?? newId
  const code = ctx.code ?? randomCode
  const now = ctx.now.toISOString()
  const counts: BatchCounts = { granted: 0, skipped: 0, points: 0n, coupons: 0, queued: 0, suppressed: 0 }
  const grants: Record<string, unknown>[] = []
  const coupons: Record<string, unknown>[] = []
  const eventRows: Record<string, unknown>[] = []
  const entries: EntryStep[] = []
  const lots: (LotStep & { kind: 'open' })[] = []
  const accountIds = new Set<string>()
  const expiresAt = campaign.grant.kind === 'points' ? lotExpiry(rules.pointsExpiry, program.timezone, ctx.now) : null
  const byWallet = [...members].sort((a, b) => compare(accountId(program.id, memberPoints(a.memberId)), accountId(program.id, memberPoints(b.memberId))))

  for (const member of byWallet) {
    const { memberId } = member
    if (member.erased) {
      counts.skipped += 1
      grants.push(grantRow(program.id, campaign.id, memberId, { outcome: 'skipped', skipped_reason: 'erased', granted_at: now }))
      continue
    }
    let offer: { points?: number; couponCode?: string }
    let entryId: string | null = null
    let couponCode: string | null = null
    if (campaign.grant.kind === 'points') {
      entryId = id()
      const entry: EntryPlan = {
        id: entryId,
        kind: 'bonus',
        effectiveAt: ctx.now,
        memberId,
        reason: 'campaign',
        referenceType: REFERENCE_TYPE,
        referenceId: `${campaign.id}:${memberId}`,
        metadata: { campaignId: campaign.id, campaign: campaign.name },
        pointsExpireAt: expiresAt,
        legs: transfer(pointsIssued(), memberPoints(memberId), campaign.grant.points),
      }
      const step = entryStep(program.id, entry, ctx.actor)
      step.accountIds.forEach((a) => accountIds.add(a))
      entries.push(step.step)
      lots.push(...(lotSteps(program.id, entryId, entry)! as (LotStep & { kind: 'open' })[]))
      counts.points += campaign.grant.points
      offer = { points: Number(campaign.grant.points) }
    } else {
      couponCode = code()
      coupons.push({ program_id: program.id, code: couponCode, campaign_id: campaign.grant.campaignId, member_id: memberId, uses: 0, max_uses: campaign.grant.maxUsesPerCode, issued_at: now, issued_by: ctx.actor, reason: REFERENCE_TYPE })
      counts.coupons += 1
      offer = { couponCode }
    }
    const event = { ...planEvent(program, { type: 'campaign.granted', memberId, payload: { memberId, campaignId: campaign.id, name: campaign.name, offer } }, ctx.now), id: id() }
    // Every event a row of one insert: a marketing event is always kept (queued or suppressed), so
    // the executor's event step, a statement each, has nothing to decide.
    const refusal = member.marketingRefusal
    counts[refusal === null ? 'queued' : 'suppressed'] += 1
    eventRows.push({ program_id: program.id, ...eventRowOf(event), status: refusal === null ? 'pending' : 'suppressed', suppressed_reason: refusal, dispatched_at: null, deliveries: 0, created_at: now })
    counts.granted += 1
    grants.push(
      grantRow(program.id, campaign.id, memberId, {
        outcome: 'granted',
        points: campaign.grant.kind === 'points' ? campaign.grant.points.toString() : '0',
        entry_id: entryId,
        coupon_code: couponCode,
        event_id: event.id,
        event_status: member.marketingRefusal === null ? 'pending' : 'suppressed',
        granted_at: now,
      }),
    )
  }

  const rows: RowStep[] = [
    ...(coupons.length > 0 ? [{ op: 'insert' as const, table: 'coupons', rows: coupons }] : []),
    ...(eventRows.length > 0 ? [{ op: 'insert' as const, table: 'events', rows: eventRows }] : []),
    { op: 'insert', table: 'segment_campaign_grants', rows: grants },
  ]
  // The entries go set-based (ll_plan_grants, migration 0027): ledger_post_entry a member was 5 times too slow.
  // Each member's row locked at the version the load read (member id order): a member erased, or
  // whose consent changed, between the load and the apply makes the plan stale, and the batch is
  // loaded and planned again (run.ts) rather than granting or messaging what the load saw.
  const locks: LockStep[] = [...members].sort((a, b) => compare(a.memberId, b.memberId)).map((m) => ({ table: 'members', key: { id: m.memberId }, version: m.version }))
  const data: PlanData = { program: program.id, locks, rows, ...(entries.length > 0 ? { grants: { entries, lots } } : {}) }
  return { data, accountIds: [...accountIds], counts }
}

const compare = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0)

function grantRow(programId: string, campaignId: string, memberId: string, fields: Record<string, unknown>): Record<string, unknown> {
  return { program_id: programId, campaign_id: campaignId, member_id: memberId, points: '0', entry_id: null, coupon_code: null, event_id: null, event_status: null, skipped_reason: null, ...fields }
}
