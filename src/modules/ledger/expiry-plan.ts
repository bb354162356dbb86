import { eq, and, gt, isNull, lte, countDistinct } from 'drizzle-orm'
import type { PlanData } from '../../db/apply.js'
import type { JobContext } from '../job-contract/definition.js'
import { PreviewList, type JobPreview } from '../job-contract/preview.js'
import type { ProgramRow } from '../programs/tables.js'
import { currencyExponent } from '../../shared/money.js'
import { memberWallets } from './accounts.js'
import { loadDue, membersWithDueLots, type DueState } from './expiry-load.js'
import { expirySteps, type ExpirySteps } from './expiry-steps.js'
import { dueShares, type LotShare } from './lot-plans.js'
import { pointsLots } from './tables.js'

export interface MemberExpiry {
  /** What moves to breakage now, lot by lot. */
  shares: LotShare[]
  points: bigint
  /** true: a pending purchase holds some of the due points; they expire when the hold ends, if still due. */
  deferred: boolean
}

/**
 * What expiring a member's due lots takes at `asOf`: the free part of every lot due by then,
 * soonest first, never more than the wallet has available and never points a pending hold reserves.
 */
export function planMemberExpiry(lots: DueState['lots'], available: bigint, asOf: Date): MemberExpiry {
  const shares = dueShares(lots, asOf, { limit: available > 0n ? available : 0n })
  return { shares, points: shares.reduce((s, x) => s + x.points, 0n), deferred: lots.some((l) => l.held > 0n) }
}

/**
 * Pure: the expire-points job's plan for one member, from what the load saw: the breakage entry
 * taking exactly the shares (a lot a sale consumed meanwhile makes it stale), the member's wallets
 * locked by the executor. Undefined when nothing is free to expire.
 */
export function memberExpiryPlan(
  program: Pick<ProgramRow, 'id' | 'currency'>,
  memberId: string,
  shares: LotShare[],
  at: { asOf: Date; referenceId: string; actor: string; entryId?: string },
): { data: PlanData; steps: ExpirySteps } | undefined {
  const steps = expirySteps(program.id, memberId, shares, at)
  if (!steps) return undefined
  return {
    data: {
      program: program.id,
      // Named so the executor's groups order this plan by its member (their one lock order).
      member: { id: memberId, refuseErased: false },
      entries: [steps.entry],
      lots: steps.lots,
      wallets: memberWallets(program, memberId, currencyExponent(program.currency) ?? 0),
    },
    steps,
  }
}

const BATCH = 500

/** The dry run of expire-points: the same plan per member from the same rows, read as the job reads them; nothing is written. */
export async function previewExpirePoints({ database, program, asOf }: JobContext, noticeDays: number): Promise<JobPreview> {
  const counts = { members: 0, lots: 0, points: 0, deferredByHolds: 0, noticed: 0 }
  const list = new PreviewList()
  let after = '00000000-0000-0000-0000-000000000000'
  for (;;) {
    const members = await membersWithDueLots(database, program.id, asOf, after, BATCH)
    if (members.length === 0) break
    after = members[members.length - 1]!
    for (const [memberId, due] of await loadDue(database, program.id, asOf, members)) {
      const plan = planMemberExpiry(due.lots, due.available, asOf)
      if (plan.deferred) counts.deferredByHolds += 1
      if (plan.points <= 0n) continue
      counts.members += 1
      counts.lots += plan.shares.length
      counts.points += Number(plan.points)
      list.add({ action: 'expire', memberId, points: Number(plan.points) })
    }
  }
  const until = new Date(asOf.getTime() + noticeDays * 86_400_000)
  const [noticed] = await database.db
    .select({ members: countDistinct(pointsLots.memberId) })
    .from(pointsLots)
    .where(and(eq(pointsLots.programId, program.id), gt(pointsLots.remaining, 0n), isNull(pointsLots.expiryNoticeAt), gt(pointsLots.expiresAt, asOf), lte(pointsLots.expiresAt, until)))
  counts.noticed = Number(noticed?.members ?? 0)
  return list.preview(counts)
}
