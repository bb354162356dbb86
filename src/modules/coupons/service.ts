// Coupons on the purchase path. The purchase service resolves the codes a POS sent, computes the
// discounts (pure), then redeems them in the purchase's own transaction: the limits are counters
// guarded by CHECK constraints, so they hold under any number of concurrent purchases, and a
// refusal rolls the whole purchase back.
import { and, eq, sql } from 'drizzle-orm'
import { queryRows, type Executor } from '../../db/client.js'
import { type AppError, pgErrorOf } from '../../shared/errors.js'
import { newId } from '../../shared/ids.js'
import type { ProgramRow } from '../programs/tables.js'
import { randomCode } from './codes.js'
import type { ResolvedCoupon } from './discounts.js'
import { campaignErrors, couponErrors } from './errors.js'
import { couponCampaigns, couponMemberUses, couponRedemptions, coupons } from './tables.js'
import { members } from '../members/tables.js'
import { checkedCodes, resolvedCoupons, type CouponCampaignJoin } from './resolve.js'

export { assertMinSpend, couponDiscount, couponSteps, planCouponDiscounts, type CouponStep, type ResolvedCoupon } from './discounts.js'
export { campaignErrors, couponErrors } from './errors.js'
export { MAX_COUPONS_PER_PURCHASE } from './resolve.js'

/**
 * Reads the codes and their campaigns in one statement and refuses what checkedCodes and
 * resolvedCoupons refuse (resolve.ts). Codes are matched in upper case. Returns the coupons in the order given.
 */
export async function resolveCoupons(ex: Executor, program: Pick<ProgramRow, 'id'>, input: { memberId: string; codes: string[]; at: Date }): Promise<ResolvedCoupon[]> {
  const codes = checkedCodes(input.codes)
  if (codes.length === 0) return []
  const at = sql`${input.at.toISOString()}::timestamptz`
  const rows = await queryRows<CouponCampaignJoin>(
    ex,
    sql`select c.code, c.campaign_id, c.member_id, k.name, k.kind, k.percent_off, k.amount_off, k.min_spend, k.max_uses_per_member, k.status,
            k.valid_from <= ${at} as started, k.valid_to is not null and k.valid_to <= ${at} as ended
       from coupons c join coupon_campaigns k on k.program_id = c.program_id and k.id = c.campaign_id
      where c.program_id = ${program.id}::uuid and c.code in (select jsonb_array_elements_text(${JSON.stringify(codes)}::jsonb))`,
  )
  return resolvedCoupons(codes, rows, input.memberId)
}

const byKey = <T>(key: (x: T) => string) => (a: T, b: T) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0)

/** A constraint violation of one redemption statement, as the refusal the POS sees; anything else unchanged. */
function limitRefusal(code: string) {
  return (err: unknown): never => {
    const pg = pgErrorOf(err)
    if (pg.constraint === 'coupon_campaigns_budget_check') throw couponErrors.budgetExhausted(code)
    if (pg.constraint === 'coupons_uses_check') throw couponErrors.usedUp(code)
    if (pg.constraint === 'coupon_member_uses_uses_check') throw couponErrors.memberLimitReached(code)
    if (pg.constraint === 'coupon_redemptions_purchase_campaign_key') throw couponErrors.duplicate(code)
    throw err
  }
}

/**
 * Redeems coupons for a purchase inside its transaction: adds each discount to its campaign's
 * budget and redemption count, a use to the code, a use to the member's counter when the
 * campaign limits uses per member, and records the redemption. Rows are locked in one global
 * order (campaigns by id, then codes, then member counters), so concurrent purchases do not
 * deadlock on each other. A limit crossed is a CHECK violation, refused as 409
 * COUPON_BUDGET_EXHAUSTED, COUPON_USED_UP or COUPON_MEMBER_LIMIT_REACHED; the transaction is
 * then aborted and must roll back.
 */
export async function redeemCoupons(
  ex: Executor,
  program: Pick<ProgramRow, 'id'>,
  input: { purchaseId: string; memberId: string; redemptions: { coupon: ResolvedCoupon; discount: bigint }[] },
): Promise<void> {
  const { purchaseId, memberId, redemptions } = input
  if (redemptions.length === 0) return
  if (redemptions.some((r) => r.discount < 0n)) throw new RangeError('a coupon discount is not negative')
  const p = program.id
  const refused = (code: string) => limitRefusal(code)
  for (const r of [...redemptions].sort(byKey((x) => x.coupon.campaignId))) {
    const rows = await ex
      .update(couponCampaigns)
      .set({ budgetUsed: sql`${couponCampaigns.budgetUsed} + ${r.discount}`, redemptions: sql`${couponCampaigns.redemptions} + 1` })
      .where(and(eq(couponCampaigns.programId, p), eq(couponCampaigns.id, r.coupon.campaignId), eq(couponCampaigns.status, 'active')))
      .returning({ id: couponCampaigns.id })
      .catch(refused(r.coupon.code))
    if (rows.length === 0) throw couponErrors.notActive(r.coupon.code, 'archived')
  }
  for (const r of [...redemptions].sort(byKey((x) => x.coupon.code))) {
    await ex
      .update(coupons)
      .set({ uses: sql`${coupons.uses} + 1` })
      .where(and(eq(coupons.programId, p), eq(coupons.code, r.coupon.code)))
      .catch(refused(r.coupon.code))
  }
  for (const r of [...redemptions].sort(byKey((x) => x.coupon.campaignId))) {
    if (r.coupon.maxUsesPerMember === null) continue
    await ex
      .insert(couponMemberUses)
      .values({ programId: p, campaignId: r.coupon.campaignId, memberId, uses: 1, maxUses: r.coupon.maxUsesPerMember })
      .onConflictDoUpdate({ target: [couponMemberUses.programId, couponMemberUses.campaignId, couponMemberUses.memberId], set: { uses: sql`${couponMemberUses.uses} + 1` } })
      .catch(refused(r.coupon.code))
  }
  for (const r of redemptions) {
    await ex
      .insert(couponRedemptions)
      .values({ programId: p, id: newId(), purchaseId, campaignId: r.coupon.campaignId, code: r.coupon.code, memberId, discount: r.discount, status: 'active' })
      .catch(refused(r.coupon.code))
  }
}

/**
 * Undoes every active redemption of a purchase (a full return, a void, an expired hold): the
 * budget, the code's use and the member's use come back and the redemptions are marked released.
 * Idempotent: a second call (or a concurrent one, which waits on the rows) finds nothing to
 * release. Returns how many redemptions it released.
 */
export async function releaseCoupons(ex: Executor, programId: string, purchaseId: string): Promise<number> {
  const released = await ex
    .update(couponRedemptions)
    .set({ status: 'released', releasedAt: sql`now()` })
    .where(and(eq(couponRedemptions.programId, programId), eq(couponRedemptions.purchaseId, purchaseId), eq(couponRedemptions.status, 'active')))
    .returning({ campaignId: couponRedemptions.campaignId, code: couponRedemptions.code, memberId: couponRedemptions.memberId, discount: couponRedemptions.discount })
  if (released.length === 0) return 0
  // The same lock order as redeemCoupons: campaigns, then codes, then member counters.
  for (const r of [...released].sort(byKey((x) => x.campaignId))) {
    await ex
      .update(couponCampaigns)
      .set({ budgetUsed: sql`${couponCampaigns.budgetUsed} - ${r.discount}`, redemptions: sql`${couponCampaigns.redemptions} - 1` })
      .where(and(eq(couponCampaigns.programId, programId), eq(couponCampaigns.id, r.campaignId)))
  }
  for (const r of [...released].sort(byKey((x) => x.code))) {
    await ex.update(coupons).set({ uses: sql`${coupons.uses} - 1` }).where(and(eq(coupons.programId, programId), eq(coupons.code, r.code)))
  }
  for (const r of [...released].sort(byKey((x) => x.campaignId))) {
    await ex
      .update(couponMemberUses)
      .set({ uses: sql`${couponMemberUses.uses} - 1` })
      .where(and(eq(couponMemberUses.programId, programId), eq(couponMemberUses.campaignId, r.campaignId), eq(couponMemberUses.memberId, r.memberId)))
  }
  return released.length
}

/** Why a campaign issues no codes now, or undefined when it does. */
export function issuingRefusal(campaign: { status: string; code_mode: string; ended: boolean } | undefined): AppError | undefined {
  if (!campaign) return campaignErrors.notFound()
  if (campaign.status !== 'active') return campaignErrors.archived()
  if (campaign.code_mode !== 'unique') return campaignErrors.shared()
  if (campaign.ended) return campaignErrors.ended()
  return undefined
}

/**
 * Inserts fresh random codes for a unique-code campaign, optionally assigned to one member, and
 * returns them. A code colliding with an existing one is skipped and replaced (insert ... on
 * conflict do nothing, so the transaction is never aborted by a collision). Refuses an unknown
 * (404), archived, ended or shared-code campaign (409) and an unknown member (404).
 */
export async function issueCodes(
  ex: Executor,
  programId: string,
  campaignId: string,
  options: { count: number; memberId?: string | null; reason?: string | null; actor: string },
): Promise<string[]> {
  const [campaign] = await ex
    .select({ status: couponCampaigns.status, code_mode: couponCampaigns.codeMode, ended: sql<boolean>`${couponCampaigns.validTo} is not null and ${couponCampaigns.validTo} <= now()` })
    .from(couponCampaigns)
    .where(and(eq(couponCampaigns.programId, programId), eq(couponCampaigns.id, campaignId)))
  const refusal = issuingRefusal(campaign)
  if (refusal) throw refusal
  if (options.memberId) {
    const [member] = await ex
      .select({ id: members.id })
      .from(members)
      .where(and(eq(members.programId, programId), eq(members.id, options.memberId)))
    if (!member) throw campaignErrors.memberNotFound()
  }
  const issued: string[] = []
  for (let attempt = 0; issued.length < options.count; attempt++) {
    if (attempt >= 10) throw new Error('could not find free coupon codes after 10 attempts')
    const wanted = new Set<string>()
    while (wanted.size < options.count - issued.length) wanted.add(randomCode())
    // A template: the builder cannot say an insert from a select over a set-returning function.
    const rows = await queryRows<{ code: string }>(
      ex,
      sql`insert into coupons (program_id, code, campaign_id, member_id, uses, max_uses, issued_by, reason)
       select ${programId}::uuid, c.code, k.id, ${options.memberId ?? null}::uuid, 0, k.max_uses_per_code, ${options.actor}, ${options.reason ?? null}
         from coupon_campaigns k, jsonb_array_elements_text(${JSON.stringify([...wanted])}::jsonb) as c(code)
        where k.program_id = ${programId}::uuid and k.id = ${campaignId}::uuid
       on conflict (program_id, code) do nothing
       returning code`,
    )
    issued.push(...rows.map((r) => r.code))
  }
  return issued
}
