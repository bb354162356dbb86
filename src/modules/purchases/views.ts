import { formatMinorUnits } from '../../shared/money.js'
import { isMeasured, milliOf, quantityValue } from '../../shared/quantity.js'
import { isoTimestamp } from '../../shared/schemas.js'
import { pointsNumber } from '../ledger/views.js'
import type { ProgramRow } from '../programs/tables.js'
import { exponentOf } from './plan.js'
import { cardOf } from './calculator.js'
import type { ReturnResult } from './return-result.js'
import type { StoredDiscount, StoredLine, StoredTender } from './stored.js'
import type { PurchaseRow } from './tables.js'

export function purchaseView(program: ProgramRow, p: PurchaseRow) {
  const exp = exponentOf(program)
  const money = (v: bigint | string) => formatMinorUnits(BigInt(v), exp)
  return {
    id: p.id,
    status: p.status as 'pending' | 'completed' | 'voided',
    memberId: p.memberId,
    storeId: p.storeId,
    terminalId: p.terminalId,
    externalId: p.externalId,
    occurredAt: isoTimestamp(p.occurredAt),
    currency: p.currency,
    lines: (p.lines as StoredLine[]).map((l, i) => ({
      line: i + 1,
      sku: l.sku,
      name: l.name,
      quantity: quantityValue(milliOf(l.quantity), l.unit),
      ...(isMeasured(l.unit) ? { unit: l.unit } : {}),
      unitPrice: money(l.unitPrice),
      discount: money(l.discount),
      orderDiscount: money(l.orderDiscount ?? '0'),
      amount: money(l.amount),
      category: l.category,
      taxRate: l.taxRate,
      returnedQuantity: quantityValue(milliOf(l.returnedQuantity), l.unit),
    })),
    subtotal: money(p.subtotal),
    discounts: (p.discounts as StoredDiscount[]).map((d) => ({ ...d, amount: money(d.amount) })),
    discountTotal: money(p.discountTotal),
    tierCode: p.tierCode,
    total: money(p.total),
    tenders: (p.tenders as StoredTender[]).map((t) => ({ type: t.type, amount: money(t.amount), ...(t.points !== undefined ? { points: Number(t.points) } : {}), ...cardOf(t) })),
    pointsEarned: pointsNumber(p.pointsEarned),
    pointsRedeemed: pointsNumber(p.pointsRedeemed),
    storedValueUsed: money(p.storedValueUsed),
    returned: { amount: money(p.returnedTotal), pointsClawedBack: pointsNumber(p.pointsClawedBack), pointsDebt: pointsNumber(p.pointsDebt) },
    holdExpiresAt: p.holdExpiresAt ? isoTimestamp(p.holdExpiresAt) : null,
    entryId: p.entryId,
    invoice: (p.invoice as Record<string, string> | null) ?? null,
    warnings: p.warnings as { code: string; message: string }[],
    createdAt: isoTimestamp(p.createdAt),
  }
}

export function returnView(program: ProgramRow, r: ReturnResult) {
  const exp = exponentOf(program)
  const money = (v: bigint) => formatMinorUnits(v, exp)
  const sum = (pred: (t: string) => boolean) => r.refunds.filter((p) => pred(p.type)).reduce((s, p) => s + p.amount, 0n)
  return {
    id: r.id,
    purchaseId: r.purchaseId,
    amount: money(r.amount),
    refunds: r.refunds.map((p) => ({ type: p.type, amount: money(p.amount), ...(p.points !== undefined ? { points: Number(p.points) } : {}), ...cardOf(p) })),
    moneyToPayOut: money(sum((t) => t === 'cash' || t === 'card' || t === 'other')),
    storedValueReturned: money(sum((t) => t === 'storedValue')),
    pointsReturned: Number(r.refunds.reduce((s, p) => s + (p.points ?? 0n), 0n)),
    pointsClawedBack: pointsNumber(r.pointsClawedBack),
    pointsDebt: pointsNumber(r.pointsDebt),
    entryId: r.entryId,
    createdAt: isoTimestamp(r.createdAt),
  }
}
