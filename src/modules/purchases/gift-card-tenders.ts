// The gift cards a sale's giftCard tenders name: each read by its code (and its PIN checked:
// gift-cards/service.ts cardWithPin), then, pure, each tender bound to its card and refused when it
// asks more than the card holds. The plan locks each card's row and its wallet at the version the
// load read (in card-id order, before the member's wallets): a sale that spent the card meanwhile
// makes this plan stale, and it is loaded and decided again, so of two sales racing for a card's
// last balance one posts and the other is refused with the balance it would leave. A sale without
// gift card tenders reads and locks nothing more.
import type { Database } from '../../db/client.js'
import type { LockStep, RowStep } from '../../db/apply.js'
import { validationFailed } from '../../shared/errors.js'
import { formatMinorUnits } from '../../shared/money.js'
import { accountId, giftCardWallet } from '../ledger/accounts.js'
import { codeOf, cardWithPin } from '../gift-cards/service.js'
import { giftCardErrors } from '../gift-cards/errors.js'
import type { CardWithBalance } from '../gift-cards/reads.js'
import type { ProgramRow } from '../programs/tables.js'
import { exponentOf, type Sale } from './plan.js'

export interface GiftCardTenders {
  /** The sale with each giftCard tender bound to its card. */
  sale: Sale
  locks: LockStep[]
  /** The right PINs' writes (the count cleared, at the version read). */
  rows: RowStep[]
}

/** Pure: each giftCard tender bound to its card (`cards[i]` is the card of `sale.giftCards[i]`), the locks, or the refusal. */
export function bindGiftCards(program: Pick<ProgramRow, 'id' | 'currency'>, sale: Sale, cards: Pick<CardWithBalance, 'id' | 'version' | 'codeLast4' | 'balance' | 'walletVersion'>[]): Omit<GiftCardTenders, 'rows'> {
  const ids = new Set(cards.map((c) => c.id))
  if (ids.size !== cards.length) throw validationFailed('tenders: a gift card appears twice; give it once with the whole amount', [{ path: 'body/tenders', message: 'gift card repeated' }])
  const tenders = sale.tenders.map((t, i) => {
    const at = sale.giftCards.findIndex((g) => g.tender === i)
    if (at < 0) return t
    const card = cards[at]!
    if (t.amount! > card.balance) {
      const exp = exponentOf(program)
      throw giftCardErrors.insufficientBalance(card.codeLast4, formatMinorUnits(card.balance, exp), formatMinorUnits(t.amount!, exp))
    }
    return { ...t, giftCardId: card.id, codeLast4: card.codeLast4 }
  })
  const locks = [...cards]
    .sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
    .flatMap((c): LockStep[] => [
      // The card at the version read: blocked (or its PIN count written) meanwhile, the plan is stale and decided again.
      { table: 'gift_cards', key: { id: c.id }, version: c.version },
      // A card asked for a positive amount holds a positive balance: its wallet exists.
      { table: 'ledger_accounts', key: { id: accountId(program.id, giftCardWallet(c.id, program.currency)) }, version: c.walletVersion ?? undefined, missing: { code: 'LL300', message: 'stale:ledger_accounts' } },
    ])
  return { sale: { ...sale, tenders }, locks }
}

/** Reads the sale's gift cards by code and checks their PINs (a wrong one is counted and refused), then binds them. */
export async function giftCardTenders(database: Database, program: Pick<ProgramRow, 'id' | 'currency'>, sale: Sale, now: Date): Promise<GiftCardTenders> {
  if (sale.giftCards.length === 0) return { sale, locks: [], rows: [] }
  for (const g of sale.giftCards) codeOf(g.code)
  const found = await Promise.all(sale.giftCards.map((g) => cardWithPin(database, program, g.code, g.pin, now)))
  const bound = bindGiftCards(program, sale, found.map((f) => f.card))
  return { ...bound, rows: found.flatMap((f) => (f.pinStep ? [f.pinStep] : [])) }
}
