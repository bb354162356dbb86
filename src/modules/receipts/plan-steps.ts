import type { Fill, PlanData } from '../../db/apply.js'
import { lowStoredValueThreshold, storedValueLowPayload } from '../events/care.js'
import { eventRowOf, planEvent, type PlannedEvent } from '../events/emit.js'
import type { EventPayload } from '../events/payloads.js'
import type { NotificationRules } from '../events/settings.js'
import { newId } from '../../shared/ids.js'
import { parseMinorUnits } from '../../shared/money.js'
import { exponentOf, moneyText } from './format.js'
import { buildReturnReceipt, buildSaleReceipt, buildTopUpReceipt, type ReturnedLineInput, type ReturnRecord, type SaleRecord, type TierInput, type TopUpRecord } from './builders.js'
import type { ReceiptDocument } from './schemas.js'
import { newReceiptIdentity, type RecordProgram } from './record.js'

// A sale's receipt and its events as steps of an applied plan (src/db/apply.ts). The document is
// built here, pure, as preparePurchaseReceipt builds it; what only the database knows once the
// entry is applied (the balances after, the member's masked phone) is filled in by ll_fill.

/** Where a receipt shows what the entry left: the fields the builders fill from WalletsAfter and the member. */
const RECEIPT_FILLS: Fill[] = [
  { path: ['points', 'balanceAfter'], fact: 'points.available' },
  { path: ['storedValue', 'balanceAfter'], fact: 'storedValue.available' },
  { path: ['member', 'phone'], fact: 'member.phone' },
]

/**
 * The fills of a sale's, capture's or void's document: RECEIPT_FILLS, and each tender paid from a
 * wallet shows that wallet's balance after (`tenders.<i>.balanceAfter`, `.pointsBalanceAfter`), as
 * the transaction path's receipt does.
 */
export function saleReceiptFills(document: Pick<ReceiptDocument, 'tenders'>): Fill[] {
  return [
    ...RECEIPT_FILLS,
    ...document.tenders.flatMap((t, i): Fill[] => [
      ...(t.balanceAfter !== undefined ? [{ path: ['tenders', i, 'balanceAfter'], fact: 'storedValue.available' } as Fill] : []),
      ...(t.pointsBalanceAfter !== undefined ? [{ path: ['tenders', i, 'pointsBalanceAfter'], fact: 'points.available' } as Fill] : []),
    ]),
  ]
}

/** Nothing: the fills replace them. */
const UNKNOWN_YET = { points: { available: 0n }, storedValue: { available: 0n } }

const eventRow = (programId: string, e: PlannedEvent) => ({ program_id: programId, ...eventRowOf(e) })

type Identity = ReturnType<typeof newReceiptIdentity>

/** The receipts row as ll_apply inserts it (the document's fills come with it). */
function receiptRow(
  program: RecordProgram,
  ident: Identity,
  r: { kind: string; sourceId: string; memberId: string | null; purchaseId: string | null; entryId: string | null; originalReceiptId?: string | null },
  document: ReceiptDocument,
) {
  return {
    program_id: program.id,
    id: ident.id,
    number: ident.number,
    kind: r.kind,
    source_id: r.sourceId,
    member_id: r.memberId,
    purchase_id: r.purchaseId,
    entry_id: r.entryId,
    original_receipt_id: r.originalReceiptId ?? null,
    public_token: ident.token,
    issued_at: ident.issuedAt.toISOString(),
    document,
  }
}

export interface SaleReceiptSteps {
  receipt: { id: string; number: string; token: string }
  receipts: NonNullable<PlanData['receipts']>
  events: NonNullable<PlanData['events']>
  unusual: PlanData['unusual']
}

/**
 * A completed sale's receipt with purchase.completed and, when the stored value it used takes the
 * available balance across the program's threshold, storedValue.low (decided by the database,
 * which alone knows the balance after), and purchase.unusual when the program's rule finds the
 * total unusual against the member's recent purchases (also decided there: it reads them).
 * `tier`: the receipt's tier line (the tier after the sale), for a program with tiers.
 */
export function saleReceiptSteps(
  program: RecordProgram,
  purchase: SaleRecord & { memberId: string; status: string },
  notifications: NotificationRules,
  now: Date,
  tier: TierInput | null = null,
): SaleReceiptSteps {
  const ident = newReceiptIdentity(program, now)
  const document = buildSaleReceipt('purchase', ident, program, { id: purchase.memberId, phone: null }, purchase, UNKNOWN_YET, { tier })
  const event = <T extends PlannedEvent['type']>(type: T, payload: EventPayload<T>) =>
    planEvent({ id: program.id, timezone: program.timezone, rules: program.rules }, { type, memberId: purchase.memberId, payload }, now)
  const events: SaleReceiptSteps['events'] = []
  if (purchase.status === 'completed') {
    const payload = { memberId: purchase.memberId, purchaseId: purchase.id, receiptId: ident.id, storeId: purchase.storeId, currency: program.currency, total: moneyText(purchase.total, program.currency) }
    events.push({ row: eventRow(program.id, event('purchase.completed', payload)) })
  }
  const threshold = lowStoredValueThreshold(program, notifications)
  if (purchase.storedValueUsed > 0n && threshold !== null) {
    const low = event('storedValue.low', storedValueLowPayload(program, purchase.memberId, 0n, threshold, ident.id))
    events.push({
      row: eventRow(program.id, low),
      fills: [{ path: ['balance'], fact: 'storedValue.available' }],
      whenCrossedBelow: { threshold: threshold.toString(), spent: purchase.storedValueUsed.toString() },
    })
  }
  const row = receiptRow(program, ident, { kind: 'purchase', sourceId: purchase.id, memberId: purchase.memberId, purchaseId: purchase.id, entryId: purchase.entryId }, document)
  const u = notifications.unusualPurchase
  const exponent = exponentOf(program.currency)
  const unusual: PlanData['unusual'] =
    u.above === null && u.timesAverage === null
      ? undefined
      : {
          eventId: newId(),
          memberId: purchase.memberId,
          purchaseId: purchase.id,
          total: purchase.total.toString(),
          above: u.above === null ? null : (parseMinorUnits(u.above, exponent)?.toString() ?? null),
          timesAverage: u.timesAverage,
          minPurchases: u.minPurchases,
          lookback: u.lookback,
          exponent,
          at: ident.issuedAt.toISOString(),
          // reasons and memberAverage are added by the database (ll_apply), which alone knows the member's purchases.
          payload: { memberId: purchase.memberId, purchaseId: purchase.id, currency: program.currency, total: '', receiptId: ident.id, held: false } satisfies Omit<EventPayload<'purchase.unusual'>, 'reasons' | 'memberAverage'>,
        }
  return { receipt: { id: ident.id, number: ident.number, token: ident.token }, receipts: [{ row, fills: saleReceiptFills(document) }], events, unusual }
}

/** A top-up's receipt with storedValue.toppedUp, whose balance is the one the receipt shows. */
export function topUpReceiptSteps(program: RecordProgram, memberId: string, topUp: TopUpRecord, now: Date): Omit<SaleReceiptSteps, 'unusual'> {
  const ident = newReceiptIdentity(program, now)
  const document = buildTopUpReceipt(ident, program, { id: memberId, phone: null }, topUp, UNKNOWN_YET)
  const payload = { memberId, receiptId: ident.id, entryId: topUp.entryId, currency: program.currency, amount: moneyText(topUp.amount, program.currency), balance: '' }
  const toppedUp = planEvent({ id: program.id, timezone: program.timezone, rules: program.rules }, { type: 'storedValue.toppedUp', memberId, payload }, now)
  return {
    receipt: { id: ident.id, number: ident.number, token: ident.token },
    receipts: [{ row: receiptRow(program, ident, { kind: 'top_up', sourceId: topUp.entryId, memberId, purchaseId: null, entryId: topUp.entryId }, document), fills: RECEIPT_FILLS }],
    events: [{ row: eventRow(program.id, toppedUp), fills: [{ path: ['balance'], fact: 'storedValue.available' }] }],
  }
}

/**
 * The receipt of a capture (with purchase.completed) or of a void by the till (no event; `note`:
 * its reason), from the purchase row after it, linked to the sale's receipt (`originalReceiptId`,
 * the purchase's latest receipt of kind purchase, as the transaction path finds it in SQL).
 */
export function pendingEndReceiptSteps(
  program: RecordProgram,
  purchase: SaleRecord & { memberId: string },
  kind: 'capture' | 'void',
  at: { now: Date; originalReceiptId: string | null; note?: string | null },
): Omit<SaleReceiptSteps, 'unusual'> {
  const { now } = at
  const ident = newReceiptIdentity(program, now)
  const document = buildSaleReceipt(kind, ident, program, { id: purchase.memberId, phone: null }, purchase, UNKNOWN_YET, { note: at.note ?? null })
  const payload = { memberId: purchase.memberId, purchaseId: purchase.id, receiptId: ident.id, storeId: purchase.storeId, currency: program.currency, total: moneyText(purchase.total, program.currency) }
  const events =
    kind === 'capture'
      ? [{ row: eventRow(program.id, planEvent({ id: program.id, timezone: program.timezone, rules: program.rules }, { type: 'purchase.completed', memberId: purchase.memberId, payload }, now)) }]
      : []
  const entryId = kind === 'capture' ? purchase.entryId : null
  const row = receiptRow(program, ident, { kind, sourceId: purchase.id, memberId: purchase.memberId, purchaseId: purchase.id, entryId, originalReceiptId: at.originalReceiptId }, document)
  return { receipt: { id: ident.id, number: ident.number, token: ident.token }, receipts: [{ row, fills: saleReceiptFills(document) }], events }
}

/**
 * The receipt of a sale that named no member (paid with gift cards and money): nobody's, with no
 * wallet to fill and no event (every event is about a member).
 */
export function anonymousSaleReceiptSteps(program: RecordProgram, purchase: SaleRecord, now: Date): SaleReceiptSteps {
  const ident = newReceiptIdentity(program, now)
  const document = buildSaleReceipt('purchase', ident, program, null, purchase, UNKNOWN_YET, {})
  const row = receiptRow(program, ident, { kind: 'purchase', sourceId: purchase.id, memberId: null, purchaseId: purchase.id, entryId: purchase.entryId }, document)
  return { receipt: { id: ident.id, number: ident.number, token: ident.token }, receipts: [{ row }], events: [], unusual: undefined }
}

/**
 * A return's receipt (buildReturnReceipt) with return.completed. `purchaseBefore`
 * is the purchase as it was before this return, `originalReceiptId` the sale's receipt it points
 * at (the capture's of a held sale, else the sale's: the load reads it). The tenders refunded to
 * a wallet show its balance after, filled in like the receipt's own.
 */
export function returnReceiptSteps(
  program: RecordProgram,
  purchaseBefore: SaleRecord & { memberId: string | null },
  ret: ReturnRecord,
  lines: ReturnedLineInput[] | null,
  originalReceiptId: string | null,
  now: Date,
): Omit<SaleReceiptSteps, 'unusual'> {
  const ident = newReceiptIdentity(program, now)
  const { memberId } = purchaseBefore
  const document = buildReturnReceipt(ident, program, memberId === null ? null : { id: memberId, phone: null }, purchaseBefore, ret, lines, UNKNOWN_YET)
  if (memberId === null) {
    // The return of a sale that named no member: nobody's receipt, no wallet to fill, no event.
    const row = receiptRow(program, ident, { kind: 'return', sourceId: ret.id, memberId: null, purchaseId: purchaseBefore.id, entryId: ret.entryId, originalReceiptId }, document)
    return { receipt: { id: ident.id, number: ident.number, token: ident.token }, receipts: [{ row }], events: [] }
  }
  const fills: Fill[] = [
    ...RECEIPT_FILLS,
    ...ret.refunds.flatMap((r, i): Fill[] => [
      ...(r.type === 'storedValue' ? [{ path: ['tenders', i, 'balanceAfter'], fact: 'storedValue.available' } as Fill] : []),
      ...(r.points !== undefined ? [{ path: ['tenders', i, 'pointsBalanceAfter'], fact: 'points.available' } as Fill] : []),
    ]),
  ]
  const payload = { memberId, purchaseId: purchaseBefore.id, returnId: ret.id, receiptId: ident.id, currency: program.currency, amount: moneyText(ret.amount, program.currency) }
  const completed = planEvent({ id: program.id, timezone: program.timezone, rules: program.rules }, { type: 'return.completed', memberId, payload }, now)
  const row = receiptRow(program, ident, { kind: 'return', sourceId: ret.id, memberId, purchaseId: purchaseBefore.id, entryId: ret.entryId, originalReceiptId }, document)
  return { receipt: { id: ident.id, number: ident.number, token: ident.token }, receipts: [{ row, fills }], events: [{ row: eventRow(program.id, completed) }] }
}
