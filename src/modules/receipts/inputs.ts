import type { MeasureUnit, QuantityValue } from '../../shared/quantity.js'

// What the receipt builders take: the fields of the rows and results the transaction already
// has. Structural, so a purchases row, a ReturnResult or memberBalances() fit as they are.

export interface ReceiptProgram {
  id: string
  name: string
  currency: string
  timezone: string
}

export interface ReceiptMember {
  id: string
  /** E.164; masked on the receipt. Null once erased. */
  phone: string | null
}

/** Balances after the transaction (the ledger's memberBalances fits); `available` is what is shown. */
export interface WalletsAfter {
  points: { available: bigint }
  storedValue: { available: bigint }
}

export interface ReceiptIdentity {
  id: string
  number: string
  issuedAt: Date
}

export interface DiscountInput {
  /** tier, coupon, …; what is left of the purchase's discount total is shown as line discounts. */
  type: string
  label: string
  amount: bigint
}

export interface TierInput {
  name: string
  next?: { name: string; remaining: bigint; unit: 'points' | 'money' } | null
}

export interface ReceiptExtras {
  /** A breakdown of (part of) the purchase's discount total, e.g. the tier discount. */
  discounts?: DiscountInput[]
  /** The member's tier after the transaction and the way to the next one (optional until tiers exist). */
  tier?: TierInput | null
  note?: string | null
}

/** A line as the purchases table keeps it (amounts as minor-unit strings or bigints). */
export interface SaleLine {
  sku: string
  name: string
  /** Whole pieces, or a decimal string of a good sold by measure in `unit`. */
  quantity: QuantityValue
  /** A unit of measure; absent: pieces. */
  unit?: MeasureUnit | null
  unitPrice: string | bigint
  discount: string | bigint
  /** What the line costs: after its own discount and its share of the order-level discounts. */
  amount: string | bigint
  /** The line's share of the order-level discounts (tier, coupons), when there were any. */
  orderDiscount?: string | bigint
  taxRate?: string | null
  returnedQuantity?: QuantityValue
}

/** An order-level discount as the purchases service records it. */
export interface SaleDiscount {
  type: string
  code?: string
  name?: string
  percent?: string
  amount: string | bigint
}

export interface SaleTender {
  type: string
  amount: string | bigint
  points?: string | bigint
}

/** The purchase fields a receipt reads: a row of the purchases table fits as it is. */
export interface SaleRecord {
  id: string
  status: string
  storeId: string
  terminalId: string
  externalId: string
  occurredAt: Date
  lines: unknown
  tenders: unknown
  subtotal: bigint
  discountTotal: bigint
  total: bigint
  pointsEarned: bigint
  pointsRedeemed: bigint
  storedValueUsed: bigint
  invoice: unknown
  entryId: string | null
  holds?: unknown
  /** Order-level discounts (tier, coupons); shown beside the line discounts. */
  discounts?: unknown
}

/** A return as the purchases service reports it (ReturnResult fits). */
export interface ReturnRecord {
  id: string
  purchaseId: string
  amount: bigint
  refunds: { type: string; amount: bigint; points?: bigint }[]
  pointsClawedBack: bigint
  pointsDebt: bigint
  entryId: string | null
  createdAt: Date
  reason?: string | null
}

/** What was asked to be returned (the request's lines); absent for a return by amount. */
export interface ReturnedLineInput {
  sku?: string
  /** 1-based line number. */
  line?: number
  /** In the line's unit. */
  quantity: QuantityValue
}

export interface TopUpRecord {
  entryId: string
  amount: bigint
  tender: string
  storeId: string
  terminalId?: string | null
  reference?: string | null
  occurredAt: Date
}
