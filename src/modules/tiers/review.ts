import { and, asc, eq, gt, lte } from 'drizzle-orm'
import type { Database } from '../../db/client.js'
import type { JobContext } from '../job-contract/definition.js'
import { PreviewList, type JobPreview } from '../job-contract/preview.js'
import type { ProgramRules } from '../programs/rules.js'
import type { ProgramRow } from '../programs/tables.js'
import { memberTiers } from './tables.js'
import { addMonthsIn, announceTierChange, changeTier, indexOfTier, qualifyingIndex, tierMetric, type TierChange, type TierRules } from './service.js'

export interface TierReview {
  outcome: 'kept' | 'upgraded' | 'downgraded'
  /** The level the member moves to, as an index into `levels`; -1 for out of every tier. */
  toIndex: number
}

/** The review of one member whose guarantee ended: the tier the metric reaches now, against the one held. */
export function planTierReview(tiers: TierRules, currentCode: string, metric: bigint, exponent: number): TierReview {
  const current = indexOfTier(tiers, currentCode)
  const reached = qualifyingIndex(tiers, metric, exponent)
  return { outcome: reached === current ? 'kept' : reached > current ? 'upgraded' : 'downgraded', toIndex: reached }
}

/** Members whose guarantee ended by `asOf`, by member id after `after`. */
const dueForReview = (database: Database, programId: string, asOf: Date, after: string) =>
  database.db
    .select({ member_id: memberTiers.memberId, tier_code: memberTiers.tierCode })
    .from(memberTiers)
    .where(and(eq(memberTiers.programId, programId), lte(memberTiers.guaranteedUntil, asOf), gt(memberTiers.memberId, after)))
    .orderBy(asc(memberTiers.memberId))
    .limit(500)

/** Every member due for review, batch by batch. */
async function forEachDue(database: Database, programId: string, asOf: Date, visit: (row: { member_id: string; tier_code: string }) => Promise<void>) {
  let after = '00000000-0000-0000-0000-000000000000'
  for (;;) {
    const due = await dueForReview(database, programId, asOf, after)
    if (due.length === 0) return
    after = due[due.length - 1]!.member_id
    for (const row of due) await visit(row)
  }
}

/**
 * The review job: every member whose guarantee ended by `asOf` is measured again over the window
 * ending then. Still qualifying (or better): kept (or raised) and guaranteed for another
 * retention period. Below: moved down to the tier the metric reaches, or out of every tier.
 * Each member is its own transaction; a rerun finds nothing left to review.
 */
export async function reviewTiers(database: Database, program: ProgramRow, rules: ProgramRules, asOf: Date, exponent: number) {
  const counts = { reviewed: 0, kept: 0, upgraded: 0, downgraded: 0 }
  const tiers = rules.tiers
  if (!tiers) return { counts, changes: [] as TierChange[] }
  const changes: TierChange[] = []
  await forEachDue(database, program.id, asOf, (row) =>
    database.transaction(async (p) => {
      const metric = await tierMetric(p, program, tiers, row.member_id, asOf)
      const review = planTierReview(tiers, row.tier_code, metric, exponent)
      counts.reviewed += 1
      if (review.outcome === 'kept') {
        counts.kept += 1
        await p
          .update(memberTiers)
          .set({ guaranteedUntil: addMonthsIn(asOf, tiers.retentionMonths, program.timezone), updatedAt: new Date() })
          .where(and(eq(memberTiers.programId, program.id), eq(memberTiers.memberId, row.member_id)))
        return
      }
      const change = await changeTier(p, program, tiers, { memberId: row.member_id, fromCode: row.tier_code, toIndex: review.toIndex, reason: 'review', metric, at: asOf })
      if (change) {
        await announceTierChange(p, program, tiers, change)
        changes.push(change)
        counts[review.outcome] += 1
      }
    }),
  )
  return { counts, changes }
}

const ACTIONS = { kept: 'keep', upgraded: 'upgrade', downgraded: 'downgrade' } as const

/** The dry run of the review: the same plan for every member due, nothing written. */
export async function previewReviewTiers({ database, program, asOf }: JobContext, rules: ProgramRules, exponent: number): Promise<JobPreview> {
  const counts = { reviewed: 0, kept: 0, upgraded: 0, downgraded: 0 }
  const list = new PreviewList()
  const tiers = rules.tiers
  if (!tiers) return list.preview(counts)
  await forEachDue(database, program.id, asOf, async (row) => {
    const metric = await tierMetric(database.db, program, tiers, row.member_id, asOf)
    const review = planTierReview(tiers, row.tier_code, metric, exponent)
    counts.reviewed += 1
    counts[review.outcome] += 1
    list.add({ action: ACTIONS[review.outcome], memberId: row.member_id, points: null, detail: { fromTier: row.tier_code, toTier: tiers.levels[review.toIndex]?.code ?? null } })
  })
  return list.preview(counts)
}
