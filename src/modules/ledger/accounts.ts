import { v5 as uuidv5 } from 'uuid'

export const POINTS = 'POINTS'

export type AccountType =
  | 'member_points'
  | 'member_stored_value'
  | 'points_issued'
  | 'points_redeemed'
  | 'points_breakage'
  | 'points_adjustments'
  | 'stored_value_adjustments'
  | 'tender_clearing'
  | 'stored_value_settlement'
  | 'opening_balance'
  /** A gift card's own wallet (docs/gift-cards.md): a liability like stored value, to whoever holds the card. */
  | 'gift_card'
  /** Per store: money taken at a till for gift card loads (a gift card's tender clearing). */
  | 'gift_card_clearing'
  /** Per store: gift card value spent there (a gift card's stored-value settlement). */
  | 'gift_card_settlement'

/** What an account is; its id and code follow from this and the program. */
export interface AccountRef {
  type: AccountType
  asset: string
  memberId?: string
  storeId?: string
  giftCardId?: string
}

const WALLETS: ReadonlySet<AccountType> = new Set(['member_points', 'member_stored_value', 'gift_card'])

/**
 * Wallets are liabilities to a holder (a member, or whoever holds a gift card): floored at zero,
 * with running balances kept on the row and debits guarded (ledger_post_entry's `wallet` postings).
 */
export const isWallet = (ref: AccountRef) => WALLETS.has(ref.type)

export const memberPoints = (memberId: string): AccountRef => ({ type: 'member_points', asset: POINTS, memberId })
export const memberStoredValue = (memberId: string, currency: string): AccountRef => ({ type: 'member_stored_value', asset: currency, memberId })
export const pointsIssued = (): AccountRef => ({ type: 'points_issued', asset: POINTS })
export const pointsRedeemed = (): AccountRef => ({ type: 'points_redeemed', asset: POINTS })
export const pointsBreakage = (): AccountRef => ({ type: 'points_breakage', asset: POINTS })
export const pointsAdjustments = (): AccountRef => ({ type: 'points_adjustments', asset: POINTS })
export const storedValueAdjustments = (currency: string): AccountRef => ({ type: 'stored_value_adjustments', asset: currency })
export const tenderClearing = (storeId: string, currency: string): AccountRef => ({ type: 'tender_clearing', asset: currency, storeId })
export const storedValueSettlement = (storeId: string, currency: string): AccountRef => ({ type: 'stored_value_settlement', asset: currency, storeId })
/** Equity: the balances members brought from the system a program moved from (a member import), one per asset. */
export const openingBalance = (asset: string): AccountRef => ({ type: 'opening_balance', asset })

/** A gift card's wallet: its own account, whoever the card is attached to. */
export const giftCardWallet = (giftCardId: string, currency: string): AccountRef => ({ type: 'gift_card', asset: currency, giftCardId })
export const giftCardClearing = (storeId: string, currency: string): AccountRef => ({ type: 'gift_card_clearing', asset: currency, storeId })
export const giftCardSettlement = (storeId: string, currency: string): AccountRef => ({ type: 'gift_card_settlement', asset: currency, storeId })

/** Human-readable and unique within a program: `member:<id>:points`, `gift_card:<id>:VND`, `store:<id>:tender_clearing:VND`, `points_issued`. */
export function accountCode(ref: AccountRef): string {
  if (ref.giftCardId) return `gift_card:${ref.giftCardId}:${ref.asset}`
  if (ref.memberId) return `member:${ref.memberId}:${ref.type === 'member_points' ? 'points' : `stored_value:${ref.asset}`}`
  if (ref.storeId) return `store:${ref.storeId}:${ref.type}:${ref.asset}`
  return ref.asset === POINTS ? ref.type : `${ref.type}:${ref.asset}`
}

const ACCOUNT_NAMESPACE = '6f1d8a52-8c1e-4f0e-9a53-1c7f1e0b6a10'

/** UUIDv5 hashing showed in profiles of the purchase path: ids are remembered (bounded). */
const ids = new Map<string, string>()

export function accountId(programId: string, ref: AccountRef): string {
  const name = `${programId}/${accountCode(ref)}`
  let id = ids.get(name)
  if (id === undefined) {
    if (ids.size > 100_000) ids.clear()
    id = uuidv5(name, ACCOUNT_NAMESPACE)
    ids.set(name, id)
  }
  return id
}

/** A member's two wallets as a plan names them (src/db/apply.ts: their balances after become facts). */
export function memberWallets(program: { id: string; currency: string }, memberId: string, exponent: number) {
  return {
    memberId,
    points: accountId(program.id, memberPoints(memberId)),
    storedValue: accountId(program.id, memberStoredValue(memberId, program.currency)),
    currency: program.currency,
    exponent,
  }
}
