import type { Database } from '../../db/client.js'
import { localDate } from '../../shared/period.js'
import type { JobDefinition } from '../job-contract/definition.js'
import type { ProgramRow } from '../programs/tables.js'
import { appliedFresh, PlanError, STALE } from '../../db/apply.js'
import { forEachInFlight } from '../../shared/in-flight.js'
import { loadDue, membersWithDueLots } from './expiry-load.js'
import { memberExpiryPlan, planMemberExpiry, previewExpirePoints } from './expiry-plan.js'
import { rememberAccounts } from './repository.js'
import { EXPIRY_NOTICE_DAYS, noticeExpiringPoints } from './expiry-notice.js'

const ZERO_UUID = '00000000-0000-0000-0000-000000000000'

/** Members whose plans are in the executor at once (its groups take up to 32 together). */
const MEMBERS_IN_FLIGHT = 32
const PAGE = 500
const ACTOR = 'job:expire-points'

/**
 * Expires every lot due by `asOf`: per member, one breakage entry (member points -> breakage) for
 * the free part of the due lots, and the emptied lots marked expired, as one plan on the executor.
 * A page of members is loaded together (no locks), each member's plan decided (planMemberExpiry)
 * and applied, many members in flight together so their plans share the executor's groups. The
 * plan takes exact lot shares: a sale or a hold that changed a lot since the load makes it stale
 * (LL300; a hold's reservation trips points_lots_held_check; a smaller wallet, LL100) and that
 * member is loaded and planned again. Points a pending hold reserves are not expired under it: they
 * go back to their lots when the hold ends and expire then if past due (the void's or capture's plan). Exactly
 * once: a rerun finds nothing free in the due lots.
 */
export async function expirePoints(database: Database, program: ProgramRow, asOf: Date) {
  const counts = { members: 0, lots: 0, points: 0, deferredByHolds: 0 }
  const referenceId = (memberId: string) => `${memberId}:${localDate(asOf, program.timezone)}`
  let after = ZERO_UUID
  for (;;) {
    const members = await membersWithDueLots(database, program.id, asOf, after, PAGE)
    if (members.length === 0) return counts
    after = members[members.length - 1]!
    const loaded = await loadDue(database, program.id, asOf, members)
    await forEachInFlight(members, MEMBERS_IN_FLIGHT, async (memberId) => {
      let first = loaded.get(memberId)
      const outcome = await appliedFresh(async () => {
        const due = first ?? (await loadDue(database, program.id, asOf, [memberId])).get(memberId)!
        first = undefined
        const plan = planMemberExpiry(due.lots, due.available, asOf)
        const applied = memberExpiryPlan(program, memberId, plan.shares, { asOf, referenceId: referenceId(memberId), actor: ACTOR })
        if (applied) {
          await database.apply(applied.data).catch((err: unknown) => {
            throw changedMeanwhile(err) ? new PlanError({ code: STALE, message: 'stale:points_lots', constraint: null }) : err
          })
          rememberAccounts(program.id, applied.steps.accountIds)
        }
        return { deferred: plan.deferred, lots: applied ? plan.shares.length : 0, points: applied?.steps.points ?? 0n }
      }, ATTEMPTS)
      if (outcome.deferred) counts.deferredByHolds += 1
      if (outcome.points === 0n) return
      counts.members += 1
      counts.lots += outcome.lots
      counts.points += Number(outcome.points)
    })
  }
}

/** A busy member's lots may change under several loads in a row; the job keeps trying longer than a request. */
const ATTEMPTS = 10

/**
 * The member's lots or wallet changed since the load: a lot no longer has the shares (LL300), a
 * hold reserved some of them (the take would leave less than held), or the wallet has less available.
 */
const changedMeanwhile = (err: unknown) =>
  err instanceof PlanError && (err.code === STALE || err.code === 'LL100' || err.constraint_name === 'points_lots_held_check')

export const expirePointsJob: JobDefinition = {
  name: 'expire-points',
  description: `Posts breakage for points lots past their expiry date, once per lot; tells members about points expiring within ${EXPIRY_NOTICE_DAYS} days, once per lot`,
  daily: true,
  run: async ({ database, program, asOf }) => {
    const counts = await expirePoints(database, program, asOf)
    return { ...counts, noticed: await noticeExpiringPoints(database, program, asOf) }
  },
  preview: (ctx) => previewExpirePoints(ctx, EXPIRY_NOTICE_DAYS),
}
