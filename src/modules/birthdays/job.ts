import { sql } from 'drizzle-orm'
import { queryRows, type Database } from '../../db/client.js'
import { newId } from '../../shared/ids.js'
import { localDate } from '../../shared/period.js'
import { runnerOf } from '../../db/pipeline.js'
import { issueCouponToMember } from '../coupons/service.js'
import { emitBirthdayToday } from '../events/care.js'
import type { JobContext, JobDefinition } from '../job-contract/definition.js'
import { memberPoints, pointsIssued } from '../ledger/accounts.js'
import { lotExpiry } from '../ledger/lots.js'
import { transfer } from '../ledger/planner.js'
import { postEntry } from '../ledger/service.js'
import type { ProgramRules } from '../programs/rules.js'
import type { ProgramRow } from '../programs/tables.js'
import { countGrant, planBirthdayGrant } from './plan.js'
import { previewBirthdays } from './preview.js'
import { birthdayRulesAt, forEachCandidate, tierBirthdayBonus } from './repository.js'

export const BIRTHDAY_JOB = 'birthday-rewards'
const ACTOR = `job:${BIRTHDAY_JOB}`

export interface BirthdayCounters extends Record<string, number> {
  /** Birthdays recorded by this run (each member at most once per year). */
  celebrated: number
  /** Birthday coupons issued (rules.birthday.couponCampaignId). */
  coupons: number
  /** Of those, celebrated after the day (a late or missed run caught up). */
  late: number
  /** Members who received points, and how many points in all. */
  granted: number
  points: number
  /** birthday.today events queued (members with SMS marketing consent), and recorded as suppressed. */
  greetings: number
  greetingsSuppressed: number
  /** Found already celebrated by a concurrent run when granting: nothing done. */
  skipped: number
}

/**
 * Celebrates the birthdays of the local date of `asOf` in the program's time zone, and those of
 * the 7 days before that were missed (the job did not run, ran late, or failed). Each member at
 * most once per birthday year: the birthday_rewards row and the bonus entry commit together, so
 * a second run, a concurrent one or a retry finds the row and does nothing. Members who were not
 * yet members on the day, and erased members, are skipped. birthday.today is emitted only on the
 * day itself: a greeting for "today" is not sent late (the points still are).
 */
export async function celebrateBirthdays({ database, program, asOf, log }: JobContext): Promise<BirthdayCounters> {
  const today = localDate(asOf, program.timezone)
  const rules = await birthdayRulesAt(database, program, asOf)
  const counters: BirthdayCounters = { celebrated: 0, late: 0, granted: 0, points: 0, coupons: 0, greetings: 0, greetingsSuppressed: 0, skipped: 0 }
  const failures: unknown[] = []
  await forEachCandidate(database, program, today, async (candidate) => {
    try {
      await celebrate(database, program, rules, { memberId: candidate.member_id, celebratedOn: candidate.celebrated_on, year: Number(candidate.year) }, today, asOf, counters)
    } catch (err) {
      failures.push(err)
      log.error({ err, job: BIRTHDAY_JOB, programId: program.id, memberId: candidate.member_id }, 'birthday grant failed')
    }
  })
  if (failures.length > 0) {
    // The run is recorded as failed and retried; the members done so far keep their rows and are not granted again.
    throw new Error(`birthday grants failed for ${failures.length} member(s); ${counters.celebrated} celebrated before the failure(s) are kept`, { cause: failures[0] })
  }
  return counters
}

async function celebrate(
  database: Database,
  program: ProgramRow,
  rules: ProgramRules,
  birthday: { memberId: string; celebratedOn: string; year: number },
  today: string,
  asOf: Date,
  counters: BirthdayCounters,
): Promise<void> {
  const { memberId, celebratedOn, year } = birthday
  const outcome = await database.transaction(async (tx) => {
    const grant = planBirthdayGrant(rules, await tierBirthdayBonus(tx, program, rules, memberId), celebratedOn, today)
    const points = grant.points
    const entryId = points > 0n ? newId() : null
    // The row is the once-per-year guarantee: a concurrent grant waits on its key, then finds it.
    const recorded = await queryRows<{ member_id: string }>(
      tx,
      sql`insert into birthday_rewards (program_id, member_id, year, celebrated_on, points, entry_id, as_of)
          select program_id, id, ${year}, ${celebratedOn}::date, ${points.toString()}::bigint, ${entryId}::uuid, ${asOf.toISOString()}::timestamptz
            from members
           where program_id = ${program.id}::uuid and id = ${memberId}::uuid and erased_at is null and birthday is not null
          on conflict do nothing
          returning member_id`,
    )
    if (recorded.length === 0) return undefined
    if (entryId) {
      await postEntry(
        tx,
        program.id,
        {
          id: entryId,
          kind: 'bonus',
          effectiveAt: asOf,
          memberId,
          reason: 'birthday',
          referenceType: 'birthday',
          referenceId: `${memberId}:${year}`,
          metadata: { celebratedOn },
          // Birthday points expire like any other points earned at asOf.
          pointsExpireAt: lotExpiry(rules.pointsExpiry, program.timezone, asOf),
          legs: transfer(pointsIssued(), memberPoints(memberId), points),
        },
        ACTOR,
      )
    }
    // The birthday coupon, assigned to the member, in the same transaction as the once-per-year row.
    const coupon = grant.coupon && rules.birthday.couponCampaignId ? await issueCouponToMember(runnerOf(tx), program, rules.birthday.couponCampaignId, memberId, 'birthday', ACTOR) : undefined
    const greeting = grant.greet
      ? await emitBirthdayToday(tx, program, { memberId, offer: points > 0n || coupon ? { ...(points > 0n ? { points: Number(points) } : {}), ...(coupon ? { couponCode: coupon } : {}) } : undefined }, { now: asOf })
      : undefined
    return { points, late: grant.late, coupon, greeting: greeting?.status }
  })
  if (!outcome) {
    counters.skipped += 1
    return
  }
  countGrant(counters, outcome)
  if (outcome.greeting === 'pending') counters.greetings += 1
  if (outcome.greeting === 'suppressed') counters.greetingsSuppressed += 1
}

export const birthdayRewardsJob: JobDefinition = {
  name: BIRTHDAY_JOB,
  description:
    'Grants rules.birthday.bonusPoints (plus the tier bonus) to members whose birthday is the asOf date in the program time zone, catching up the 7 days before; once per member and year; emits birthday.today on the day',
  daily: true,
  run: celebrateBirthdays,
  preview: previewBirthdays,
}
