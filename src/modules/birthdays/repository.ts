import { and, eq, inArray, isNotNull, isNull, sql } from 'drizzle-orm'
import { queryRows, type Database } from '../../db/client.js'
import { issuingRefusal } from '../coupons/service.js'
import { couponCampaigns } from '../coupons/tables.js'
import { marketingRefusalOf } from '../events/emit.js'
import { members } from '../members/tables.js'
import { memberTiers } from '../tiers/tables.js'
import type { MemberState } from './grant-plan.js'
import { tierBonusOf } from './plan.js'
import { startOfDayIn } from '../../shared/period.js'
import { findRulesAt } from '../programs/repository.js'
import { readRules, type ProgramRules } from '../programs/rules.js'
import type { ProgramRow } from '../programs/tables.js'
import { addDays, celebrationWindow } from './calendar.js'

// What the birthday job reads, without locks: the rules in force, the birthdays still to celebrate,
// and what each grant depends on (the member's marketing standing, the tier bonus).

const BATCH = 500

export interface GrantLoad extends MemberState {
  tierBonus: bigint
}

/**
 * What granting the birthdays of `memberIds` depends on, read together without locks: each
 * member's marketing standing and their tier's bonus. A member not found (or
 * erased meanwhile) is left out: their grant is skipped.
 */
export async function loadGrants(database: Database, program: ProgramRow, rules: ProgramRules, memberIds: string[]): Promise<Map<string, GrantLoad>> {
  const [rows, tiers] = await Promise.all([
    database.db
      .select({ id: members.id, consent: members.smsMarketingConsent, doNotContact: members.doNotContact, erasedAt: members.erasedAt, phone: members.phone })
      .from(members)
      .where(and(eq(members.programId, program.id), inArray(members.id, memberIds), isNull(members.erasedAt), isNotNull(members.birthday))),
    rules.tiers
      ? database.db
          .select({ memberId: memberTiers.memberId, code: memberTiers.tierCode })
          .from(memberTiers)
          .where(and(eq(memberTiers.programId, program.id), inArray(memberTiers.memberId, memberIds)))
      : Promise.resolve([]),
  ])
  const tierOf = new Map(tiers.map((r) => [r.memberId, r.code]))
  return new Map(
    rows.map((m) => [
      m.id,
      {
        marketingRefusal: marketingRefusalOf({ consent: m.consent, doNotContact: m.doNotContact, erased: m.erasedAt !== null, phone: m.phone }),
        tierBonus: tierBonusOf(rules, tierOf.get(m.id)),
      },
    ]),
  )
}

/** The birthday coupon's campaign, or why it cannot issue codes (issuingRefusal: the grant fails, as issuing did). */
export async function loadBirthdayCampaign(database: Database, programId: string, campaignId: string, now: Date) {
  const [campaign] = await database.db
    .select({ status: couponCampaigns.status, codeMode: couponCampaigns.codeMode, validTo: couponCampaigns.validTo, maxUsesPerCode: couponCampaigns.maxUsesPerCode })
    .from(couponCampaigns)
    .where(and(eq(couponCampaigns.programId, programId), eq(couponCampaigns.id, campaignId)))
  const refusal = issuingRefusal(campaign && { status: campaign.status, code_mode: campaign.codeMode, ended: campaign.validTo !== null && new Date(campaign.validTo) <= now })
  return refusal ? { refusal } : { campaign: { id: campaignId, maxUsesPerCode: campaign!.maxUsesPerCode } }
}

export interface Candidate {
  member_id: string
  celebrated_on: string
  year: number
}

/** The rules in force at asOf. */
export const birthdayRulesAt = async (database: Database, program: ProgramRow, asOf: Date) =>
  readRules((await findRulesAt(database.db, program.id, asOf))?.rules ?? program.rules)

/**
 * Every birthday a run for `today` celebrates and nobody has yet: members whose birthday falls in
 * the celebration window, not erased, enrolled before the end of the day, not celebrated that
 * year; handed to `visit` a batch (up to 500, by member id) at a time.
 */
export async function forEachCandidateBatch(database: Database, program: ProgramRow, today: string, visit: (batch: Candidate[]) => Promise<void>): Promise<void> {
  const days = celebrationWindow(today).flatMap((d) =>
    d.monthDays.map((monthDay) => ({ month_day: monthDay, celebrated_on: d.date, year: d.year, day_ends: startOfDayIn(addDays(d.date, 1), program.timezone).toISOString() })),
  )
  let after = '00000000-0000-0000-0000-000000000000'
  for (;;) {
    const batch = await queryRows<Candidate>(
      database.db,
      sql`with days as (
            select * from jsonb_to_recordset(${JSON.stringify(days)}::jsonb) as d(month_day text, celebrated_on date, year int, day_ends timestamptz))
          select m.id as member_id, d.celebrated_on::text as celebrated_on, d.year
            from members m
            join days d on to_char(m.birthday, 'MM-DD') = d.month_day
           where m.program_id = ${program.id}::uuid and m.id > ${after}::uuid
             and m.birthday is not null and m.erased_at is null
             and m.created_at < d.day_ends
             and not exists (select 1 from birthday_rewards r where r.program_id = m.program_id and r.member_id = m.id and r.year = d.year)
           order by m.id
           limit ${BATCH}`,
    )
    if (batch.length > 0) await visit(batch)
    if (batch.length < BATCH) return
    after = batch[batch.length - 1]!.member_id
  }
}
