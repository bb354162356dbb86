import type { MeasureUnit, QuantityValue } from '../../shared/quantity.js'
import type { TenderType } from './calculator.js'

// How a purchase keeps its lines, tenders, discounts, holds and warnings in jsonb (bigints as
// decimal strings): the types of the jsonb columns of tables.ts.

export interface StoredLine {
  sku: string
  name: string
  /** Whole pieces (a number) or, with `unit`, a decimal string of a good sold by measure ("0.375"). */
  quantity: QuantityValue
  /** A unit of measure (kg, g, l, ml, m); absent: pieces (every purchase before weighed goods). */
  unit?: MeasureUnit
  /** Per piece or per unit of measure. */
  unitPrice: string
  discount: string
  amount: string
  category: string | null
  taxRate: string | null
  /** Share of the order-level discounts; absent on purchases posted before tiers and coupons. */
  orderDiscount?: string
  /** In the line's unit, as `quantity`. */
  returnedQuantity: QuantityValue
  returnedAmount: string
}

export interface StoredDiscount {
  type: 'tier' | 'coupon'
  code: string
  name?: string
  campaignId?: string
  percent?: string
  amount: string
}

export interface StoredTender {
  type: TenderType
  amount: string
  points?: string
  /** A giftCard tender: the card it paid from. */
  giftCardId?: string
  codeLast4?: string
  refundedAmount: string
  refundedPoints?: string
}

export interface StoredHolds {
  points?: { holdId: string; points: string }
  storedValue?: { holdId: string; amount: string }
  authorizedTotal?: string
}

export interface StoredWarning {
  code: string
  message: string
}

/** A line a return names (by line number or SKU) and how many of it came back (purchase_returns.lines). */
export interface StoredReturnLine {
  line?: number
  sku?: string
  /** In the line's unit: a whole number of pieces, or a decimal string of a measure. */
  quantity: QuantityValue
}

/** A return's refund to one tender (purchase_returns.refunds). */
export interface StoredRefund {
  type: TenderType
  amount: string
  points?: string
  giftCardId?: string
  codeLast4?: string
}
