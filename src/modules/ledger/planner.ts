import type { AccountRef } from './accounts.js'
import { accountCode } from './accounts.js'

/** One side of a movement: credit positive, debit negative, in minor units or points. */
export interface Leg {
  account: AccountRef
  amount: bigint
}

export type EntryKind =
  | 'purchase'
  | 'return'
  | 'top_up'
  | 'adjustment'
  | 'expiry'
  | 'reversal'
  | 'capture'
  | 'bonus'
  /** Points paid for a reward of the catalog (src/modules/rewards): member points to points redeemed. */
  | 'reward_redemption'
  /** A reward's redemption cancelled: the points given back (it reverses the redemption's entry). */
  | 'reward_cancellation'
  /** A member's balances brought from another system by a member import, against opening_balance. */
  | 'opening_balance'
  /** Value loaded on gift cards at a till, or issued with them (gift card clearing -> each card's wallet). */
  | 'gift_card_load'

export interface EntryPlan {
  /** Chosen by the caller when other statements of the transaction must name the entry. */
  id?: string
  kind: EntryKind
  effectiveAt: Date
  memberId?: string
  storeId?: string
  reason?: string
  referenceType?: string
  referenceId?: string
  reversesEntryId?: string
  metadata?: Record<string, unknown>
  /** When points this entry credits expire (their new lot); null or absent: never. Callers crediting points pass lotExpiry(rules…). */
  pointsExpireAt?: Date | null
  /**
   * Debits of member points take exactly these lot shares first (planned by the caller: a capture
   * takes what its hold reserved, an expiry the due lots); any rest is consumed as usual.
   */
  takeLots?: { lotId: string; points: bigint }[]
  /** Debits of member points take the lots this entry opened first (a clawback, a reversal of a credit). */
  consumeLotsOf?: string
  /** Credits of member points refill the lots this entry consumed (a return, a reversal of a debit). */
  restoreLotsOf?: string
  /** Lets member-wallet debits go below the floor (a clawback the program's policy allows). */
  allowOverdraft?: boolean
  legs: Leg[]
}

export interface PlannedPosting {
  seq: number
  account: AccountRef
  amount: bigint
}

export class UnbalancedEntryError extends Error {
  override name = 'UnbalancedEntryError'
}

/** Moves `amount` (> 0) from one account to another: debit `from`, credit `to`. */
export function transfer(from: AccountRef, to: AccountRef, amount: bigint): Leg[] {
  if (amount <= 0n) throw new RangeError(`a transfer moves a positive amount, not ${amount}`)
  if (from.asset !== to.asset) throw new UnbalancedEntryError(`cannot transfer between ${from.asset} and ${to.asset}`)
  return [
    { account: from, amount: -amount },
    { account: to, amount },
  ]
}

/**
 * Nets the legs per account (an account appears at most once per entry), drops accounts that net
 * to zero, and checks the rest sum to zero per asset. Pure: the database checks the same again.
 */
export function planPostings(legs: Leg[]): PlannedPosting[] {
  const byAccount = new Map<string, { account: AccountRef; amount: bigint }>()
  const perAsset = new Map<string, bigint>()
  for (const leg of legs) {
    if (typeof leg.amount !== 'bigint') throw new TypeError('amounts are bigint minor units')
    const code = accountCode(leg.account)
    const current = byAccount.get(code)
    if (current && current.account.asset !== leg.account.asset) throw new UnbalancedEntryError(`account ${code} holds one asset`)
    byAccount.set(code, { account: leg.account, amount: (current?.amount ?? 0n) + leg.amount })
    perAsset.set(leg.account.asset, (perAsset.get(leg.account.asset) ?? 0n) + leg.amount)
  }
  for (const [asset, total] of perAsset) {
    if (total !== 0n) throw new UnbalancedEntryError(`legs in ${asset} sum to ${total}, not zero`)
  }
  const postings = [...byAccount.values()].filter((p) => p.amount !== 0n)
  if (postings.length === 0) throw new UnbalancedEntryError('an entry must move something')
  return postings.map((p, i) => ({ seq: i + 1, account: p.account, amount: p.amount }))
}

/** The legs that undo an entry exactly: every posting with its sign flipped. */
export function mirrorLegs(postings: { account: AccountRef; amount: bigint }[]): Leg[] {
  return postings.map((p) => ({ account: p.account, amount: -p.amount }))
}
