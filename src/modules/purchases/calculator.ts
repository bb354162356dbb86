import { AppError } from '../../shared/errors.js'
import { parseMinorUnits } from '../../shared/money.js'
import { lineGross, milliOf, type MeasureUnit, type QuantityValue } from '../../shared/quantity.js'
import { D, allocateProportionally, roundToInteger } from '../../shared/rounding.js'
import type { ProgramRules } from '../programs/rules.js'
import type { ProblemCode } from '../problems/catalog.js'

// Pure purchase arithmetic: what a sale costs, how it was paid, what it earns, and how a
// return splits back across tenders. Everything in integer minor units and whole points.

export interface LineInput {
  sku: string
  name: string
  /** Whole pieces (a number), or a decimal string in `unit` for a good sold by measure ("0.375" kg). */
  quantity: QuantityValue
  /** A unit of measure; absent: pieces. */
  unit?: MeasureUnit
  /** Per piece, or per unit of measure. */
  unitPrice: bigint
  discount: bigint
  category?: string
  taxRate?: string
}

export interface Line extends LineInput {
  /** quantity x unitPrice, rounded once to the minor unit (src/shared/money.ts): the line before discounts. */
  gross: bigint
  /** gross - discount - orderDiscount: what the line costs */
  amount: bigint
  /** This line's share of the order-level discounts (tier, coupons). */
  orderDiscount: bigint
}

/** An order-level discount, taken in turn from what is left to pay after the ones before it. */
export interface DiscountStep {
  type: 'tier' | 'coupon'
  code: string
  name?: string
  campaignId?: string
  percent?: string
  amountOf(base: bigint): bigint
}

export interface AppliedDiscount {
  type: 'tier' | 'coupon'
  code: string
  name?: string
  campaignId?: string
  percent?: string
  amount: bigint
}

/** A percentage off, rounded down to the minor unit: a member never gets more than the stated percent. */
export const percentOff = (base: bigint, percent: string): bigint => roundToInteger(D(base.toString()).times(percent).div(100), 'down')

export type TenderType = 'storedValue' | 'points' | 'cash' | 'card' | 'other' | 'giftCard'

/** The gift card a giftCard tender pays from, once its code is resolved (purchases/gift-card-tenders.ts). */
export interface TenderCard {
  giftCardId: string
  codeLast4: string
}

export interface TenderInput extends Partial<TenderCard> {
  type: TenderType
  amount?: bigint
  points?: bigint
}

export interface Tender extends Partial<TenderCard> {
  type: TenderType
  /** Money value in minor units (for points: points x point value). */
  amount: bigint
  points?: bigint
}

/** The card fields of a tender, when it has them (a gift card tender). */
export const cardOf = (t: Partial<TenderCard>): Partial<TenderCard> => (t.giftCardId ? { giftCardId: t.giftCardId, codeLast4: t.codeLast4 } : {})

export interface PurchaseTotals {
  lines: Line[]
  subtotal: bigint
  discountTotal: bigint
  total: bigint
  discounts: AppliedDiscount[]
  tenders: Tender[]
  pointsRedeemed: bigint
  storedValueUsed: bigint
  /** Paid with money (stored value included), i.e. not with points: what earns. */
  moneyPaid: bigint
  pointsEarned: bigint
}

const unprocessable = (code: ProblemCode, title: string, detail: string, extensions: Record<string, unknown> = {}) => new AppError(422, code, title, detail, extensions)

export function pointValueMinor(rules: ProgramRules, exponent: number): bigint | undefined {
  return rules.pointValue === null ? undefined : parseMinorUnits(rules.pointValue, exponent)
}

export function priceLines(lines: LineInput[]): Line[] {
  return lines.map((l, i) => {
    const gross = lineGross(l.unitPrice, milliOf(l.quantity))
    if (l.discount > gross) throw unprocessable('LINE_DISCOUNT_TOO_LARGE', 'Line discount too large', `line ${i + 1}: the discount exceeds the line price`, { line: i + 1 })
    return { ...l, gross, amount: gross - l.discount, orderDiscount: 0n }
  })
}

/**
 * Points earned on a sale: each line's share of the money actually paid (points tenders do not
 * earn), times its category multiplier, excluded categories earning nothing; rounded once per
 * purchase with the program's mode.
 */
export function earnedPoints(
  lines: { amount: bigint; category?: string }[],
  moneyPaid: bigint,
  total: bigint,
  rules: ProgramRules,
  exponent: number,
  /** The member's tier earn multiplier. */
  multiplier = '1',
): bigint {
  const earning = rules.earning
  if (!earning || total <= 0n || moneyPaid <= 0n) return 0n
  const perMinor = parseMinorUnits(earning.per, exponent)
  if (!perMinor || perMinor <= 0n) return 0n
  const excluded = new Set(earning.excludedCategories)
  let eligible = D(0)
  for (const line of lines) {
    if (line.category !== undefined && excluded.has(line.category)) continue
    const multiplier = line.category !== undefined ? (earning.categoryMultipliers[line.category] ?? '1') : '1'
    eligible = eligible.plus(D(line.amount.toString()).times(multiplier))
  }
  const paidShare = eligible.times(multiplier).times(moneyPaid.toString()).div(total.toString())
  return roundToInteger(paidShare.div(perMinor.toString()).times(earning.points), earning.rounding)
}

export type PricedSale = Pick<PurchaseTotals, 'lines' | 'subtotal' | 'discountTotal' | 'total' | 'discounts'>

/** What the lines cost after line discounts and the order-level discounts taken in turn; tenders play no part. */
export function priceSale(input: LineInput[], steps: DiscountStep[] = []): PricedSale {
  const lines = priceLines(input)
  const subtotal = lines.reduce((s, l) => s + l.gross, 0n)
  let total = subtotal - lines.reduce((s, l) => s + l.discount, 0n)
  // Order-level discounts are spread over the lines (largest remainder), so a returned line gives back what it really cost.
  const discounts: AppliedDiscount[] = []
  for (const step of steps) {
    const wanted = step.amountOf(total)
    const amount = wanted > total ? total : wanted
    if (amount <= 0n) continue
    const shares = allocateProportionally(amount, lines.map((l) => l.amount))
    lines.forEach((l, i) => {
      l.amount -= shares[i]!
      l.orderDiscount += shares[i]!
    })
    total -= amount
    const { amountOf: _, ...described } = step
    discounts.push({ ...described, amount })
  }
  return { lines, subtotal, discountTotal: subtotal - total, total, discounts }
}

export function computePurchase(input: {
  lines: LineInput[]
  tenders: TenderInput[]
  rules: ProgramRules
  exponent: number
  discounts?: DiscountStep[]
  earnMultiplier?: string
}): PurchaseTotals {
  const { lines, subtotal, discountTotal, total, discounts } = priceSale(input.lines, input.discounts)
  const pointValue = pointValueMinor(input.rules, input.exponent)
  const tenders: Tender[] = input.tenders.map((t) => {
    if (t.type !== 'points') return { type: t.type, amount: t.amount!, ...cardOf(t) }
    if (pointValue === undefined) throw unprocessable('POINTS_NOT_REDEEMABLE', 'Points cannot pay', 'This program has no point value set, so points cannot be used as a tender')
    return { type: 'points', amount: t.points! * pointValue, points: t.points! }
  })
  const paid = tenders.reduce((s, t) => s + t.amount, 0n)
  if (paid !== total) {
    throw unprocessable('TENDERS_DO_NOT_MATCH_TOTAL', 'Tenders do not match the total', `The tenders add up to ${paid} minor units but the purchase total is ${total}`, {
      total: total.toString(),
      tendered: paid.toString(),
    })
  }

  const pointsRedeemed = tenders.reduce((s, t) => s + (t.points ?? 0n), 0n)
  const { minPoints, maxPoints } = input.rules.redemption
  if (pointsRedeemed > 0n && pointsRedeemed < BigInt(minPoints)) {
    throw unprocessable('REDEMPTION_BELOW_MINIMUM', 'Too few points', `At least ${minPoints} points must be redeemed at once`, { minPoints })
  }
  if (maxPoints !== null && pointsRedeemed > BigInt(maxPoints)) {
    throw unprocessable('REDEMPTION_ABOVE_MAXIMUM', 'Too many points', `At most ${maxPoints} points can be redeemed on one purchase`, { maxPoints })
  }
  const storedValueUsed = tenders.filter((t) => t.type === 'storedValue').reduce((s, t) => s + t.amount, 0n)
  const moneyPaid = total - pointsRedeemed * (pointValue ?? 0n)
  return {
    lines,
    subtotal,
    discountTotal,
    total,
    discounts,
    tenders,
    pointsRedeemed,
    storedValueUsed,
    moneyPaid,
    pointsEarned: earnedPoints(lines, moneyPaid, total, input.rules, input.exponent, input.earnMultiplier),
  }
}

/** What is left to give back on each tender of a purchase. */
export interface RefundableTender extends Partial<TenderCard> {
  type: TenderType
  amount: bigint
  points?: bigint
}

export interface TenderRefund extends Partial<TenderCard> {
  type: TenderType
  amount: bigint
  points?: bigint
}

/** Wallets a refund goes back into (not money the till pays out): a point's fraction goes to money first. */
const isWalletTender = (type: TenderType) => type === 'storedValue' || type === 'giftCard'

/**
 * Splits a refund across the tenders still refundable, in proportion to what is left on each
 * (largest remainder, so the parts sum exactly and none exceeds what is left). Points come back
 * in whole points: a fraction of a point's value goes to a money tender with room, else the
 * points round up. The last return gives back exactly what is left.
 */
export function splitRefund(refund: bigint, remaining: RefundableTender[], pointValue: bigint | undefined): TenderRefund[] {
  const left = remaining.reduce((s, t) => s + t.amount, 0n)
  if (refund > left) throw new RangeError('refund exceeds what is refundable')
  const shares = allocateProportionally(refund, remaining.map((t) => t.amount))
  const parts: TenderRefund[] = remaining.map((t, i) => ({ type: t.type, amount: shares[i]!, ...cardOf(t) }))
  const pi = remaining.findIndex((t) => t.type === 'points')
  if (pi >= 0 && pointValue) {
    const share = parts[pi]!.amount
    let points = share / pointValue
    let leftover = share - points * pointValue
    if (leftover > 0n) {
      const room = parts.findIndex((p, i) => i !== pi && !isWalletTender(p.type) && remaining[i]!.amount - p.amount >= leftover)
      const svRoom = parts.findIndex((p, i) => i !== pi && remaining[i]!.amount - p.amount >= leftover)
      const target = room >= 0 ? room : svRoom
      if (target >= 0) parts[target]!.amount += leftover
      else points += 1n
      leftover = 0n
    }
    points = points > remaining[pi]!.points! ? remaining[pi]!.points! : points
    parts[pi] = { type: 'points', amount: points * pointValue, points }
  }
  return parts
}
