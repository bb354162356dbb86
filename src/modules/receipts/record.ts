import { randomBytes } from 'node:crypto'
import type { SQL } from 'drizzle-orm'
import type { SqlRunner } from '../../db/pipeline.js'
import { onCommit, runStatement, toStatement, type Statement, type WriteTarget } from '../../db/statements.js'
import { newId } from '../../shared/ids.js'
import { pad2, zonedParts } from '../../shared/zoned-time.js'
import { readRules } from '../programs/rules.js'
import { crossedBelow, lowStoredValueThreshold, storedValueLowPayload, unusualPayload, type UnusualAssessment } from '../events/care.js'
import { planEvent, type PlannedEvent } from '../events/emit.js'
import type { NotificationRules } from '../programs/notification-rules.js'
import { nudgeDispatchers } from '../events/signal.js'
import { moneyText } from './format.js'
import {
  buildSaleReceipt,
  buildTopUpReceipt,
  type ReceiptExtras,
  type ReceiptIdentity,
  type ReceiptMember,
  type SaleRecord,
  type TopUpRecord,
  type WalletsAfter,
} from './builders.js'
import type { ReceiptDocument } from './schemas.js'
import { receiptStatementSql, type ReceiptRowInput, type RecordProgram, type UnusualCheck } from './statement.js'

export type { RecordProgram } from './statement.js'

export interface RecordContext extends ReceiptExtras {
  /** The member: id and E.164 phone (masked on the receipt). */
  member: ReceiptMember
  /** Balances after the transaction, e.g. the ledger's memberBalances() read in the same transaction. */
  balances: WalletsAfter
  /** The clock (tests inject one); default now. */
  now?: Date
  /** The program's notification rules, when the caller has parsed them already. */
  notifications?: NotificationRules
}

export interface RecordedReceipt {
  id: string
  number: string
  /** The unguessable token of the public link `/r/{token}`. */
  token: string
  document: ReceiptDocument
  /** The events written with it (ids and types). */
  events: { id: string; type: string }[]
}

const CROCKFORD = '0123456789ABCDEFGHJKMNPQRSTVWXYZ'

/** "260501-7K3F9-QX2M7": the local date, then 50 random bits; unique in the program (checked by an index). */
export function newReceiptNumber(issuedAt: Date, timeZone: string, random: Buffer = randomBytes(7)): string {
  const p = zonedParts(issuedAt, timeZone)
  // 50 bits as 10 Crockford base-32 digits: 5 bits at a time from the first 7 bytes.
  let code = ''
  for (let i = 0; i < 10; i++) {
    const bit = i * 5
    const pair = (random[bit >> 3]! << 8) | (random[(bit >> 3) + 1] ?? 0)
    code += CROCKFORD[(pair >> (11 - (bit & 7))) & 31]
  }
  return `${String(p.year).slice(2)}${pad2(p.month)}${pad2(p.day)}-${code.slice(0, 5)}-${code.slice(5)}`
}

/** 96 random bits, base64url: 16 characters, short enough for an SMS, far beyond guessing. */
export const newPublicToken = (random: Buffer = randomBytes(12)) => random.toString('base64url')

export function newReceiptIdentity(program: { timezone: string }, issuedAt: Date): ReceiptIdentity & { token: string } {
  const random = randomBytes(19)
  return { id: newId(), number: newReceiptNumber(issuedAt, program.timezone, random.subarray(0, 7)), issuedAt, token: newPublicToken(random.subarray(7)) }
}

/** A receipt ready to be written: its document and events, and the one statement that writes them. */
export interface PreparedReceipt {
  id: string
  number: string
  /** The unguessable token of the public link `/r/{token}`. */
  token: string
  document: ReceiptDocument
  /**
   * Events planned with it, written if an endpoint of the program wants them; purchase.unusual
   * only if the in-statement check finds it so (see `unusualEventId`).
   */
  events: { id: string; type: string }[]
  /** The id purchase.unusual gets when the check inside the statement finds the purchase unusual. */
  unusualEventId: string | null
  query: SQL
}

function prepare(row: ReceiptRowInput, events: PlannedEvent[], unusual?: UnusualCheck): PreparedReceipt {
  return {
    id: row.ident.id,
    number: row.ident.number,
    token: row.ident.token,
    document: row.document,
    events: events.map((e) => ({ id: e.id, type: e.type })),
    unusualEventId: unusual?.eventId ?? null,
    query: receiptStatementSql(row, events, unusual),
  }
}

/** The statement as text and parameters, for a caller that sends it itself (e.g. pipelined with others). */
export const statementOf = (prepared: PreparedReceipt): Statement => toStatement(prepared.query)

/**
 * Sends the statement at once (before any await, so a pipelining runner sends it with the
 * statements around it) and resolves when it is written.
 */
export async function writeReceipt(target: WriteTarget, prepared: PreparedReceipt): Promise<RecordedReceipt> {
  const sent = runStatement<{ receipt_id: string; written: string; unusual: number }>(target, prepared.query)
  onCommit(target, nudgeDispatchers)
  const [result] = await sent
  const written = new Set(result?.written ? result.written.split(',') : [])
  const events = prepared.events.filter((e) => written.has(e.id))
  if (prepared.unusualEventId && Number(result?.unusual ?? 0) > 0) events.push({ id: prepared.unusualEventId, type: 'purchase.unusual' })
  return { id: prepared.id, number: prepared.number, token: prepared.token, document: prepared.document, events }
}

/**
 * Pipelining without waiting: sends the statement and returns at once. A statement runner
 * (src/db/pipeline.ts) reports a failed statement at COMMIT, which then rolls back, so nothing
 * is lost by not awaiting it here. Only for runners: a drizzle transaction must await writeReceipt.
 */
export function sendReceipt(runner: SqlRunner, prepared: PreparedReceipt): void {
  runStatement(runner, prepared.query).catch(() => {})
  onCommit(runner, nudgeDispatchers)
}

/** Parsed notification rules per rules object: programs are cached by the auth plugin, so this parses once per rules change. */
const parsedRules = new WeakMap<object, NotificationRules>()
function notificationsOf(program: RecordProgram, ctx: RecordContext): NotificationRules {
  if (ctx.notifications) return ctx.notifications
  const key = program.rules
  if (!key || typeof key !== 'object') return readRules(key).notifications
  let rules = parsedRules.get(key)
  if (!rules) parsedRules.set(key, (rules = readRules(key).notifications))
  return rules
}

const event = (program: RecordProgram, now: Date, type: PlannedEvent['type'], memberId: string, payload: Record<string, unknown>) =>
  planEvent({ id: program.id, timezone: program.timezone, rules: program.rules }, { type, memberId, payload }, now)

export interface PurchaseRecordOptions {
  /**
   * The unusual-purchase assessment when the caller made one before posting (a program that
   * holds unusual purchases needs it first); absent, the check runs inside the receipt statement
   * when the program's rule is on.
   */
  unusual?: UnusualAssessment
  /** The purchase was held because it is unusual. */
  heldAsUnusual?: boolean
}

/**
 * A purchase's receipt (completed, or pending with capture: false), in the purchase's
 * transaction, with its events: purchase.completed (completed only), storedValue.low when the
 * stored value it used (or held) took the available balance across the program's threshold,
 * purchase.unusual when it is unusual. `purchase` is the purchases row as inserted.
 */
export function preparePurchaseReceipt(program: RecordProgram, purchase: SaleRecord & { memberId: string }, ctx: RecordContext & PurchaseRecordOptions): PreparedReceipt {
  const now = ctx.now ?? new Date()
  const ident = newReceiptIdentity(program, now)
  const document = buildSaleReceipt('purchase', ident, program, ctx.member, purchase, ctx.balances, ctx)
  const rules = notificationsOf(program, ctx)
  const events: PlannedEvent[] = []
  if (purchase.status === 'completed') {
    events.push(event(program, now, 'purchase.completed', purchase.memberId, purchaseCompletedPayload(program, purchase, ident.id)))
  }
  const threshold = lowStoredValueThreshold(program, rules)
  const after = ctx.balances.storedValue.available
  if (purchase.storedValueUsed > 0n && crossedBelow(threshold, after + purchase.storedValueUsed, after)) {
    events.push(event(program, now, 'storedValue.low', purchase.memberId, storedValueLowPayload(program, purchase.memberId, after, threshold!, ident.id)))
  }
  let check: UnusualCheck | undefined
  if (ctx.unusual) {
    if (ctx.unusual.unusual) {
      const payload = unusualPayload(program, { memberId: purchase.memberId, purchaseId: purchase.id, total: purchase.total, receiptId: ident.id, held: ctx.heldAsUnusual ?? false }, ctx.unusual)
      events.push(event(program, now, 'purchase.unusual', purchase.memberId, payload))
    }
  } else if (rules.unusualPurchase.above !== null || rules.unusualPurchase.timesAverage !== null) {
    check = { eventId: newId(), memberId: purchase.memberId, purchaseId: purchase.id, total: purchase.total, held: ctx.heldAsUnusual ?? false, settings: rules.unusualPurchase }
  }
  return prepare(
    { program, kind: 'purchase', sourceId: purchase.id, memberId: purchase.memberId, purchaseId: purchase.id, entryId: purchase.entryId, ident, document },
    events,
    check,
  )
}

function purchaseCompletedPayload(program: RecordProgram, purchase: SaleRecord & { memberId: string }, receiptId: string) {
  return { memberId: purchase.memberId, purchaseId: purchase.id, receiptId, storeId: purchase.storeId, currency: program.currency, total: moneyOf(purchase.total, program.currency) }
}

const moneyOf = (minor: bigint, currency: string) => moneyText(minor, currency)

/** The receipt of a capture (the purchase row after it), with purchase.completed. */
export function prepareCaptureReceipt(program: RecordProgram, purchase: SaleRecord & { memberId: string }, ctx: RecordContext): PreparedReceipt {
  const now = ctx.now ?? new Date()
  const ident = newReceiptIdentity(program, now)
  const document = buildSaleReceipt('capture', ident, program, ctx.member, purchase, ctx.balances, ctx)
  const events = [event(program, now, 'purchase.completed', purchase.memberId, purchaseCompletedPayload(program, purchase, ident.id))]
  return prepare({ program, kind: 'capture', sourceId: purchase.id, memberId: purchase.memberId, purchaseId: purchase.id, entryId: purchase.entryId, ident, document }, events)
}

/** The receipt of a void (by the POS or by hold expiry): what was released. No event. */
export function prepareVoidReceipt(program: RecordProgram, purchase: SaleRecord & { memberId: string }, ctx: RecordContext): PreparedReceipt {
  const now = ctx.now ?? new Date()
  const ident = newReceiptIdentity(program, now)
  const document = buildSaleReceipt('void', ident, program, ctx.member, purchase, ctx.balances, ctx)
  return prepare({ program, kind: 'void', sourceId: purchase.id, memberId: purchase.memberId, purchaseId: purchase.id, entryId: null, ident, document }, [])
}

/** A top-up's receipt with storedValue.toppedUp. */
export function prepareTopUpReceipt(program: RecordProgram, topUp: TopUpRecord, ctx: RecordContext): PreparedReceipt {
  const now = ctx.now ?? new Date()
  const ident = newReceiptIdentity(program, now)
  const document = buildTopUpReceipt(ident, program, ctx.member, topUp, ctx.balances)
  const payload = {
    memberId: ctx.member.id,
    receiptId: ident.id,
    entryId: topUp.entryId,
    currency: program.currency,
    amount: moneyOf(topUp.amount, program.currency),
    balance: document.storedValue.balanceAfter,
  }
  const events = [event(program, now, 'storedValue.toppedUp', ctx.member.id, payload)]
  return prepare({ program, kind: 'top_up', sourceId: topUp.entryId, memberId: ctx.member.id, purchaseId: null, entryId: topUp.entryId, ident, document }, events)
}

// The same, written at once in the caller's transaction (drizzle tx or statement runner).

type Sale = SaleRecord & { memberId: string }

export const recordPurchaseReceipt = (target: WriteTarget, program: RecordProgram, purchase: Sale, ctx: RecordContext & PurchaseRecordOptions) =>
  writeReceipt(target, preparePurchaseReceipt(program, purchase, ctx))

export const recordCaptureReceipt = (target: WriteTarget, program: RecordProgram, purchase: Sale, ctx: RecordContext) =>
  writeReceipt(target, prepareCaptureReceipt(program, purchase, ctx))

export const recordVoidReceipt = (target: WriteTarget, program: RecordProgram, purchase: Sale, ctx: RecordContext) =>
  writeReceipt(target, prepareVoidReceipt(program, purchase, ctx))

export const recordTopUpReceipt = (target: WriteTarget, program: RecordProgram, topUp: TopUpRecord, ctx: RecordContext) =>
  writeReceipt(target, prepareTopUpReceipt(program, topUp, ctx))
