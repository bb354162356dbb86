// What a captured sale by member id reads before its plan, in one round trip and without locks:
// the coupons it names (their campaigns and limits), and, for a program with tiers or a referral
// rule, the member's row version, tier, tier metric before this sale and referral state, all in
// one statement. A plain sale of a program with none of these reads nothing. A held sale reads
// the coupons and the tier (authorize.ts); a capture the member's part alone (pending.ts).
import { and, eq, gt, lte, sql, type SQL } from 'drizzle-orm'
import { alias } from 'drizzle-orm/pg-core'
import type { Executor } from '../../db/client.js'
import { rowVersion } from '../../db/core.js'
import { loadSaleCoupons, type LoadedCoupons } from '../coupons/redeem-plan.js'
import { members } from '../members/tables.js'
import type { ProgramRules } from '../programs/rules.js'
import type { ProgramRow } from '../programs/tables.js'
import { referralRewards } from '../referrals/tables.js'
import type { ReferralState } from '../referrals/reward-plan.js'
import { memberTiers } from '../tiers/tables.js'
import { metricTime, metricWindowFrom, type LoadedTier } from '../tiers/upgrade-plan.js'
import { purchases } from './tables.js'

export interface SaleState {
  /** The member's row version (the guard of a tier or referral decision); null: no member row (the plan refuses). */
  memberVersion: string | null
  /** The member's referrer as loaded (the guard update writes it back unchanged). */
  referredBy: string | null
  coupons: LoadedCoupons
  tier: LoadedTier | undefined
  referral: ReferralState | undefined
}

/** Does this sale's plan depend on the member's other purchases (a tier metric, a first purchase)? */
export const needsMemberState = (rules: Pick<ProgramRules, 'tiers' | 'referral'>) => Boolean(rules.tiers) || Boolean(rules.referral)

const referrer = alias(members, 'referrer')

/** `codes`: the sale's coupon codes, checked (coupons/resolve.ts checkedCodes). */
export async function loadSaleState(db: Executor, program: ProgramRow, rules: ProgramRules, memberId: string, sale: { codes: string[]; occurredAt: Date; now: Date }): Promise<SaleState> {
  const [coupons, member] = await Promise.all([
    loadSaleCoupons(db, program.id, memberId, sale.codes, sale.occurredAt),
    loadMemberState(db, program, rules, memberId, metricTime(sale.occurredAt, sale.now)),
  ])
  return { ...member, coupons }
}

export type MemberState = Omit<SaleState, 'coupons'>

/**
 * The member's part of the sale state, the tier metric measured over the window ending at `at`;
 * nothing read when the rules need none. `member`: the member's id, or a scalar subquery naming it
 * (a capture sends this with the purchase's load, before it knows the purchase's member).
 */
export async function loadMemberState(db: Executor, program: ProgramRow, rules: ProgramRules, member: string | SQL, at: Date): Promise<MemberState> {
  const tiers = rules.tiers
  const rows = needsMemberState(rules) ? await memberState(db, program, tiers, member, at) : undefined
  const row = rows?.[0]
  return {
    memberVersion: row?.version ?? null,
    referredBy: row?.referredBy ?? null,
    tier: tiers ? { current: row?.tierCode && row.tierVersion ? { code: row.tierCode, version: row.tierVersion } : null, metricBefore: BigInt(row?.metric ?? '0'), at } : undefined,
    referral: rules.referral
      ? {
          referredBy: row?.referredBy ?? null,
          referrer: row?.referrerFound ? { erased: Boolean(row.referrerErased) } : null,
          rewarded: Boolean(row?.rewarded),
          purchasedBefore: Boolean(row?.purchasedBefore),
        }
      : undefined,
  }
}

/** One statement: the member's row and version, its referrer, tier row, referral reward, a completed purchase, and the tier metric (spend or points) over the window ending at `at`. */
function memberState(db: Executor, program: ProgramRow, tiers: ProgramRules['tiers'], memberId: string | SQL, at: Date) {
  const mine = and(eq(purchases.programId, program.id), eq(purchases.memberId, memberId), eq(purchases.status, 'completed'))
  const measure = tiers?.metric === 'spend' ? sql`${purchases.total} - ${purchases.returnedTotal}` : sql`${purchases.pointsEarned} - ${purchases.pointsClawedBack}`
  const metric = tiers
    ? db
        .select({ metric: sql`coalesce(sum(${measure}), 0)` })
        .from(purchases)
        .where(and(mine, gt(purchases.occurredAt, metricWindowFrom(tiers, program.timezone, at)), lte(purchases.occurredAt, at)))
    : sql`0`
  const rewarded = db.select({ one: sql`1` }).from(referralRewards).where(and(eq(referralRewards.programId, program.id), eq(referralRewards.refereeId, memberId)))
  const purchased = db.select({ one: sql`1` }).from(purchases).where(mine).limit(1)
  return db
    .select({
      version: rowVersion(members),
      referredBy: members.referredBy,
      referrerFound: sql<boolean>`${referrer.id} is not null`,
      referrerErased: sql<boolean>`${referrer.erasedAt} is not null`,
      tierCode: memberTiers.tierCode,
      tierVersion: sql<string | null>`${memberTiers}.xmin::text`,
      rewarded: sql<boolean>`exists (${rewarded})`,
      purchasedBefore: sql<boolean>`exists (${purchased})`,
      metric: sql<string>`(${metric})::text`,
    })
    .from(members)
    .leftJoin(referrer, and(eq(referrer.programId, members.programId), eq(referrer.id, members.referredBy)))
    .leftJoin(memberTiers, and(eq(memberTiers.programId, members.programId), eq(memberTiers.memberId, members.id)))
    .where(and(eq(members.programId, program.id), eq(members.id, memberId)))
}
