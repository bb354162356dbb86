// Coupons on the purchase path. The purchase service resolves the codes a POS sent, computes the
// discounts (pure), then redeems them in the purchase's own transaction: the limits are counters
// guarded by CHECK constraints, so they hold under any number of concurrent purchases, and a
// refusal rolls the whole purchase back.
import { allInOrder, type SqlRunner } from '../../db/pipeline.js'
import { type AppError, pgErrorOf } from '../../shared/errors.js'
import { newId } from '../../shared/ids.js'
import type { ProgramRow } from '../programs/tables.js'
import { randomCode } from './codes.js'
import type { ResolvedCoupon } from './discounts.js'
import { campaignErrors, couponErrors } from './errors.js'
import { checkedCodes, resolvedCoupons, type CouponCampaignJoin } from './resolve.js'

export { assertMinSpend, couponDiscount, couponSteps, planCouponDiscounts, type CouponStep, type ResolvedCoupon } from './discounts.js'
export { campaignErrors, couponErrors } from './errors.js'
export { MAX_COUPONS_PER_PURCHASE } from './resolve.js'

/**
 * Reads the codes and their campaigns in one statement and refuses what checkedCodes and
 * resolvedCoupons refuse (resolve.ts). Codes are matched in upper case. Returns the coupons in the order given.
 */
export async function resolveCoupons(runner: SqlRunner, program: Pick<ProgramRow, 'id'>, input: { memberId: string; codes: string[]; at: Date }): Promise<ResolvedCoupon[]> {
  const codes = checkedCodes(input.codes)
  if (codes.length === 0) return []
  const rows = await runner.run<CouponCampaignJoin>(
    `select c.code, c.campaign_id, c.member_id, k.name, k.kind, k.percent_off, k.amount_off, k.min_spend, k.max_uses_per_member, k.status,
            k.valid_from <= $3::timestamptz as started, k.valid_to is not null and k.valid_to <= $3::timestamptz as ended
       from coupons c join coupon_campaigns k on k.program_id = c.program_id and k.id = c.campaign_id
      where c.program_id = $1::uuid and c.code in (select jsonb_array_elements_text($2::jsonb))`,
    [program.id, JSON.stringify(codes), input.at.toISOString()],
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
 * campaign limits uses per member, and records the redemption. Every statement is sent at once
 * (pipelined) and all answers are awaited. Rows are locked in one global order (campaigns by id,
 * then codes, then member counters), so concurrent purchases do not deadlock on each other.
 * A limit crossed is a CHECK violation, refused as 409 COUPON_BUDGET_EXHAUSTED, COUPON_USED_UP
 * or COUPON_MEMBER_LIMIT_REACHED; the transaction is then aborted and must roll back.
 * Everything up to sending the statements is synchronous: a caller may send further statements
 * right after calling this (without awaiting it) and have them pipelined behind.
 */
export async function redeemCoupons(
  runner: SqlRunner,
  program: Pick<ProgramRow, 'id'>,
  input: { purchaseId: string; memberId: string; redemptions: { coupon: ResolvedCoupon; discount: bigint }[] },
): Promise<void> {
  const { purchaseId, memberId, redemptions } = input
  if (redemptions.length === 0) return
  if (redemptions.some((r) => r.discount < 0n)) throw new RangeError('a coupon discount is not negative')
  const p = program.id
  const sent: Promise<unknown>[] = []
  for (const r of [...redemptions].sort(byKey((x) => x.coupon.campaignId))) {
    sent.push(
      runner
        .run(
          `update coupon_campaigns set budget_used = budget_used + $3::bigint, redemptions = redemptions + 1
            where program_id = $1::uuid and id = $2::uuid and status = 'active' returning id`,
          [p, r.coupon.campaignId, r.discount.toString()],
        )
        .then((rows) => {
          if (rows.length === 0) throw couponErrors.notActive(r.coupon.code, 'archived')
        }, limitRefusal(r.coupon.code)),
    )
  }
  for (const r of [...redemptions].sort(byKey((x) => x.coupon.code))) {
    sent.push(runner.run('update coupons set uses = uses + 1 where program_id = $1::uuid and code = $2', [p, r.coupon.code]).catch(limitRefusal(r.coupon.code)))
  }
  for (const r of [...redemptions].sort(byKey((x) => x.coupon.campaignId))) {
    if (r.coupon.maxUsesPerMember === null) continue
    sent.push(
      runner
        .run(
          `insert into coupon_member_uses (program_id, campaign_id, member_id, uses, max_uses) values ($1::uuid, $2::uuid, $3::uuid, 1, $4::integer)
           on conflict (program_id, campaign_id, member_id) do update set uses = coupon_member_uses.uses + 1`,
          [p, r.coupon.campaignId, memberId, r.coupon.maxUsesPerMember],
        )
        .catch(limitRefusal(r.coupon.code)),
    )
  }
  for (const r of redemptions) {
    sent.push(
      runner
        .run(
          `insert into coupon_redemptions (program_id, id, purchase_id, campaign_id, code, member_id, discount, status)
           values ($1::uuid, $2::uuid, $3::uuid, $4::uuid, $5, $6::uuid, $7::bigint, 'active')`,
          [p, newId(), purchaseId, r.coupon.campaignId, r.coupon.code, memberId, r.discount.toString()],
        )
        .catch(limitRefusal(r.coupon.code)),
    )
  }
  await allInOrder(sent)
}

/**
 * Undoes every active redemption of a purchase (a full return, a void, an expired hold): the
 * budget, the code's use and the member's use come back and the redemptions are marked released.
 * Idempotent: a second call (or a concurrent one, which waits on the rows) finds nothing to
 * release. Returns how many redemptions it released.
 */
export async function releaseCoupons(runner: SqlRunner, programId: string, purchaseId: string): Promise<number> {
  const released = await runner.run<{ campaign_id: string; code: string; member_id: string; discount: string }>(
    `update coupon_redemptions set status = 'released', released_at = now()
      where program_id = $1::uuid and purchase_id = $2::uuid and status = 'active'
  returning campaign_id, code, member_id, discount`,
    [programId, purchaseId],
  )
  if (released.length === 0) return 0
  const sent: Promise<unknown>[] = []
  // The same lock order as redeemCoupons: campaigns, then codes, then member counters.
  for (const r of [...released].sort(byKey((x) => x.campaign_id))) {
    sent.push(
      runner.run('update coupon_campaigns set budget_used = budget_used - $3::bigint, redemptions = redemptions - 1 where program_id = $1::uuid and id = $2::uuid', [
        programId,
        r.campaign_id,
        r.discount,
      ]),
    )
  }
  for (const r of [...released].sort(byKey((x) => x.code))) {
    sent.push(runner.run('update coupons set uses = uses - 1 where program_id = $1::uuid and code = $2', [programId, r.code]))
  }
  for (const r of [...released].sort(byKey((x) => x.campaign_id))) {
    sent.push(
      runner.run('update coupon_member_uses set uses = uses - 1 where program_id = $1::uuid and campaign_id = $2::uuid and member_id = $3::uuid', [
        programId,
        r.campaign_id,
        r.member_id,
      ]),
    )
  }
  await allInOrder(sent)
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
  runner: SqlRunner,
  programId: string,
  campaignId: string,
  options: { count: number; memberId?: string | null; reason?: string | null; actor: string },
): Promise<string[]> {
  const [campaign] = await runner.run<{ status: string; code_mode: string; ended: boolean }>(
    'select status, code_mode, valid_to is not null and valid_to <= now() as ended from coupon_campaigns where program_id = $1::uuid and id = $2::uuid',
    [programId, campaignId],
  )
  const refusal = issuingRefusal(campaign)
  if (refusal) throw refusal
  if (options.memberId) {
    const [member] = await runner.run('select 1 from members where program_id = $1::uuid and id = $2::uuid', [programId, options.memberId])
    if (!member) throw campaignErrors.memberNotFound()
  }
  const issued: string[] = []
  for (let attempt = 0; issued.length < options.count; attempt++) {
    if (attempt >= 10) throw new Error('could not find free coupon codes after 10 attempts')
    const wanted = new Set<string>()
    while (wanted.size < options.count - issued.length) wanted.add(randomCode())
    const rows = await runner.run<{ code: string }>(
      `insert into coupons (program_id, code, campaign_id, member_id, uses, max_uses, issued_by, reason)
       select $1::uuid, c.code, k.id, $3::uuid, 0, k.max_uses_per_code, $4, $5
         from coupon_campaigns k, jsonb_array_elements_text($6::jsonb) as c(code)
        where k.program_id = $1::uuid and k.id = $2::uuid
       on conflict (program_id, code) do nothing
       returning code`,
      [programId, campaignId, options.memberId ?? null, options.actor, options.reason ?? null, JSON.stringify([...wanted])],
    )
    issued.push(...rows.map((r) => r.code))
  }
  return issued
}
