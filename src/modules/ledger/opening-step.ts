// Opening balances, pure: the points and stored value a member brings from the system a program
// moved from, as one entry of kind opening_balance against the opening_balance accounts (equity),
// and the lot its points open. Many members' openings go to the executor together as one
// OpeningsStep (src/db/apply.ts), which posts them set-based (migration 0025).
import type { OpeningsStep } from '../../db/apply.js'
import { accountId, memberPoints, memberStoredValue, openingBalance, POINTS } from './accounts.js'
import { entryStep } from './entry-step.js'
import { openStep } from './lot-steps.js'
import { transfer, type EntryPlan, type Leg } from './planner.js'

export interface OpeningBalance {
  memberId: string
  entryId: string
  points: bigint
  /** Minor units of the program's currency. */
  storedValue: bigint
  /** When its points expire, when the old system said; else the step's `pointsExpireAt`. */
  pointsExpireAt?: Date
  /** What brought it (the import), as the entry's reference. */
  referenceType: string
  referenceId: string
  metadata?: Record<string, unknown>
}

/** The entry of one member's opening balances; undefined when there is nothing to open. */
export function openingEntry(currency: string, o: OpeningBalance, effectiveAt: Date): EntryPlan | undefined {
  if (o.points < 0n || o.storedValue < 0n) throw new RangeError('opening balances are not negative')
  const legs: Leg[] = []
  if (o.points > 0n) legs.push(...transfer(openingBalance(POINTS), memberPoints(o.memberId), o.points))
  if (o.storedValue > 0n) legs.push(...transfer(openingBalance(currency), memberStoredValue(o.memberId, currency), o.storedValue))
  if (legs.length === 0) return undefined
  return {
    id: o.entryId,
    kind: 'opening_balance',
    effectiveAt,
    memberId: o.memberId,
    referenceType: o.referenceType,
    referenceId: o.referenceId,
    metadata: o.metadata,
    legs,
  }
}

/**
 * The executor's step for these openings, and the system accounts it creates (remembered once the
 * plan commits; the members' new wallets are not, so a large import does not push every other
 * account out of the known set). Points open a lot each, expiring when the opening says, else at `pointsExpireAt`.
 */
export function openingsStep(
  program: { id: string; currency: string },
  openings: OpeningBalance[],
  ctx: { now: Date; actor: string; pointsExpireAt: Date | null },
): { step: OpeningsStep; systemAccountIds: string[] } {
  const step: OpeningsStep = { entries: [], lots: [] }
  for (const o of openings) {
    const plan = openingEntry(program.currency, o, ctx.now)
    if (!plan) continue
    step.entries.push(entryStep(program.id, plan, ctx.actor).step)
    if (o.points > 0n) step.lots.push(openStep(program.id, o.entryId, o.memberId, o.points, ctx.now, o.pointsExpireAt ?? ctx.pointsExpireAt))
  }
  const systemAccountIds = step.entries.length === 0 ? [] : [accountId(program.id, openingBalance(POINTS)), accountId(program.id, openingBalance(program.currency))]
  return { step, systemAccountIds }
}

/** The two wallets an opening creates, for tests and checks: points, then stored value. */
export const openingWallets = (programId: string, currency: string, memberId: string) => [accountId(programId, memberPoints(memberId)), accountId(programId, memberStoredValue(memberId, currency))]
