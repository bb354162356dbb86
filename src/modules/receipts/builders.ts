import { isoTimestamp } from '../../shared/schemas.js'
import { allocateProportionally } from '../../shared/rounding.js'
import { isMeasured } from '../../shared/quantity.js'
import { returnedLines, storedLines } from './returned-lines.js'
import { localDateTime, maskPhone, moneyText, receiptLanguage } from './format.js'
import type { ReceiptDocument, ReceiptKind } from './schemas.js'
import type { DiscountInput, ReceiptExtras, ReceiptIdentity, ReceiptMember, ReceiptProgram, ReturnRecord, ReturnedLineInput, SaleDiscount, SaleLine, SaleRecord, SaleTender, TierInput, TopUpRecord, WalletsAfter } from './inputs.js'

// Pure: every receipt document is built here from what the transaction already knows. No
// database, no clock, no randomness (the id, number and issue time are given), so the same
// input always gives the same document and tests need nothing but these functions.

export { returnedLines, type ReturnedLine } from './returned-lines.js'
export type { DiscountInput, ReceiptExtras, ReceiptIdentity, ReceiptMember, ReceiptProgram, ReturnRecord, ReturnedLineInput, SaleDiscount, SaleLine, SaleRecord, SaleTender, TierInput, TopUpRecord, WalletsAfter } from './inputs.js'

const big = (v: string | bigint | undefined | null) => (v === undefined || v === null ? 0n : BigInt(v))
const int = (v: bigint) => Number(v)

interface Common {
  ident: ReceiptIdentity
  program: ReceiptProgram
  member: ReceiptMember | null
  kind: ReceiptKind
  occurredAt: Date
  storeId: string
  terminalId: string | null
}

function skeleton(c: Common, wallets: WalletsAfter, extras: ReceiptExtras = {}): ReceiptDocument {
  const language = receiptLanguage(c.program.currency)
  const money = (v: bigint) => moneyText(v, c.program.currency)
  return {
    version: 1,
    id: c.ident.id,
    number: c.ident.number,
    kind: c.kind,
    status: 'completed',
    language,
    program: { id: c.program.id, name: c.program.name },
    store: { id: c.storeId },
    terminalId: c.terminalId,
    posReceiptNumber: null,
    issuedAt: isoTimestamp(c.ident.issuedAt),
    occurredAt: isoTimestamp(c.occurredAt),
    localTime: localDateTime(c.occurredAt, c.program.timezone, language),
    timezone: c.program.timezone,
    currency: c.program.currency,
    member: c.member ? { id: c.member.id, phone: maskPhone(c.member.phone) } : null,
    purchaseId: null,
    returnId: null,
    entryId: null,
    originalReceipt: null,
    lines: [],
    discounts: [],
    tax: { pricesIncludeTax: true, rates: [], total: money(0n) },
    totals: { subtotal: money(0n), discount: money(0n), total: money(0n), authorized: null },
    tenders: [],
    points: { earned: 0, redeemed: 0, returned: 0, clawedBack: 0, debt: 0, balanceAfter: int(wallets.points.available) },
    storedValue: { used: money(0n), returned: money(0n), toppedUp: money(0n), balanceAfter: money(wallets.storedValue.available) },
    tier: extras.tier ? tierOf(extras.tier, c.program.currency) : null,
    invoice: null,
    topUp: null,
    note: extras.note ?? null,
  }
}

function tierOf(tier: TierInput, currency: string): NonNullable<ReceiptDocument['tier']> {
  const next = tier.next
  return {
    name: tier.name,
    next: next ? { name: next.name, unit: next.unit, remaining: next.unit === 'money' ? moneyText(next.remaining, currency) : next.remaining.toString() } : null,
  }
}

/**
 * VAT included in the prices (retail prices in Vietnam include it), per rate: `total` (what was
 * actually charged or refunded) is spread over the lines in proportion to their amounts, exactly
 * (largest remainder), then each rate's tax is base x rate / (100 + rate), rounded half up.
 * Lines without a rate carry no tax.
 */
export function taxBreakdown(total: bigint, lines: { amount: bigint; taxRate?: string | null }[], currency: string): ReceiptDocument['tax'] {
  const money = (v: bigint) => moneyText(v, currency)
  const weights = lines.map((l) => (l.amount > 0n ? l.amount : 0n))
  const sum = weights.reduce((a, b) => a + b, 0n)
  if (sum === 0n || total <= 0n) return { pricesIncludeTax: true, rates: [], total: money(0n) }
  const bases = allocateProportionally(total, weights)
  const byRate = new Map<string, bigint>()
  lines.forEach((l, i) => {
    if (l.taxRate === null || l.taxRate === undefined) return
    byRate.set(l.taxRate, (byRate.get(l.taxRate) ?? 0n) + bases[i]!)
  })
  const rates = [...byRate.entries()]
    .map(([rate, base]) => ({ rate, scaled: basisPoints(rate), baseMinor: base }))
    .sort((a, b) => (a.scaled < b.scaled ? -1 : a.scaled > b.scaled ? 1 : 0))
    .map((r) => ({ ...r, taxMinor: includedTax(r.baseMinor, r.scaled) }))
  const taxTotal = rates.reduce((s, r) => s + r.taxMinor, 0n)
  return { pricesIncludeTax: true, rates: rates.map((r) => ({ rate: r.rate, base: money(r.baseMinor), amount: money(r.taxMinor) })), total: money(taxTotal) }
}

/** "8" -> 800n, "8.25" -> 825n: VAT rates have at most two decimals (the POS schema says so). */
const basisPoints = (rate: string): bigint => {
  const [whole, fraction = ''] = rate.split('.')
  return BigInt(whole!) * 100n + BigInt(fraction.padEnd(2, '0').slice(0, 2) || '0')
}

/** The tax included in `base` at `bp` basis points: base x bp / (10000 + bp), rounded half up, in integers. */
const includedTax = (base: bigint, bp: bigint): bigint => (2n * base * bp + (10000n + bp)) / (2n * (10000n + bp))

function discountsOf(discountTotal: bigint, extras: DiscountInput[] | undefined, language: string, currency: string): ReceiptDocument['discounts'] {
  const given = extras ?? []
  const givenTotal = given.reduce((s, d) => s + d.amount, 0n)
  if (givenTotal > discountTotal) throw new RangeError(`discount breakdown (${givenTotal}) exceeds the purchase discount total (${discountTotal})`)
  const rest = discountTotal - givenTotal
  const list = rest > 0n ? [{ type: 'line', label: language === 'vi' ? 'Giảm giá trên hàng' : 'Line discounts', amount: rest }] : []
  return [...list, ...given.filter((d) => d.amount > 0n)].map((d) => ({ type: d.type, label: d.label, amount: moneyText(d.amount, currency) }))
}


/** Each line as printed: before the order-level discounts, which are shown once below the lines. */
function lineViews(lines: SaleLine[], currency: string): ReceiptDocument['lines'] {
  return lines.map((l, i) => ({
    line: i + 1,
    sku: l.sku,
    name: l.name,
    quantity: l.quantity,
    ...(isMeasured(l.unit) ? { unit: l.unit } : {}),
    unitPrice: moneyText(big(l.unitPrice), currency),
    discount: moneyText(big(l.discount), currency),
    amount: moneyText(big(l.amount) + big(l.orderDiscount), currency),
    taxRate: l.taxRate ?? null,
  }))
}

/** The purchase's order-level discounts, labelled for the receipt. */
function orderDiscountsOf(sale: SaleRecord, language: string): DiscountInput[] {
  if (!Array.isArray(sale.discounts)) return []
  return (sale.discounts as SaleDiscount[]).map((d) => {
    const percent = d.percent ? ` −${d.percent}%` : ''
    const name = d.name ?? d.code ?? ''
    const label =
      d.type === 'tier'
        ? language === 'vi' ? `Ưu đãi hạng ${name}${percent}` : `${name} tier${percent}`
        : d.type === 'coupon'
          ? language === 'vi' ? `Mã giảm giá ${d.code ?? name}${percent}` : `Coupon ${d.code ?? name}${percent}`
          : `${name}${percent}`
    return { type: d.type, label: label.trim(), amount: big(d.amount) }
  })
}

function invoiceOf(invoice: unknown): ReceiptDocument['invoice'] {
  if (!invoice || typeof invoice !== 'object') return null
  const i = invoice as Record<string, string | undefined>
  if (!i.sellerTaxCode || !i.number) return null
  const out: NonNullable<ReceiptDocument['invoice']> = { sellerTaxCode: i.sellerTaxCode, number: i.number }
  for (const key of ['symbol', 'lookupCode', 'lookupUrl'] as const) if (i[key]) out[key] = i[key]
  return out
}

/**
 * The receipt of a sale: a purchase (completed or pending), its capture or its void. The sale
 * is the purchase row after the operation.
 */
export function buildSaleReceipt(
  kind: 'purchase' | 'capture' | 'void',
  ident: ReceiptIdentity,
  program: ReceiptProgram,
  member: ReceiptMember | null,
  sale: SaleRecord,
  wallets: WalletsAfter,
  extras: ReceiptExtras = {},
): ReceiptDocument {
  const currency = program.currency
  const money = (v: bigint) => moneyText(v, currency)
  const doc = skeleton({ ident, program, member, kind, occurredAt: kind === 'purchase' ? sale.occurredAt : ident.issuedAt, storeId: sale.storeId, terminalId: sale.terminalId }, wallets, extras)
  const lines = storedLines(sale)
  const tenders = sale.tenders as SaleTender[]
  const status = sale.status === 'pending' || sale.status === 'voided' ? sale.status : 'completed'
  const authorized = (sale.holds as { authorizedTotal?: string } | undefined)?.authorizedTotal
  doc.status = status
  doc.posReceiptNumber = sale.externalId
  doc.purchaseId = sale.id
  doc.entryId = kind === 'void' ? null : sale.entryId
  doc.lines = lineViews(lines, currency)
  doc.discounts = discountsOf(sale.discountTotal, extras.discounts ?? orderDiscountsOf(sale, doc.language), doc.language, currency)
  doc.tax = kind === 'void' ? doc.tax : taxBreakdown(sale.total, lines.map((l) => ({ amount: big(l.amount), taxRate: l.taxRate })), currency)
  doc.totals = {
    subtotal: money(sale.subtotal),
    discount: money(sale.discountTotal),
    total: money(sale.total),
    authorized: kind === 'capture' && authorized !== undefined ? money(BigInt(authorized)) : null,
  }
  doc.tenders = tenders.map((t) => ({
    type: t.type,
    amount: money(big(t.amount)),
    ...(t.type === 'storedValue' ? { balanceAfter: money(wallets.storedValue.available) } : {}),
    ...(t.points !== undefined ? { points: int(big(t.points)), pointsBalanceAfter: int(wallets.points.available) } : {}),
  }))
  const charged = kind !== 'void'
  doc.points = {
    ...doc.points,
    earned: charged ? int(sale.pointsEarned) : 0,
    redeemed: charged ? int(sale.pointsRedeemed) : 0,
  }
  doc.storedValue = { ...doc.storedValue, used: money(charged ? sale.storedValueUsed : 0n) }
  doc.invoice = invoiceOf(sale.invoice)
  return doc
}

export function buildReturnReceipt(
  ident: ReceiptIdentity,
  program: ReceiptProgram,
  member: ReceiptMember | null,
  sale: SaleRecord,
  ret: ReturnRecord,
  requested: ReturnedLineInput[] | null | undefined,
  wallets: WalletsAfter,
  extras: ReceiptExtras = {},
): ReceiptDocument {
  const currency = program.currency
  const money = (v: bigint) => moneyText(v, currency)
  const doc = skeleton({ ident, program, member, kind: 'return', occurredAt: ret.createdAt, storeId: sale.storeId, terminalId: sale.terminalId }, wallets, extras)
  doc.posReceiptNumber = sale.externalId
  doc.purchaseId = sale.id
  doc.returnId = ret.id
  doc.entryId = ret.entryId
  doc.note = extras.note ?? ret.reason ?? null
  if (requested && requested.length > 0) {
    const lines = returnedLines(sale, requested, ret.amount)
    doc.lines = lines.map((l, i) => ({
      line: i + 1,
      sku: l.sku,
      name: l.name,
      quantity: l.returnQuantity,
      ...(isMeasured(l.unit) ? { unit: l.unit } : {}),
      unitPrice: money(big(l.unitPrice)),
      // What the returned part cost less what it refunds: its share of the line's discounts.
      discount: money(l.gross > l.value ? l.gross - l.value : 0n),
      amount: money(l.value),
      taxRate: l.taxRate ?? null,
    }))
    doc.tax = taxBreakdown(ret.amount, lines.map((l) => ({ amount: l.value, taxRate: l.taxRate })), currency)
  } else {
    doc.tax = taxBreakdown(ret.amount, storedLines(sale).map((l) => ({ amount: big(l.amount), taxRate: l.taxRate })), currency)
  }
  doc.totals = { subtotal: money(ret.amount), discount: money(0n), total: money(ret.amount), authorized: null }
  doc.tenders = ret.refunds.map((r) => ({
    type: r.type,
    amount: money(r.amount),
    ...(r.type === 'storedValue' ? { balanceAfter: money(wallets.storedValue.available) } : {}),
    ...(r.points !== undefined ? { points: int(r.points), pointsBalanceAfter: int(wallets.points.available) } : {}),
  }))
  doc.points = {
    ...doc.points,
    returned: int(ret.refunds.reduce((s, r) => s + (r.points ?? 0n), 0n)),
    clawedBack: int(ret.pointsClawedBack),
    debt: int(ret.pointsDebt),
  }
  doc.storedValue = { ...doc.storedValue, returned: money(ret.refunds.filter((r) => r.type === 'storedValue').reduce((s, r) => s + r.amount, 0n)) }
  return doc
}

export function buildTopUpReceipt(ident: ReceiptIdentity, program: ReceiptProgram, member: ReceiptMember, topUp: TopUpRecord, wallets: WalletsAfter): ReceiptDocument {
  const money = (v: bigint) => moneyText(v, program.currency)
  const doc = skeleton({ ident, program, member, kind: 'top_up', occurredAt: topUp.occurredAt, storeId: topUp.storeId, terminalId: topUp.terminalId ?? null }, wallets)
  doc.entryId = topUp.entryId
  doc.totals = { subtotal: money(topUp.amount), discount: money(0n), total: money(topUp.amount), authorized: null }
  doc.tenders = [{ type: topUp.tender, amount: money(topUp.amount) }]
  doc.storedValue = { ...doc.storedValue, toppedUp: money(topUp.amount) }
  doc.topUp = { tender: topUp.tender, reference: topUp.reference ?? null }
  return doc
}
