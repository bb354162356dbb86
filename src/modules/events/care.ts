import type { WriteTarget } from '../../db/statements.js'
import { exponentOf, formatMinorUnits, parseMinorUnits } from '../../shared/money.js'
import { D } from '../../shared/rounding.js'
import { readRules } from '../programs/rules.js'
import { emitEvent, type EmitOptions, type EmittedEvent, type EventInput, type EventProgram } from './emit.js'
import { endOfLocalDay } from './marketing.js'
import type { NotificationRules } from '../programs/notification-rules.js'
import type { EventPayload } from './payloads.js'

type BirthdayOffer = NonNullable<EventPayload<'birthday.today'>['offer']>

// Proactive care (article 000): the decisions behind storedValue.low and purchase.unusual, pure,
// and the emitters the jobs of other modules call (tiers, expiry, birthdays).

export interface CareProgram extends EventProgram {
  currency: string
}


/** The program's low stored value threshold in minor units, or null when it warns never. */
export function lowStoredValueThreshold(program: CareProgram, rules: NotificationRules = readRules(program.rules).notifications): bigint | null {
  return rules.lowStoredValue === null ? null : (parseMinorUnits(rules.lowStoredValue, exponentOf(program.currency)) ?? null)
}

/**
 * storedValue.low fires when the available balance goes from at or above the threshold to below
 * it: once per crossing, so the purchases after it (still below) stay quiet until a top-up lifts
 * the balance again.
 */
export const crossedBelow = (threshold: bigint | null, before: bigint, after: bigint) => threshold !== null && before >= threshold && after < threshold

export function storedValueLowPayload(program: CareProgram, memberId: string, balance: bigint, threshold: bigint, receiptId?: string): EventPayload<'storedValue.low'> {
  const exp = exponentOf(program.currency)
  return {
    memberId,
    currency: program.currency,
    balance: formatMinorUnits(balance, exp),
    threshold: formatMinorUnits(threshold, exp),
    ...(receiptId ? { receiptId } : {}),
  }
}

export interface PurchaseHistory {
  /** Completed purchases counted (at most the lookback). */
  count: number
  /** Their total, minor units. */
  sum: bigint
}

export interface UnusualAssessment {
  unusual: boolean
  reasons: ('above_limit' | 'above_average')[]
  /** The member's average purchase (minor units), when it was trusted. */
  average: bigint | null
  /** hold: the program wants unusual purchases held for review (the purchases service decides how). */
  action: 'flag' | 'hold'
}

/** Pure: is a purchase of `total` unusual for this member? Above the absolute limit, or above k x their average. */
export function assessUnusual(settings: NotificationRules['unusualPurchase'], currency: string, total: bigint, history: PurchaseHistory): UnusualAssessment {
  const reasons: UnusualAssessment['reasons'] = []
  const limit = settings.above === null ? null : parseMinorUnits(settings.above, exponentOf(currency))
  if (limit !== null && limit !== undefined && total > limit) reasons.push('above_limit')
  const trusted = history.count >= settings.minPurchases && history.count > 0
  const average = trusted ? BigInt(D(history.sum.toString()).div(history.count).toDecimalPlaces(0, D.ROUND_HALF_UP).toFixed(0)) : null
  // total > k x sum / n, compared exactly as total x n > k x sum.
  if (trusted && settings.timesAverage !== null && D(total.toString()).times(history.count).gt(D(settings.timesAverage).times(history.sum.toString()))) {
    reasons.push('above_average')
  }
  return { unusual: reasons.length > 0, reasons, average, action: settings.action }
}

// Emitters for the jobs of other modules (issue 5: tiers, points expiry, birthdays). Each takes
// the transaction of the change it reports.

export function emitMemberEnrolled(target: WriteTarget, program: EventProgram, member: { id: string; createdAt?: Date }, options?: EmitOptions): Promise<EmittedEvent> {
  return emitEvent(target, program, { type: 'member.enrolled', memberId: member.id, payload: { memberId: member.id, ...(member.createdAt ? { enrolledAt: member.createdAt.toISOString() } : {}) } }, options)
}

export function emitTierChanged(
  target: WriteTarget,
  program: EventProgram,
  input: { memberId: string; from: string | null; to: string; direction: 'up' | 'down'; reason?: string },
  options?: EmitOptions,
): Promise<EmittedEvent> {
  return emitEvent(target, program, { type: 'tier.changed', memberId: input.memberId, payload: { ...input } }, options)
}

/** Pure: points.expiringSoon as an event (the expire-points job plans it; emitPointsExpiringSoon writes it). */
export function pointsExpiringSoonInput(input: { memberId: string; points: bigint | number; expiresAt: Date; balance?: bigint | number }): EventInput<'points.expiringSoon'> {
  return {
    type: 'points.expiringSoon',
    memberId: input.memberId,
    payload: {
      memberId: input.memberId,
      points: Number(input.points),
      expiresAt: input.expiresAt.toISOString(),
      ...(input.balance !== undefined ? { balance: Number(input.balance) } : {}),
    },
  }
}

export function emitPointsExpiringSoon(
  target: WriteTarget,
  program: EventProgram,
  input: { memberId: string; points: bigint | number; expiresAt: Date; balance?: bigint | number },
  options?: EmitOptions,
): Promise<EmittedEvent> {
  return emitEvent(target, program, pointsExpiringSoonInput(input), options)
}

/** Pure: birthday.today as an event at `now`: dropped if still queued at the end of that local day. */
export function birthdayTodayInput(program: EventProgram, input: { memberId: string; offer?: BirthdayOffer }, now: Date): EventInput<'birthday.today'> {
  return {
    type: 'birthday.today',
    memberId: input.memberId,
    payload: { memberId: input.memberId, ...(input.offer ? { offer: input.offer } : {}) },
    expiresAt: endOfLocalDay(now, program.timezone),
  }
}

/** Marketing: only to members with SMS marketing consent and not on Do-Not-Call; dropped if still queued at the end of the local day. */
export function emitBirthdayToday(
  target: WriteTarget,
  program: EventProgram,
  input: { memberId: string; offer?: BirthdayOffer },
  options: EmitOptions = {},
): Promise<EmittedEvent> {
  const now = options.now ?? new Date()
  return emitEvent(target, program, birthdayTodayInput(program, input, now), { now })
}
