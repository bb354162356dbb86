import { appliedFresh, PlanError, STALE } from '../../db/apply.js'
import type { Database } from '../../db/client.js'
import { forEachInFlight } from '../../shared/in-flight.js'
import { localDate } from '../../shared/period.js'
import { nudgeDispatchers } from '../events/signal.js'
import type { JobContext, JobDefinition } from '../job-contract/definition.js'
import { rememberAccounts } from '../ledger/repository.js'
import type { ProgramRules } from '../programs/rules.js'
import type { ProgramRow } from '../programs/tables.js'
import { ALREADY_CELEBRATED, birthdayPlan, CODE_TAKEN, type Birthday } from './grant-plan.js'
import { countGrant, planBirthdayGrant } from './plan.js'
import { previewBirthdays } from './preview.js'
import { birthdayRulesAt, forEachCandidateBatch, loadBirthdayCampaign, loadGrants, type GrantLoad } from './repository.js'

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

/** Members whose plans are in the executor at once (its groups take up to 32 together). */
const MEMBERS_IN_FLIGHT = 32

/**
 * Celebrates the birthdays of the local date of `asOf` in the program's time zone, and those of
 * the 7 days before that were missed (the job did not run, ran late, or failed). Each member at
 * most once per birthday year: the birthday_rewards row and the bonus entry are one plan, so a
 * second run, a concurrent one or a retry fails on the row's key and does nothing (counted as
 * skipped). Members who were not yet members on the day, and erased members, are skipped.
 * birthday.today is emitted only on the day itself: a greeting for "today" is not sent late (the
 * points still are). A batch of candidates is loaded together, their plans applied many at once.
 */
export async function celebrateBirthdays({ database, program, asOf, log }: JobContext): Promise<BirthdayCounters> {
  const today = localDate(asOf, program.timezone)
  const rules = await birthdayRulesAt(database, program, asOf)
  const counters: BirthdayCounters = { celebrated: 0, late: 0, granted: 0, points: 0, coupons: 0, greetings: 0, greetingsSuppressed: 0, skipped: 0 }
  const failures: unknown[] = []
  const campaignId = rules.birthday.couponCampaignId
  await forEachCandidateBatch(database, program, today, async (batch) => {
    const [loaded, campaign] = await Promise.all([
      loadGrants(database, program, rules, batch.map((c) => c.member_id)),
      campaignId ? loadBirthdayCampaign(database, program.id, campaignId, new Date()) : undefined,
    ])
    await forEachInFlight(batch, MEMBERS_IN_FLIGHT, async (candidate) => {
      const birthday = { memberId: candidate.member_id, celebratedOn: candidate.celebrated_on, year: Number(candidate.year) }
      try {
        await celebrate(database, program, rules, birthday, { today, asOf, campaign, first: loaded.get(birthday.memberId) }, counters)
      } catch (err) {
        failures.push(err)
        log.error({ err, job: BIRTHDAY_JOB, programId: program.id, memberId: candidate.member_id }, 'birthday grant failed')
      }
    })
  })
  if (failures.length > 0) {
    // The run is recorded as failed and retried; the members done so far keep their rows and are not granted again.
    throw new Error(`birthday grants failed for ${failures.length} member(s); ${counters.celebrated} celebrated before the failure(s) are kept`, { cause: failures[0] })
  }
  return counters
}

/** Load (again, when the member changed since the batch's load) -> plan -> apply, for one birthday. */
async function celebrate(
  database: Database,
  program: ProgramRow,
  rules: ProgramRules,
  birthday: Birthday,
  at: { today: string; asOf: Date; campaign: Awaited<ReturnType<typeof loadBirthdayCampaign>> | undefined; first: GrantLoad | undefined },
  counters: BirthdayCounters,
): Promise<void> {
  let again = false
  const outcome = await appliedFresh(async () => {
    const member = again ? (await loadGrants(database, program, rules, [birthday.memberId])).get(birthday.memberId) : at.first
    again = true
    if (!member) return undefined // erased, or no birthday any more
    const grant = planBirthdayGrant(rules, member.tierBonus, birthday.celebratedOn, at.today)
    if (grant.coupon && at.campaign?.refusal) throw at.campaign.refusal
    const plan = birthdayPlan(program, rules, birthday, grant, member, { asOf: at.asOf, now: new Date(), actor: ACTOR, campaign: at.campaign?.campaign })
    try {
      const applied = await database.apply(plan.data)
      if (applied.events.length > 0) nudgeDispatchers()
    } catch (err) {
      if (!(err instanceof PlanError)) throw err
      if (err.constraint_name === ALREADY_CELEBRATED || err.code === 'LL201' || err.code === 'LL202') return undefined
      // Another coupon took the random code: plan again with another one.
      if (err.constraint_name === CODE_TAKEN) throw new PlanError({ code: STALE, message: 'stale:coupons', constraint: null })
      throw err
    }
    rememberAccounts(program.id, plan.accountIds)
    return { points: grant.points, late: grant.late, coupon: plan.coupon, greeting: plan.greeting }
  }, 10)
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
