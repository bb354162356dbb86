import { currencyExponent, formatMinorUnits } from '../../shared/money.js'
import { POINTS } from './accounts.js'
import type { ActivityItem, WalletBalance } from './reads.js'
import type { EntryRecord } from './repository.js'

/** Points leave the service as JSON integers: bounded far below 2^53 by the amounts accepted. */
export const pointsNumber = (v: bigint) => Number(v)

export function formatAsset(value: bigint, asset: string): string {
  return asset === POINTS ? value.toString() : formatMinorUnits(value, currencyExponent(asset) ?? 0)
}

export function balancesView(memberId: string, currency: string, b: { points: WalletBalance; storedValue: WalletBalance }) {
  const exp = currencyExponent(currency) ?? 0
  return {
    memberId,
    points: { balance: pointsNumber(b.points.balance), available: pointsNumber(b.points.available), pending: pointsNumber(b.points.pending) },
    storedValue: {
      currency,
      balance: formatMinorUnits(b.storedValue.balance, exp),
      available: formatMinorUnits(b.storedValue.available, exp),
      pending: formatMinorUnits(b.storedValue.pending, exp),
    },
  }
}

const referenceOf = (type: string | null, id: string | null) => (type && id ? { type, id } : null)

export function entryView(e: EntryRecord) {
  return {
    id: e.id,
    kind: e.kind,
    effectiveAt: e.effectiveAt,
    createdAt: e.createdAt,
    memberId: e.memberId,
    storeId: e.storeId,
    reason: e.reason,
    reference: referenceOf(e.referenceType, e.referenceId),
    reversesEntryId: e.reversesEntryId,
    reversedByEntryId: e.reversedByEntryId,
    createdBy: e.createdBy,
    postings: e.postings.map((p) => ({
      seq: p.seq,
      accountId: p.accountId,
      accountCode: p.code,
      accountType: p.type,
      asset: p.asset,
      memberId: p.memberId,
      storeId: p.storeId,
      amount: formatAsset(p.amount, p.asset),
      debit: p.amount < 0n ? formatAsset(-p.amount, p.asset) : null,
      credit: p.amount > 0n ? formatAsset(p.amount, p.asset) : null,
      balanceAfter: p.balanceAfter === null ? null : formatAsset(p.balanceAfter, p.asset),
    })),
  }
}

export function activityView(a: ActivityItem, currency: string) {
  const exp = currencyExponent(currency) ?? 0
  const money = (v: bigint | null) => (v === null ? null : formatMinorUnits(v, exp))
  return {
    entryId: a.entryId,
    kind: a.kind,
    occurredAt: a.effectiveAt,
    recordedAt: a.createdAt,
    reason: a.reason,
    reference: referenceOf(a.referenceType, a.referenceId),
    reversesEntryId: a.reversesEntryId,
    points: a.points === null ? null : pointsNumber(a.points),
    pointsBalanceAfter: a.pointsAfter === null ? null : pointsNumber(a.pointsAfter),
    storedValue: money(a.storedValue),
    storedValueBalanceAfter: money(a.storedValueAfter),
  }
}
