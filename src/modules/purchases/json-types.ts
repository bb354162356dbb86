import type { TenderType } from './calculator.js'

// How a purchase keeps its lines, tenders, discounts, holds and warnings in jsonb (bigints as
// decimal strings): the types of the jsonb columns of tables.ts.

export interface StoredLine {
  sku: string
  name: string
  quantity: number
  unitPrice: string
  discount: string
  amount: string
  category: string | null
  taxRate: string | null
  /** Share of the order-level discounts; absent on purchases posted before tiers and coupons. */
  orderDiscount?: string
  returnedQuantity: number
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
  quantity: number
}

/** A return's refund to one tender (purchase_returns.refunds). */
export interface StoredRefund {
  type: TenderType
  amount: string
  points?: string
}
