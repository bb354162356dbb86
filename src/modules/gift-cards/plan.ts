// The decisions of issuing, loading and attaching gift cards, pure: the card rows, the load entry
// (gift card clearing of the store -> each card's wallet), the PIN check's write, and the answers.
// service.ts hashes PINs, loads cards and applies the plans.
import type { Fill, RowStep } from '../../db/apply.js'
import { rowJson } from '../../db/row-json.js'
import { validationFailed } from '../../shared/errors.js'
import { currencyExponent, formatMinorUnits, moneyParser } from '../../shared/money.js'
import { giftCardClearing, giftCardWallet } from '../ledger/accounts.js'
import type { EntryPlan, Leg } from '../ledger/planner.js'
import type { ProgramRow } from '../programs/tables.js'
import { codeHash, codeLast4 } from './codes.js'
import { afterPinCheck, type PinState } from './pin-policy.js'
import type { GiftCardView, IssuedGiftCard } from './schemas.js'
import { giftCards, type GiftCardRow } from './tables.js'

type Program = Pick<ProgramRow, 'id' | 'currency'>

/** Most one load (or initial value) may put on a card, as for a top-up: far below bigint limits. */
export const MAX_LOAD_MAJOR_UNITS = 1_000_000_000n

export const exponentOf = (program: Pick<ProgramRow, 'currency'>) => currencyExponent(program.currency) ?? 0

/** An amount in minor units of the program's currency, above zero and at most MAX_LOAD_MAJOR_UNITS (400 otherwise). */
export function readLoadAmount(program: Pick<ProgramRow, 'currency'>, text: string, path: string): bigint {
  const exp = exponentOf(program)
  const money = moneyParser(exp, program.currency)
  const amount = money.parse(text, path)
  money.done()
  if (amount <= 0n || amount > MAX_LOAD_MAJOR_UNITS * 10n ** BigInt(exp)) {
    throw validationFailed(`${path.replace('body/', '')}: must be positive and at most ${MAX_LOAD_MAJOR_UNITS} ${program.currency}`, [{ path, message: 'out of range' }])
  }
  return amount
}

/** A card about to be issued: its code is known here and in the answer only. */
export interface NewCard {
  id: string
  code: string
  pinHash: string | null
}

export interface IssueContext {
  now: Date
  actor: string
  memberId?: string
  batchId?: string
}

export function newCardRow(program: Program, card: NewCard, ctx: IssueContext): GiftCardRow {
  return {
    programId: program.id,
    id: card.id,
    codeHash: codeHash(card.code),
    codeLast4: codeLast4(card.code),
    pinHash: card.pinHash,
    pinFailures: 0,
    pinLockedUntil: null,
    currency: program.currency,
    memberId: ctx.memberId ?? null,
    attachedAt: ctx.memberId ? ctx.now : null,
    batchId: ctx.batchId ?? null,
    createdAt: ctx.now,
    createdBy: ctx.actor,
    blockedAt: null,
    blockedReason: null,
    blockedBy: null,
  }
}

export const insertCards = (rows: GiftCardRow[]): RowStep => ({ op: 'insert', table: 'gift_cards', rows: rows.map((r) => rowJson(giftCards, r)) })

export interface LoadInput {
  tender: string
  storeId: string
  terminalId?: string
  reference?: string
}

/** `amount` onto each card, paid at the store's till: one entry, one posting a card (seq 2.. in card order, the clearing is seq 1). */
export function loadEntry(program: Program, cardIds: string[], amount: bigint, input: LoadInput, ctx: { entryId: string; now: Date; memberId?: string }): EntryPlan {
  const legs: Leg[] = [
    { account: giftCardClearing(input.storeId, program.currency), amount: -amount * BigInt(cardIds.length) },
    ...cardIds.map((id) => ({ account: giftCardWallet(id, program.currency), amount })),
  ]
  return {
    id: ctx.entryId,
    kind: 'gift_card_load',
    effectiveAt: ctx.now,
    memberId: ctx.memberId,
    storeId: input.storeId,
    referenceType: 'gift_card',
    referenceId: cardIds.length === 1 ? cardIds[0] : undefined,
    metadata: { tender: input.tender, terminalId: input.terminalId, reference: input.reference, cards: cardIds.length },
    legs,
  }
}

/** Where an answer shows a loaded card's balance: the posting of the card in the plan's first entry (loadEntry puts the i-th card at seq i + 2). */
export const balanceFill = (program: Pick<ProgramRow, 'currency'>, path: (string | number)[], cardIndex = 0): Fill => ({
  path,
  fact: `entry.0.${cardIndex + 2}`,
  exponent: exponentOf(program),
})

/** A card as the API shows it, with its balance in minor units. */
export function giftCardView(card: GiftCardRow, balance: bigint): GiftCardView {
  return {
    id: card.id,
    codeLast4: card.codeLast4,
    currency: card.currency,
    balance: formatMinorUnits(balance, currencyExponent(card.currency) ?? 0),
    hasPin: card.pinHash !== null,
    memberId: card.memberId,
    attachedAt: card.attachedAt ? card.attachedAt.toISOString() : null,
    batchId: card.batchId,
    createdAt: card.createdAt.toISOString(),
    status: card.blockedAt === null ? 'active' : 'blocked',
    blockedAt: card.blockedAt ? card.blockedAt.toISOString() : null,
    blockReason: card.blockedReason,
  }
}

/**
 * Blocking (with a reason) or unblocking a card: its write at the block state the load saw, so a
 * concurrent block or unblock makes it stale (LL300) and it is loaded and decided again. No write
 * when the card is already as asked (the answer is the card as it is).
 */
export function blockStep(card: Pick<GiftCardRow, 'id' | 'blockedAt'>, block: { reason: string; actor: string; now: Date } | null): RowStep | undefined {
  if ((card.blockedAt !== null) === (block !== null)) return undefined
  return {
    op: 'update',
    table: 'gift_cards',
    key: { id: card.id },
    set: block ? { blocked_at: block.now.toISOString(), blocked_reason: block.reason, blocked_by: block.actor } : { blocked_at: null, blocked_reason: null, blocked_by: null },
    expect: { blocked_at: card.blockedAt?.toISOString() ?? null },
  }
}

export const issuedView = (card: GiftCardRow, code: string, balance: bigint): IssuedGiftCard => ({ ...giftCardView(card, balance), code })

/**
 * The write of a PIN check (right or wrong), at the count the load saw: a concurrent check that
 * wrote first makes this one stale (LL300), and it is loaded and checked again.
 */
export function pinCheckStep(card: Pick<GiftCardRow, 'id'> & PinState, right: boolean, now: Date): { step: RowStep; attemptsLeft: number; lockedUntil: Date | null } {
  const after = afterPinCheck(card, right, now)
  return {
    step: {
      op: 'update',
      table: 'gift_cards',
      key: { id: card.id },
      set: { pin_failures: after.pinFailures, pin_locked_until: after.pinLockedUntil?.toISOString() ?? null },
      expect: { pin_failures: card.pinFailures, pin_locked_until: card.pinLockedUntil?.toISOString() ?? null },
    },
    attemptsLeft: after.attemptsLeft,
    lockedUntil: after.pinLockedUntil,
  }
}

/** The attachment's write: the card's member set, only while it has none (else LL300: loaded again, and refused as attached). */
export function attachStep(cardId: string, memberId: string, now: Date): RowStep {
  return { op: 'update', table: 'gift_cards', key: { id: cardId }, set: { member_id: memberId, attached_at: now.toISOString() }, expect: { member_id: null } }
}
