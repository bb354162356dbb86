import { sql } from 'drizzle-orm'
import { queryRows, type Executor } from '../../db/client.js'
import type { Period } from '../../shared/period.js'
import { POINTS } from '../ledger/accounts.js'

/**
 * What the program owes its members, per asset, rolled forward over a period:
 *
 *   closing = opening + imported + issued - clawedBack - redeemed + refunded - expired + adjusted + reversed + other
 *
 * Opening and closing are the member wallets themselves (every member_points / member_stored_value
 * posting effective before the bound). Movements are read from the other side of each entry: an
 * entry sums to zero per asset, so what the member wallets gained in it is exactly what its
 * non-wallet postings lost. Each non-wallet posting is classified by its account type and its
 * direction, not by the entry kind, so new kinds (expiry, bonus, …) land in the right column
 * without a change here. Because opening and closing are computed independently of the
 * movements, a classification that missed something would show as a roll-forward that does not close.
 */
export type Movement = 'imported' | 'issued' | 'clawedBack' | 'redeemed' | 'refunded' | 'expired' | 'adjusted' | 'reversed' | 'other'

export const MOVEMENTS: readonly Movement[] = ['imported', 'issued', 'clawedBack', 'redeemed', 'refunded', 'expired', 'adjusted', 'reversed', 'other']

const WALLET_TYPES = new Set(['member_points', 'member_stored_value', 'gift_card'])
/** Accounts that put value into wallets: points earned or granted (bonus), stored value or gift card value paid for at a till. */
const ISSUING = new Set(['points_issued', 'tender_clearing', 'gift_card_clearing'])
/** Accounts where wallet value is spent: points as a tender, stored value or a gift card at a store. */
const REDEEMING = new Set(['points_redeemed', 'stored_value_settlement', 'gift_card_settlement'])
/**
 * A gift card's wallet and its counter accounts (docs/gift-cards.md): rolled forward apart from the
 * members' wallets, as `giftCards`. Its counter accounts are its own, so an entry that moves both
 * (a sale paid with stored value and a gift card) splits cleanly between the two.
 */
const GIFT_CARD_TYPES = new Set(['gift_card', 'gift_card_clearing', 'gift_card_settlement'])
export const isGiftCardType = (type: string) => GIFT_CARD_TYPES.has(type)
const BREAKAGE = new Set(['points_breakage'])
const ADJUSTING = new Set(['points_adjustments', 'stored_value_adjustments'])
/** Balances members brought from another system (a member import): the liability the program took over, apart from its own activity. */
const OPENING = new Set(['opening_balance'])

export const isWalletType = (type: string) => WALLET_TYPES.has(type)

/**
 * The column a non-wallet posting belongs to. `amount` is the posting's signed amount (credit
 * positive): a debit of an issuing account credited a wallet (issued), a credit to it took value
 * back from a wallet (clawed back by a return, or a top-up paid back). Reversal entries get a column
 * of their own so issued/redeemed stay what the business did and a correction stays visible.
 */
export function classifyCounterPosting(accountType: string, amount: bigint, inReversal: boolean): Movement {
  if (inReversal) return 'reversed'
  if (OPENING.has(accountType)) return 'imported'
  if (ISSUING.has(accountType)) return amount < 0n ? 'issued' : 'clawedBack'
  if (REDEEMING.has(accountType)) return amount > 0n ? 'redeemed' : 'refunded'
  if (BREAKAGE.has(accountType)) return 'expired'
  if (ADJUSTING.has(accountType)) return 'adjusted'
  return 'other'
}

/** Columns shown as positive amounts that lower the liability; the others are shown as they raise it. */
const DECREASING: ReadonlySet<Movement> = new Set(['clawedBack', 'redeemed', 'expired'])

export type Movements = Record<Movement, bigint>

export interface RollForward extends Movements {
  opening: bigint
  closing: bigint
}

const emptyRollForward = (): RollForward => ({ opening: 0n, closing: 0n, ...(Object.fromEntries(MOVEMENTS.map((m) => [m, 0n])) as Movements) })

/** opening + the movements with their signs: equals closing when the report closes. */
export function rolledForward(r: RollForward): bigint {
  return MOVEMENTS.reduce((sum, m) => (DECREASING.has(m) ? sum - r[m] : sum + r[m]), r.opening)
}

export interface LiabilityGroup {
  asset: string
  accountType: string
  storeId: string | null
  inReversal: boolean
  /** Signed sums (credit positive) of the group's postings effective before `from`, and within the period. */
  before: bigint
  during: bigint
}

export interface AssetLiability extends RollForward {
  asset: string
  byStore: (RollForward & { storeId: string | null })[]
}

/**
 * Folds the grouped postings into one roll-forward per asset and per store of each asset. A store's
 * share is the net of the movements recorded at it (the store of the counter account, else of the
 * entry); movements with no store (adjustments, expiry) form the `storeId: null` row. The store rows
 * of an asset add up to the asset's row.
 */
export function buildLiability(groups: LiabilityGroup[], assets: string[]): AssetLiability[] {
  const byAsset = new Map<string, AssetLiability>()
  const stores = new Map<string, Map<string | null, RollForward & { storeId: string | null }>>()
  const assetRow = (asset: string) => {
    let row = byAsset.get(asset)
    if (!row) {
      row = { asset, ...emptyRollForward(), byStore: [] }
      byAsset.set(asset, row)
      stores.set(asset, new Map())
    }
    return row
  }
  for (const asset of assets) assetRow(asset)

  for (const g of groups) {
    const row = assetRow(g.asset)
    if (isWalletType(g.accountType)) {
      row.opening += g.before
      row.closing += g.before + g.during
      continue
    }
    const storeRows = stores.get(g.asset)!
    let store = storeRows.get(g.storeId)
    if (!store) {
      store = { storeId: g.storeId, ...emptyRollForward() }
      storeRows.set(g.storeId, store)
    }
    // What the wallets gained is what the counter accounts lost.
    store.opening -= g.before
    const effect = -g.during
    if (effect === 0n) continue
    const movement = classifyCounterPosting(g.accountType, g.during, g.inReversal)
    const shown = DECREASING.has(movement) ? -effect : effect
    row[movement] += shown
    store[movement] += shown
  }

  for (const [asset, row] of byAsset) {
    row.byStore = [...stores.get(asset)!.values()]
      .map((s) => ({ ...s, closing: rolledForward(s) }))
      .sort((a, b) => (a.storeId === b.storeId ? 0 : a.storeId === null ? 1 : b.storeId === null ? -1 : a.storeId < b.storeId ? -1 : 1))
  }
  return [...byAsset.values()].sort((a, b) => (a.asset === POINTS ? -1 : b.asset === POINTS ? 1 : a.asset < b.asset ? -1 : 1))
}

/**
 * The postings up to the end of the period, grouped small enough to classify in TypeScript: by asset,
 * account type, store, whether the entry is a reversal and the posting's direction (so gross issued
 * and clawed back stay apart). One scan, in SQL; the result has a few dozen rows.
 */
export async function liabilityGroups(tx: Executor, programId: string, period: Period): Promise<LiabilityGroup[]> {
  // For the rest of the (read-only report) transaction. The aggregate has a few dozen groups, but
  // the planner, estimating thousands, sorted a million joined rows through disk under the default
  // 4 MB (2.6 s at 1M postings); with room for a hash aggregate and the entries' hash it took
  // 0.9-1.2 s. Memory is used only as needed (~1.5 MB of groups; the entries' hash ~45 MB at
  // 500,000 entries, shared by the parallel workers).
  await tx.execute(sql`select set_config('work_mem', '64MB', true)`)
  const rows = await queryRows<Record<string, string | boolean | null>>(
    tx,
    sql`select p.asset, a.type, coalesce(a.store_id, e.store_id) as store_id, (e.reverses_entry_id is not null) as in_reversal,
               coalesce(sum(p.amount) filter (where e.effective_at < ${period.from.toISOString()}::timestamptz), 0)::text as before,
               coalesce(sum(p.amount) filter (where e.effective_at >= ${period.from.toISOString()}::timestamptz), 0)::text as during
          from postings p
          join journal_entries e on e.program_id = p.program_id and e.id = p.entry_id
          join ledger_accounts a on a.program_id = p.program_id and a.id = p.account_id
         where p.program_id = ${programId} and e.effective_at < ${period.to.toISOString()}::timestamptz
         group by p.asset, a.type, coalesce(a.store_id, e.store_id), (e.reverses_entry_id is not null), (p.amount > 0)`,
  )
  return rows.map((r) => ({
    asset: r.asset as string,
    accountType: r.type as string,
    storeId: (r.store_id as string | null) ?? null,
    inReversal: r.in_reversal === true || r.in_reversal === 't',
    before: BigInt(r.before as string),
    during: BigInt(r.during as string),
  }))
}
