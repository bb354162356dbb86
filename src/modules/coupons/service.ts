// Coupons read and issued: the codes a sale names, resolved (a quote; a sale's plan reads them in
// its load, redeem-plan.ts), and codes issued for a campaign. Redeeming and releasing them are
// steps of the sale's plan (redeem-plan.ts, release-plan.ts).
import { and, eq, sql } from 'drizzle-orm'
import { queryRows, type Executor } from '../../db/client.js'
import type { AppError } from '../../shared/errors.js'
import type { ProgramRow } from '../programs/tables.js'
import { randomCode } from './codes.js'
import type { ResolvedCoupon } from './discounts.js'
import { campaignErrors } from './errors.js'
import { couponCampaigns } from './tables.js'
import { loadSaleCoupons } from './redeem-plan.js'
import { members } from '../members/tables.js'
import { checkedCodes, resolvedCoupons } from './resolve.js'

export { assertMinSpend, couponDiscount, couponSteps, planCouponDiscounts, type CouponStep, type ResolvedCoupon } from './discounts.js'
export { campaignErrors, couponErrors } from './errors.js'
export { MAX_COUPONS_PER_PURCHASE } from './resolve.js'

/**
 * The coupons a sale's codes name, as of `at`, in the order given: loadSaleCoupons reads them,
 * checkedCodes and resolvedCoupons refuse what they refuse (resolve.ts). Codes are matched in upper case.
 */
export async function resolveCoupons(ex: Executor, program: Pick<ProgramRow, 'id'>, input: { memberId: string; codes: string[]; at: Date }): Promise<ResolvedCoupon[]> {
  const codes = checkedCodes(input.codes)
  if (codes.length === 0) return []
  const loaded = await loadSaleCoupons(ex, program.id, input.memberId, codes, input.at)
  return resolvedCoupons(codes, loaded.rows, input.memberId)
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
