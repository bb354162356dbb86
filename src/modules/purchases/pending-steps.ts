// The steps of the commands that end a pending purchase, pure: a capture, a void, the expiry of its
// hold. From what pending-load.ts read (the purchase at its version, the lots its points hold
// reserves, its active coupon redemptions) and the decision of capture-plan.ts they build the
// plan (src/db/apply.ts): the purchase locked at the version loaded, each hold resolved once
// against the reservations the load saw, the capture's entry taking exactly the reserved lots it
// captures, the released points already past due expired at once, coupons given back, the row
// updated. A concurrent change makes the plan stale (LL300) instead of wrong.
import { toSnakeCase } from 'drizzle-orm/casing'
import type { EntryStep, HoldStep, LockStep, LotPart, LotStep, PlanData, RowStep } from '../../db/apply.js'
import type { ActiveRedemption } from '../coupons/release-plan.js'
import { couponReleaseSteps } from '../coupons/release-plan.js'
import { memberWallets } from '../ledger/accounts.js'
import { entryStep } from '../ledger/entry-step.js'
import { expirySteps, type ExpirySteps } from '../ledger/expiry-steps.js'
import { dueShares, takeReserved, type LotShare, type ReleasedLot } from '../ledger/lot-plans.js'
import { lotSteps } from '../ledger/lot-steps.js'
import { currencyExponent } from '../../shared/money.js'
import type { CapturePlan, ReleasePlan } from './capture-plan.js'
import type { TierAndReferralSteps } from './sale-steps.js'
import { memberOf, purchaseRowJson } from './stored.js'
import type { PurchaseRow } from './tables.js'

/** A lot a hold of the purchase reserves part of, as the load saw it (before the hold is resolved). */
export interface HeldLot {
  holdId: string
  lotId: string
  /** What the hold still reserves of the lot (lot_holds points - cut). */
  points: bigint
  memberId: string
  expiresAt: Date | null
  remaining: bigint
  /** The lot's reserved part, this hold's included. */
  held: bigint
}

export interface PendingLoaded {
  row: PurchaseRow
  /** The purchase row's version (xmin) when loaded. */
  version: string
  lots: HeldLot[]
}

/** The part of a plan that ends the purchase's holds and updates it; the caller adds receipt, events, idempotency. */
export interface PendingSteps {
  data: Omit<PlanData, 'program' | 'receipts' | 'events' | 'idempotency'> & { rows: RowStep[] }
  /** The purchase row as the plan leaves it. */
  row: PurchaseRow
  /** Accounts the plan's entries may create (remember them once applied). */
  accountIds: string[]
}

/** The lots of `holdId` as resolving the hold leaves them: its reservation given back. */
export function releasedLotsOf(lots: HeldLot[], holdId: string): ReleasedLot[] {
  return lots
    .filter((l) => l.holdId === holdId)
    .map((l) => ({ id: l.lotId, memberId: l.memberId, expiresAt: l.expiresAt, remaining: l.remaining, held: l.held - l.points, reserved: l.points }))
}

/** What the resolve step checks the hold still reserves (LL300 otherwise). */
const reservedOf = (lots: HeldLot[], holdId: string): LotPart[] => lots.filter((l) => l.holdId === holdId).map((l) => ({ lot_id: l.lotId, points: l.points.toString() }))

/** The row update: exactly the columns `changes` names, as the row after them holds them. */
export function purchaseUpdate(before: PurchaseRow, changes: Partial<PurchaseRow>): { step: RowStep; row: PurchaseRow } {
  const row: PurchaseRow = { ...before, ...changes }
  const json = purchaseRowJson(row)
  const set = Object.fromEntries(Object.keys(changes).map((k) => [toSnakeCase(k), json[toSnakeCase(k)]]))
  return { step: { op: 'update', table: 'purchases', key: { id: before.id }, set }, row }
}

const lockOf = (loaded: PendingLoaded): LockStep => ({ table: 'purchases', key: { id: loaded.row.id }, version: loaded.version, missing: { code: 'LL404', message: 'purchase_not_found' } })

/** The member too (erased or not, as before): a group applies its plans in member order (src/db/groups.ts), and the receipt shows its masked phone. */
const memberStep = (row: PurchaseRow) => ({ id: memberOf(row), refuseErased: false })

const walletsOf = (programId: string, row: PurchaseRow) => memberWallets({ id: programId, currency: row.currency }, memberOf(row), currencyExponent(row.currency) ?? 0)

/** Points the hold gives back to lots already due at `asOf` expire at once: the hold protected them, nothing more. */
function releasedExpiry(programId: string, holdId: string, released: ReleasedLot[], taken: LotShare[], asOf: Date, actor: string): ExpirySteps | undefined {
  const memberId = released[0]?.memberId
  if (!memberId) return undefined
  return expirySteps(programId, memberId, dueShares(released, asOf, { taken }), { asOf, referenceId: `hold:${holdId}`, actor })
}

/** A void or an expired hold: every hold resolved, released points past due expired, coupons given back, the purchase voided. */
export function releaseSteps(programId: string, loaded: PendingLoaded, plan: ReleasePlan, redemptions: ActiveRedemption[]): PendingSteps {
  const holds: HoldStep[] = plan.holdIds.map((holdId) => ({ op: 'resolve', holdId, status: plan.holdStatus, postedAmount: null, postedEntryId: null, reserved: reservedOf(loaded.lots, holdId) }))
  const expiries = plan.holdIds.flatMap((holdId) => releasedExpiry(programId, holdId, releasedLotsOf(loaded.lots, holdId), [], plan.asOf, plan.actor) ?? [])
  const update = purchaseUpdate(loaded.row, plan.purchase)
  return {
    data: {
      member: memberStep(loaded.row),
      locks: [lockOf(loaded)],
      wallets: walletsOf(programId, loaded.row),
      holds,
      entries: expiries.map((e) => e.entry),
      lots: expiries.flatMap((e) => e.lots),
      rows: [update.step, ...couponReleaseSteps(redemptions, plan.purchase.updatedAt)],
    },
    row: update.row,
    accountIds: expiries.flatMap((e) => e.accountIds),
  }
}

/**
 * A capture: each hold resolved as posted (its reservation released), the capture's entry taking
 * the captured points from the lots the points hold reserved (takeReserved), what it did not take
 * of lots already due expired at once, the purchase completed. Steps a capture in a program with
 * tiers or a referral rule needs go after these (`data.rows`).
 */
export function captureSteps(programId: string, loaded: PendingLoaded, plan: CapturePlan, ctx: { now: Date; actor: string }): PendingSteps {
  const holds: HoldStep[] = plan.holds.map((h) => ({ op: 'resolve', holdId: h.holdId, status: 'posted', postedAmount: h.amount.toString(), postedEntryId: null, reserved: reservedOf(loaded.lots, h.holdId) }))
  const pointsHold = plan.holds.find((h) => h.kind === 'points')
  const released = pointsHold ? releasedLotsOf(loaded.lots, pointsHold.holdId) : []
  const taken = takeReserved(released, plan.purchase.pointsRedeemed)
  const entry = plan.entry ? entryStep(programId, plan.entry, ctx.actor) : undefined
  const expiry = pointsHold ? releasedExpiry(programId, pointsHold.holdId, released, taken, ctx.now, ctx.actor) : undefined
  const update = purchaseUpdate(loaded.row, plan.purchase)
  const entries: EntryStep[] = [...(entry ? [entry.step] : []), ...(expiry ? [expiry.entry] : [])]
  return {
    data: {
      member: memberStep(loaded.row),
      locks: [lockOf(loaded)],
      wallets: walletsOf(programId, loaded.row),
      holds,
      entries,
      lots: [...(entry && plan.entry ? captureLotSteps(programId, entry.entryId, plan, taken, expiry?.lots ?? []) : (expiry?.lots ?? []))],
      rows: [update.step],
    },
    row: update.row,
    accountIds: [...(entry?.accountIds ?? []), ...(expiry?.accountIds ?? [])],
  }
}

/**
 * The capture entry's lots: exactly the reserved shares it captures (the resolve released them:
 * `held` 0), then the expiry of due released points, then whatever the reservation no longer
 * covered (an overdraft cut it) from free points, then the lot the earned points open (last: it
 * is sized against the wallet once every take is done).
 */
function captureLotSteps(programId: string, entryId: string, plan: CapturePlan, taken: LotShare[], expiry: LotStep[]): LotStep[] {
  const plain = lotSteps(programId, entryId, plan.entry!) ?? []
  const takenPoints = taken.reduce((s, x) => s + x.points, 0n)
  const steps: LotStep[] = []
  if (taken.length > 0) steps.push({ kind: 'shares', entryId, shares: taken.map((x) => ({ lot_id: x.lotId, points: x.points.toString(), held: '0' })) })
  steps.push(...expiry)
  for (const s of plain) {
    if (s.kind !== 'consume') steps.push(s)
    else if (BigInt(s.points) > takenPoints) steps.push({ ...s, points: (BigInt(s.points) - takenPoints).toString() })
  }
  return steps
}

/**
 * A capture's steps with what the captured sale does for the member's tier and referral
 * (sale-steps.ts): the member-row guard and tier lock after the purchase's, the referral's bonus
 * entry and its lots after the capture's, its rows after the purchase update.
 */
export function withTierAndReferral(programId: string, steps: PendingSteps, more: Pick<TierAndReferralSteps, 'locks' | 'entries' | 'rows'>): PendingSteps {
  const bonus = more.entries.map((plan) => ({ ...entryStep(programId, plan, 'referral'), plan }))
  const { data } = steps
  return {
    data: {
      ...data,
      locks: [...(data.locks ?? []), ...more.locks],
      entries: [...(data.entries ?? []), ...bonus.map((e) => e.step)],
      lots: [...(data.lots ?? []), ...bonus.flatMap((e) => lotSteps(programId, e.entryId, e.plan) ?? [])],
      rows: [...data.rows, ...more.rows],
    },
    row: steps.row,
    accountIds: [...steps.accountIds, ...bonus.flatMap((e) => e.accountIds)],
  }
}
