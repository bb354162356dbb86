// Gift cards through the executor: each command decides pure (plan.ts) and applies one plan
// (src/db/apply.ts). Issuing writes the cards and, with an initial value, their load entry; a
// load locks the card row (404 when the program has no such card) and posts the entry; a PIN
// check writes the card's count at the version its load saw; an attachment sets the member once.
import type { Database } from '../../db/client.js'
import { appliedFresh, filled, PlanError, type PlanData, type RowStep } from '../../db/apply.js'
import { pgErrorOf } from '../../shared/errors.js'
import { newId } from '../../shared/ids.js'
import { hashSecret, verifySecret } from '../../shared/secrets.js'
import { entryStep } from '../ledger/entry-step.js'
import { rememberAccounts } from '../ledger/repository.js'
import type { ProgramRow } from '../programs/tables.js'
import { newGiftCardCode, readGiftCardCode } from './codes.js'
import { giftCardErrors } from './errors.js'
import { pinGate } from './pin-policy.js'
import {
  attachStep,
  balanceFill,
  blockStep,
  exponentOf,
  giftCardView,
  insertCards,
  issuedView,
  loadEntry,
  newCardRow,
  pinCheckStep,
  readLoadAmount,
} from './plan.js'
import { cardByCode, cardById, type CardWithBalance } from './reads.js'
import type { GiftCardBatchCreate, GiftCardCreate, GiftCardLoadCreate } from './schemas.js'
import { formatMinorUnits } from '../../shared/money.js'

export interface GiftCardCall {
  idempotency: { key: string; hash: string }
  actor: string
}

const CODE_TAKEN = 'gift_cards_program_code_key'

/** Applies a plan; the refusals of a member named (attach at issue) and of a card missing mapped. */
async function applied(database: Database, data: PlanData) {
  try {
    return await database.apply(data)
  } catch (err) {
    const code = err instanceof PlanError ? pgErrorOf(err).code : undefined
    if (code === 'LL201') throw giftCardErrors.memberNotFound()
    if (code === 'LL202') throw giftCardErrors.memberErased()
    if (code === 'LL404') throw giftCardErrors.notFound()
    throw err
  }
}

/** Runs `issue` with fresh codes again when one was taken meanwhile (80 random bits: never seen, but cheap to cover). */
async function withFreshCodes<T>(issue: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await issue()
    } catch (err) {
      if (!(err instanceof PlanError && pgErrorOf(err).constraint === CODE_TAKEN) || attempt >= 3) throw err
    }
  }
}

/** One card, its code shown in the answer; with an initial value, loaded at once; with a member, attached at once. */
export async function issueGiftCard(database: Database, program: ProgramRow, input: GiftCardCreate, call: GiftCardCall): Promise<{ status: number; body: unknown }> {
  const amount = input.initialValue === undefined ? undefined : readLoadAmount(program, input.initialValue, 'body/initialValue')
  const pinHash = input.pin === undefined ? null : await hashSecret(input.pin)
  return withFreshCodes(async () => {
    const now = new Date()
    const code = newGiftCardCode()
    const row = newCardRow(program, { id: newId(), code, pinHash }, { now, actor: call.actor, memberId: input.memberId })
    const entry = amount === undefined ? undefined : entryStep(program.id, loadEntry(program, [row.id], amount, { tender: input.tender!, storeId: input.storeId! }, { entryId: newId(), now, memberId: input.memberId }), call.actor)
    const answer = issuedView(row, code, 0n)
    const fills = entry ? [balanceFill(program, ['balance'])] : []
    const result = await applied(database, {
      program: program.id,
      ...(input.memberId ? { member: { id: input.memberId, refuseErased: true } } : {}),
      entries: entry ? [entry.step] : [],
      rows: [insertCards([row])],
      idempotency: { ...call.idempotency, status: 201, body: answer, fills },
    })
    if (entry) rememberAccounts(program.id, entry.accountIds)
    return { status: 201, body: filled(answer, fills, result.facts) }
  })
}

/** `count` cards, with the same initial value each (one entry for all), their codes listed once. */
export async function issueGiftCardBatch(database: Database, program: ProgramRow, input: GiftCardBatchCreate, call: GiftCardCall): Promise<{ status: number; body: unknown }> {
  const amount = input.initialValue === undefined ? undefined : readLoadAmount(program, input.initialValue, 'body/initialValue')
  return withFreshCodes(async () => {
    const now = new Date()
    const batchId = newId()
    const cards = Array.from({ length: input.count }, () => ({ id: newId(), code: newGiftCardCode(), pinHash: null }))
    const rows = cards.map((c) => newCardRow(program, c, { now, actor: call.actor, batchId }))
    const entryId = newId()
    const entry = amount === undefined ? undefined : entryStep(program.id, loadEntry(program, rows.map((r) => r.id), amount, { tender: input.tender!, storeId: input.storeId! }, { entryId, now }), call.actor)
    const answer = {
      batchId,
      count: input.count,
      initialValue: formatMinorUnits(amount ?? 0n, exponentOf(program)),
      entryId: entry ? entryId : null,
      cards: cards.map((c) => ({ id: c.id, code: c.code })),
      createdAt: now.toISOString(),
    }
    await applied(database, { program: program.id, entries: entry ? [entry.step] : [], rows: [insertCards(rows)], idempotency: { ...call.idempotency, status: 201, body: answer } })
    if (entry) rememberAccounts(program.id, entry.accountIds)
    return { status: 201, body: answer }
  })
}

/**
 * Loads (reloads) a card at a till: gift card clearing of the store -> the card's wallet. A blocked
 * card is refused; the card row is locked at the version read, so a block that lands meanwhile
 * makes the plan stale and the load is decided again (and refused).
 */
export function loadGiftCard(database: Database, program: ProgramRow, giftCardId: string, input: GiftCardLoadCreate, call: GiftCardCall): Promise<{ status: number; body: unknown }> {
  const amount = readLoadAmount(program, input.amount, 'body/amount')
  return appliedFresh(async () => {
    const card = await cardById(database.db, program.id, giftCardId)
    if (!card) throw giftCardErrors.notFound()
    if (card.blockedAt !== null) throw giftCardErrors.blocked()
    const now = new Date()
    const entryId = newId()
    const entry = entryStep(program.id, loadEntry(program, [giftCardId], amount, input, { entryId, now }), call.actor)
    const answer = {
      id: entryId,
      giftCardId,
      amount: formatMinorUnits(amount, exponentOf(program)),
      tender: input.tender,
      storeId: input.storeId,
      reference: input.reference ?? null,
      balance: '0',
      createdAt: now.toISOString(),
    }
    const fills = [balanceFill(program, ['balance'])]
    const result = await applied(database, {
      program: program.id,
      // Its row is locked before its wallet, as a sale paying with it locks them, at the version read.
      locks: [{ table: 'gift_cards', key: { id: giftCardId }, version: card.version }],
      entries: [entry.step],
      idempotency: { ...call.idempotency, status: 201, body: answer, fills },
    })
    rememberAccounts(program.id, entry.accountIds)
    return { status: 201, body: filled(answer, fills, result.facts) }
  })
}

/** A code as sent, normalized, or 404 when it cannot be a code (nothing is read). */
export function codeOf(text: string): string {
  const code = readGiftCardCode(text)
  if (code === undefined) throw giftCardErrors.notFound()
  return code
}

/**
 * The card of a code whose PIN (when it has one) is right, and the write that records the right
 * PIN (to go in the caller's plan; undefined for a card without PIN). A wrong PIN is written here,
 * at once, and refused: 422 with the attempts left, or 423 when it locked the card. 404 for no
 * such card, 409 when it is blocked, 422 for a PIN missing, 423 while locked. Throws LL300 (stale) when a concurrent
 * check wrote first: the caller runs it again (appliedFresh).
 */
export async function cardWithPin(database: Database, program: Pick<ProgramRow, 'id'>, codeText: string, pin: string | undefined, now: Date): Promise<{ card: CardWithBalance; pinStep: RowStep | undefined }> {
  const card = await cardByCode(database.db, program.id, codeOf(codeText))
  if (!card) throw giftCardErrors.notFound()
  // Before the PIN: a blocked card is no oracle for PIN guesses either.
  if (card.blockedAt !== null) throw giftCardErrors.blocked()
  if (card.pinHash === null) return { card, pinStep: undefined }
  if (pin === undefined) throw giftCardErrors.pinRequired()
  const gate = pinGate(card, now)
  if (!gate.open) throw giftCardErrors.locked(gate.retryAfterSeconds)
  const right = await verifySecret(pin, card.pinHash)
  const check = pinCheckStep(card, right, now)
  if (right) return { card, pinStep: check.step }
  await database.apply({ program: program.id, rows: [check.step] })
  if (check.lockedUntil) throw giftCardErrors.locked(Math.ceil((check.lockedUntil.getTime() - now.getTime()) / 1000))
  throw giftCardErrors.pinIncorrect(check.attemptsLeft)
}

/** The balance check by code (and PIN): the card as the API shows it. */
export function checkGiftCardBalance(database: Database, program: Pick<ProgramRow, 'id'>, input: { code: string; pin?: string }) {
  return appliedFresh(async () => {
    const { card, pinStep } = await cardWithPin(database, program, input.code, input.pin, new Date())
    if (pinStep) await database.apply({ program: program.id, rows: [pinStep] })
    return giftCardView(card, card.balance)
  })
}

export async function getGiftCard(database: Database, program: Pick<ProgramRow, 'id'>, id: string) {
  const card = await cardById(database.db, program.id, id)
  if (!card) throw giftCardErrors.notFound()
  return giftCardView(card, card.balance)
}

/** Attaches a card to a member once (the same member again: answered as it is); the card keeps its own wallet. */
export function attachGiftCard(database: Database, program: Pick<ProgramRow, 'id'>, id: string, memberId: string, call: GiftCardCall): Promise<{ status: number; body: unknown }> {
  return appliedFresh(async () => {
    const card = await cardById(database.db, program.id, id)
    if (!card) throw giftCardErrors.notFound()
    if (card.memberId !== null && card.memberId !== memberId) throw giftCardErrors.alreadyAttached(card.memberId)
    const now = new Date()
    const after = card.memberId === null ? { ...card, memberId, attachedAt: now } : card
    const answer = giftCardView(after, card.balance)
    await applied(database, {
      program: program.id,
      member: { id: memberId, refuseErased: true },
      rows: card.memberId === null ? [attachStep(id, memberId, now)] : [],
      idempotency: { ...call.idempotency, status: 200, body: answer },
    })
    return { status: 200, body: answer }
  })
}

/**
 * Blocks a card (`reason` given) or unblocks it (null): the card as it is after. Already as asked:
 * answered as it is, nothing written. A sale or load that read the card before the block is
 * stale when it applies (they lock the card row at the version read) and is refused on its retry.
 */
export function setGiftCardBlock(database: Database, program: Pick<ProgramRow, 'id'>, id: string, block: { reason: string } | null, call: GiftCardCall): Promise<{ status: number; body: unknown }> {
  return appliedFresh(async () => {
    const card = await cardById(database.db, program.id, id)
    if (!card) throw giftCardErrors.notFound()
    const now = new Date()
    const step = blockStep(card, block && { reason: block.reason, actor: call.actor, now })
    const after = step ? { ...card, blockedAt: block ? now : null, blockedReason: block?.reason ?? null, blockedBy: block ? call.actor : null } : card
    const answer = giftCardView(after, card.balance)
    await database.apply({ program: program.id, rows: step ? [step] : [], idempotency: { ...call.idempotency, status: 200, body: answer } })
    return { status: 200, body: answer }
  })
}
