// What an entry does to points lots, as steps of an applied plan (src/db/apply.ts), pure. Per
// member: a debit takes the shares the plan names, then consumes free points (the lots of
// `consumeLotsOf` first); a debit allowed into an overdraft takes exactly the shares takeIntoHolds
// decides from the lots the load read (a changed lot makes the plan stale), cutting the pending
// holds' reservations it eats into; a credit then opens a lot, or gives the points back to the
// lots `restoreLotsOf` took them from (ll_lot_restore, the rest in a new lot).
import type { LotStep } from '../../db/apply.js'
import { newId } from '../../shared/ids.js'
import { accountId, memberPoints } from './accounts.js'
import { takeIntoHolds, type LotState, type Reservation } from './lot-plans.js'
import type { EntryPlan } from './planner.js'

/** What an entry does to lots, per member: gross debits and credits of the points wallet (legs, not netted postings). */
export function pointsFlows(plan: EntryPlan): Map<string, { debit: bigint; credit: bigint }> {
  const flows = new Map<string, { debit: bigint; credit: bigint }>()
  for (const leg of plan.legs) {
    if (leg.account.type !== 'member_points' || !leg.account.memberId) continue
    const f = flows.get(leg.account.memberId) ?? { debit: 0n, credit: 0n }
    if (leg.amount < 0n) f.debit -= leg.amount
    else f.credit += leg.amount
    flows.set(leg.account.memberId, f)
  }
  return flows
}

/** A member's lots as an overdraft's load reads them: every lot with points left, and what pending holds reserve of them. */
export interface MemberLots {
  lots: (LotState & { sourceEntryId: string | null })[]
  reservations: Reservation[]
}

/** The members whose lots an entry's overdraft needs loaded (loadMemberLots); none when it cannot overdraw. */
export function overdraftMembers(plan: EntryPlan): string[] {
  if (!plan.allowOverdraft) return []
  return [...pointsFlows(plan)].filter(([, f]) => f.debit > 0n).map(([memberId]) => memberId)
}

export const openStep = (programId: string, entryId: string, memberId: string, points: bigint, earnedAt: Date, expiresAt: Date | null): LotStep & { kind: 'open' } => ({
  kind: 'open',
  lotId: newId(),
  memberId,
  entryId,
  points: points.toString(),
  earnedAt: earnedAt.toISOString(),
  expiresAt: expiresAt?.toISOString() ?? null,
  accountId: accountId(programId, memberPoints(memberId)),
})

function debitSteps(entryId: string, memberId: string, points: bigint, plan: EntryPlan, loaded: MemberLots | undefined): LotStep[] {
  if (plan.allowOverdraft) {
    if (!loaded) throw new RangeError(`an overdraft of member ${memberId} needs the member’s lots loaded`)
    const preferred = plan.consumeLotsOf ?? null
    const lots = loaded.lots.map(({ sourceEntryId, ...l }) => ({ ...l, preferred: preferred !== null && sourceEntryId === preferred }))
    const { takes, cuts } = takeIntoHolds(lots, loaded.reservations, points)
    if (takes.length === 0) return []
    const shares: LotStep = { kind: 'shares', entryId, shares: takes.map((x) => ({ lot_id: x.lotId, points: x.points.toString(), held: x.held.toString() })) }
    if (cuts.length === 0) return [shares]
    return [shares, { kind: 'cuts', cuts: cuts.map((c) => ({ hold_id: c.holdId, lot_id: c.lotId, points: c.points.toString() })) }]
  }
  const named = plan.takeLots ?? []
  const namedPoints = named.reduce((s, x) => s + x.points, 0n)
  if (namedPoints > points) throw new RangeError(`an entry debiting ${points} points cannot take ${namedPoints} from lots`)
  const steps: LotStep[] = []
  if (named.length > 0) steps.push({ kind: 'shares', entryId, shares: named.map((x) => ({ lot_id: x.lotId, points: x.points.toString(), held: '0' })) })
  if (points > namedPoints) steps.push({ kind: 'consume', entryId, memberId, points: (points - namedPoints).toString(), preferEntry: plan.consumeLotsOf ?? null })
  return steps
}

/**
 * The lot steps of an entry, in the order the executor runs them: per member, the debit,
 * then the credit. `loaded` holds the lots of the members an overdraft debits (overdraftMembers);
 * null when one is needed and not there.
 */
export function lotSteps(programId: string, entryId: string, plan: EntryPlan, loaded: Map<string, MemberLots> = new Map()): LotStep[] | null {
  if (overdraftMembers(plan).some((m) => !loaded.has(m))) return null
  const steps: LotStep[] = []
  for (const [memberId, flow] of pointsFlows(plan)) {
    if (flow.debit > 0n) steps.push(...debitSteps(entryId, memberId, flow.debit, plan, loaded.get(memberId)))
    if (flow.credit <= 0n) continue
    if (plan.restoreLotsOf) {
      steps.push({
        kind: 'restore',
        entryId,
        memberId,
        points: flow.credit.toString(),
        original: plan.restoreLotsOf,
        effectiveAt: plan.effectiveAt.toISOString(),
        expiresAt: plan.pointsExpireAt?.toISOString() ?? null,
        lotId: newId(),
        accountId: accountId(programId, memberPoints(memberId)),
      })
    } else steps.push(openStep(programId, entryId, memberId, flow.credit, plan.effectiveAt, plan.pointsExpireAt ?? null))
  }
  return steps
}
