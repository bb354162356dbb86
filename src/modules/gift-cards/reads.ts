// Reads of gift cards with their balances. A card's wallet is found by its unique code in the
// ledger (ledger_accounts_program_code_key: `gift_card:<id>:<currency>`, accounts.ts accountCode),
// left-joined: a card never loaded has no account yet and holds 0.
import { and, asc, eq, sql, type SQL } from 'drizzle-orm'
import type { Executor } from '../../db/client.js'
import { rowVersion } from '../../db/core.js'
import { ledgerAccounts } from '../ledger/tables.js'
import { codeHash } from './codes.js'
import { giftCards, type GiftCardRow } from './tables.js'

/** A card with its row's version, its wallet's available balance and the wallet row's version (null: never loaded, no wallet yet). */
export type CardWithBalance = GiftCardRow & { version: string; balance: bigint; walletVersion: string | null }

async function cardsWhere(ex: Executor, where: SQL | undefined): Promise<CardWithBalance[]> {
  const rows = await ex
    .select({
      card: giftCards,
      version: rowVersion(giftCards),
      balance: sql<string>`coalesce(${ledgerAccounts.creditsPosted} - ${ledgerAccounts.debitsPosted} - ${ledgerAccounts.debitsPending}, 0)::text`,
      walletVersion: rowVersion(ledgerAccounts),
    })
    .from(giftCards)
    .leftJoin(
      ledgerAccounts,
      and(eq(ledgerAccounts.programId, giftCards.programId), eq(ledgerAccounts.code, sql`'gift_card:' || ${giftCards.id}::text || ':' || ${giftCards.currency}`)),
    )
    .where(where)
    .orderBy(asc(giftCards.id))
  return rows.map((r) => ({ ...r.card, version: r.version, balance: BigInt(r.balance), walletVersion: r.walletVersion ?? null }))
}

/** The card of a normalized code (codes.ts readGiftCardCode). */
export async function cardByCode(ex: Executor, programId: string, code: string): Promise<CardWithBalance | undefined> {
  return (await cardsWhere(ex, and(eq(giftCards.programId, programId), eq(giftCards.codeHash, codeHash(code)))))[0]
}

export async function cardById(ex: Executor, programId: string, id: string): Promise<CardWithBalance | undefined> {
  return (await cardsWhere(ex, and(eq(giftCards.programId, programId), eq(giftCards.id, id))))[0]
}

/** The cards attached to a member, oldest first. */
export function memberCards(ex: Executor, programId: string, memberId: string): Promise<CardWithBalance[]> {
  return cardsWhere(ex, and(eq(giftCards.programId, programId), eq(giftCards.memberId, memberId)))
}
