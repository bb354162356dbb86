// Points expiring as steps of a plan (src/db/apply.ts): one breakage entry (member points ->
// breakage) taking exactly the shares chosen (ledger/lot-plans.ts, expiry-plan.ts decide them,
// pure), and the lots it empties marked expired by it. The expiry job, a void and an expired hold
// (the part of a hold's lots already due), and a capture (what it did not take of due lots) use it.
import type { EntryStep, LotStep } from '../../db/apply.js'
import { newId } from '../../shared/ids.js'
import { memberPoints, pointsBreakage } from './accounts.js'
import { entryStep } from './entry-step.js'
import type { LotShare } from './lot-plans.js'
import { transfer } from './planner.js'

export interface ExpirySteps {
  entry: EntryStep
  entryId: string
  lots: LotStep[]
  points: bigint
  /** The accounts the entry may create (remember them once it applied: ledger/repository.ts rememberAccounts). */
  accountIds: string[]
}

/**
 * Pure: the steps expiring `shares` of the member's lots at `asOf`; undefined when they hold no
 * points. `referenceId` names what expired them (`<member>:<local date>` for the job, `hold:<id>`).
 */
export function expirySteps(
  programId: string,
  memberId: string,
  shares: LotShare[],
  at: { asOf: Date; referenceId: string; actor: string; entryId?: string },
): ExpirySteps | undefined {
  const points = shares.reduce((s, x) => s + x.points, 0n)
  if (points <= 0n) return undefined
  const { step, entryId, accountIds } = entryStep(
    programId,
    {
      id: at.entryId ?? newId(),
      kind: 'expiry',
      effectiveAt: at.asOf,
      memberId,
      reason: 'points expired',
      referenceType: 'points_expiry',
      referenceId: at.referenceId,
      legs: transfer(memberPoints(memberId), pointsBreakage(), points),
    },
    at.actor,
  )
  const lots: LotStep[] = [
    { kind: 'shares', entryId, shares: shares.map((x) => ({ lot_id: x.lotId, points: x.points.toString(), held: '0' })) },
    { kind: 'expired', entryId, lotIds: shares.map((x) => x.lotId) },
  ]
  return { entry: step, entryId, lots, points, accountIds }
}
