import { sql } from 'drizzle-orm'
import { queryRows, type Database, type Executor } from '../../db/client.js'
import { startOfDayIn } from '../../shared/period.js'
import { findRulesAt } from '../programs/repository.js'
import { readRules, type ProgramRules } from '../programs/rules.js'
import type { ProgramRow } from '../programs/tables.js'
import { findTier, indexOfTier } from '../tiers/service.js'
import { addDays, celebrationWindow } from './calendar.js'

// What the birthday job reads: the rules in force, the birthdays still to celebrate, the tier bonus.

const BATCH = 500

/** The birthday bonus of the member's current tier (0 without tiers or tier). Read in the grant's transaction. */
export async function tierBirthdayBonus(tx: Executor, program: ProgramRow, rules: ProgramRules, memberId: string): Promise<bigint> {
  if (!rules.tiers) return 0n
  const tier = await findTier(tx, program.id, memberId)
  const level = tier ? rules.tiers.levels[indexOfTier(rules.tiers, tier.code)] : undefined
  return BigInt(level?.birthdayBonusPoints ?? 0)
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
 * the celebration window, not erased, enrolled before the end of the day, not celebrated that year.
 */
export async function forEachCandidate(database: Database, program: ProgramRow, today: string, visit: (candidate: Candidate) => Promise<void>): Promise<void> {
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
    for (const candidate of batch) await visit(candidate)
    if (batch.length < BATCH) return
    after = batch[batch.length - 1]!.member_id
  }
}
