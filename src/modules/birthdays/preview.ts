import { localDate } from '../../shared/period.js'
import type { JobContext } from '../job-contract/definition.js'
import { PreviewList, type JobPreview } from '../job-contract/preview.js'
import { countGrant, planBirthdayGrant } from './plan.js'
import { birthdayRulesAt, forEachCandidateBatch, loadGrants } from './repository.js'

/**
 * The dry run of birthday-rewards: the same birthdays, the same loads and the same grant plan as
 * the run, nothing written. `greetings` counts the birthday.today events the run would emit;
 * whether each is queued or suppressed (consent, sending window) is decided when it is emitted.
 */
export async function previewBirthdays({ database, program, asOf }: JobContext): Promise<JobPreview> {
  const today = localDate(asOf, program.timezone)
  const rules = await birthdayRulesAt(database, program, asOf)
  const counts = { celebrated: 0, late: 0, granted: 0, points: 0, coupons: 0, greetings: 0 }
  const list = new PreviewList()
  await forEachCandidateBatch(database, program, today, async (batch) => {
    const loaded = await loadGrants(database, program, rules, batch.map((c) => c.member_id))
    for (const candidate of batch) {
      const grant = planBirthdayGrant(rules, loaded.get(candidate.member_id)?.tierBonus ?? 0n, candidate.celebrated_on, today)
      countGrant(counts, grant)
      if (grant.greet) counts.greetings += 1
      list.add({ action: 'celebrate', memberId: candidate.member_id, points: grant.points > 0n ? Number(grant.points) : null, detail: { celebratedOn: candidate.celebrated_on } })
    }
  })
  return list.preview(counts)
}
