import { rowJson } from '../../db/row-json.js'
import type { TenderType } from './calculator.js'
import { purchases, type PurchaseRow } from './tables.js'

// How a purchase keeps its lines, tenders, discounts and holds in jsonb (bigints as decimal strings).

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

/** The purchases row as ll_apply and the pipelined insert take it (jsonb_populate_recordset). */
export const purchaseRowJson = (row: PurchaseRow) => rowJson(purchases, row)
