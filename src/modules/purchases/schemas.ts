import { z } from 'zod'
import { moneyText, problemSchema, quantityAnswer, quantityInput, timestampSchema } from '../../shared/schemas.js'
import { isWhole, MEASURE_UNITS, QUANTITY_UNITS, readQuantity } from '../../shared/quantity.js'
import { giftCardTenderSchema } from '../gift-cards/schemas.js'
import { balancesSchema } from '../ledger/schemas.js'
import { receiptLinkSchema } from '../receipts/links.js'

const lineSchema = z
  .object({
    sku: z.string().trim().min(1).max(64),
    name: z.string().trim().min(1).max(200),
    quantity: quantityInput,
    unit: z
      .enum(QUANTITY_UNITS)
      .optional()
      .describe('pc (pieces, the default), or the unit of a good sold by measure: kg, g, l, ml, m. A fractional quantity needs a unit of measure'),
    unitPrice: moneyText.describe('Per piece, or per unit of measure (per kg for a line in kg)'),
    category: z.string().trim().min(1).max(64).optional(),
    taxRate: z
      .string()
      .regex(/^(0|[1-9][0-9]?|100)(\.[0-9]{1,2})?$/, 'a percentage, e.g. "8" or "10"')
      .optional()
      .describe('VAT rate in percent, passed through to the receipt'),
    discount: moneyText.optional().describe('Discount on the whole line, in money'),
  })
  .strict()
  .superRefine((l, ctx) => {
    const read = readQuantity(l.quantity)
    if ('milli' in read && !isWhole(read.milli) && (l.unit ?? 'pc') === 'pc') {
      ctx.addIssue({ code: 'custom', path: ['quantity'], message: `pieces are whole: a fractional quantity needs a unit of measure (${MEASURE_UNITS.join(', ')})` })
    }
  })

const tenderSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('storedValue'), amount: moneyText }).strict(),
  z.object({ type: z.literal('points'), points: z.number().int().min(1).max(1_000_000_000) }).strict(),
  z.object({ type: z.enum(['cash', 'card', 'other']), amount: moneyText }).strict(),
  giftCardTenderSchema,
])

/** Gift card tenders a sale may carry. */
export const MAX_GIFT_CARD_TENDERS = 5

const invoiceSchema = z
  .object({
    sellerTaxCode: z.string().trim().min(1).max(20),
    symbol: z.string().trim().min(1).max(20).optional(),
    number: z.string().trim().min(1).max(30),
    lookupCode: z.string().trim().min(1).max(100).optional(),
    lookupUrl: z.url().max(500).optional(),
  })
  .strict()
  .describe('The e-invoice the POS or its invoice provider issued (Decree 123/2020); shown on the receipt')

/**
 * A sale that names no member: allowed when a gift card pays part of it and nothing else needs a
 * member (no points or stored-value tender, no coupon). It earns nothing.
 */
export function isAnonymousSale(b: { memberId?: string; phone?: string; cardNumber?: string; tenders: { type: string }[]; couponCodes?: string[] }): boolean {
  return (
    b.memberId === undefined &&
    b.phone === undefined &&
    b.cardNumber === undefined &&
    b.tenders.some((t) => t.type === 'giftCard') &&
    !b.tenders.some((t) => t.type === 'points' || t.type === 'storedValue') &&
    (b.couponCodes ?? []).length === 0
  )
}

export const purchaseCreateSchema = z
  .object({
    memberId: z.uuid().optional(),
    phone: z.string().trim().min(3).max(32).optional(),
    cardNumber: z.string().trim().min(1).max(64).optional(),
    storeId: z.string().trim().min(1).max(64),
    terminalId: z.string().trim().min(1).max(64),
    externalId: z.string().trim().min(1).max(100).describe('The POS receipt number, unique per store'),
    occurredAt: timestampSchema.optional().describe('When the sale happened; default now. Offline uploads may be in the past within the program window'),
    currency: z.string().regex(/^[A-Z]{3}$/),
    lines: z.array(lineSchema).min(1).max(500),
    tenders: z.array(tenderSchema).min(1).max(20),
    capture: z.boolean().default(true).describe('false: hold points and stored value (e-commerce); capture or void later'),
    invoice: invoiceSchema.optional(),
    couponCodes: z
      .array(z.string().trim().min(1).max(64))
      .max(5)
      .optional()
      .describe('Coupons to apply: each discount is taken after line discounts and the tier discount; tenders pay the discounted total'),
  })
  .strict()
  .refine((b) => [b.memberId, b.phone, b.cardNumber].filter((x) => x !== undefined).length === (isAnonymousSale(b) ? 0 : 1), {
    message: 'identify the member with exactly one of memberId, phone or cardNumber (none only for a sale paid with a gift card and money alone)',
    path: ['memberId'],
  })
  .refine((b) => b.tenders.filter((t) => t.type === 'giftCard').length <= MAX_GIFT_CARD_TENDERS, {
    message: `at most ${MAX_GIFT_CARD_TENDERS} giftCard tenders`,
    path: ['tenders'],
  })
  .refine((b) => b.tenders.filter((t) => t.type === 'storedValue').length <= 1 && b.tenders.filter((t) => t.type === 'points').length <= 1, {
    message: 'at most one storedValue and one points tender',
    path: ['tenders'],
  })

export const captureSchema = z
  .object({ amount: moneyText.optional().describe('Capture less than authorised: the rest is released and earning is on the captured amount') })
  .strict()

export const voidSchema = z.object({ reason: z.string().trim().min(1).max(500).optional() }).strict()

export const returnSchema = z
  .object({
    lines: z
      .array(
        z
          .object({
            sku: z.string().min(1).max(64).optional(),
            line: z.number().int().min(1).max(500).optional().describe('1-based line number, when a sku appears on several lines'),
            quantity: quantityInput.describe("In the line's own unit: whole pieces, or part of a line sold by measure (0.125 of 0.375 kg)"),
          })
          .strict()
          .refine((l) => (l.sku === undefined) !== (l.line === undefined), 'give either sku or line'),
      )
      .min(1)
      .max(500)
      .optional(),
    amount: moneyText.optional().describe('Return an amount instead of lines'),
    reason: z.string().trim().min(1).max(500).optional(),
  })
  .strict()
  .refine((b) => (b.lines === undefined) !== (b.amount === undefined), { message: 'give either lines or amount', path: ['lines'] })

export const purchaseParamsSchema = z.object({ purchaseId: z.uuid() })

export const purchaseQuerySchema = z
  .object({
    memberId: z.uuid().optional(),
    storeId: z.string().max(64).optional(),
    status: z.enum(['pending', 'completed', 'voided']).optional(),
    from: timestampSchema.optional(),
    to: timestampSchema.optional(),
    limit: z.coerce.number().int().min(1).max(200).default(50),
    cursor: z.string().max(200).optional(),
  })
  .strict()

const discountsSchema = z
  .array(
    z.object({
      type: z.enum(['tier', 'coupon']),
      code: z.string(),
      name: z.string().optional(),
      campaignId: z.uuid().optional(),
      percent: z.string().optional(),
      amount: z.string(),
    }),
  )
  .describe('Order-level discounts in the order they were taken: the tier discount first, then coupons')

const tenderView = z.object({
  type: z.string(),
  amount: z.string(),
  points: z.number().int().optional(),
  giftCardId: z.uuid().optional().describe('giftCard: the card paid from (or refunded to)'),
  codeLast4: z.string().optional().describe('giftCard: the last four characters of its code'),
})

export const purchaseSchema = z
  .object({
    id: z.uuid(),
    status: z.enum(['pending', 'completed', 'voided']),
    memberId: z.uuid().nullable().describe('null: a sale paid with gift cards (and money) that named no member; it earned nothing'),
    storeId: z.string(),
    terminalId: z.string(),
    externalId: z.string(),
    occurredAt: z.string(),
    currency: z.string(),
    lines: z.array(
      z.object({
        line: z.number().int(),
        sku: z.string(),
        name: z.string(),
        quantity: quantityAnswer,
        unit: z.enum(MEASURE_UNITS).optional().describe('Present on a line sold by measure only; absent: pieces'),
        unitPrice: z.string().describe('Per piece, or per unit of measure'),
        discount: z.string(),
        orderDiscount: z.string().describe("The line's share of the order-level discounts (tier, coupons)"),
        amount: z.string().describe('What the line costs after every discount'),
        category: z.string().nullable(),
        taxRate: z.string().nullable(),
        returnedQuantity: quantityAnswer.describe('What has been returned so far, in the unit of quantity'),
      }),
    ),
    subtotal: z.string(),
    discounts: discountsSchema,
    discountTotal: z.string().describe('Line discounts plus order-level discounts'),
    tierCode: z.string().nullable().describe('The member’s tier when the sale posted'),
    total: z.string(),
    tenders: z.array(tenderView),
    pointsEarned: z.number().int(),
    pointsRedeemed: z.number().int(),
    storedValueUsed: z.string(),
    returned: z.object({ amount: z.string(), pointsClawedBack: z.number().int(), pointsDebt: z.number().int() }),
    holdExpiresAt: z.string().nullable(),
    entryId: z.uuid().nullable(),
    invoice: z.record(z.string(), z.string()).nullable(),
    warnings: z.array(z.object({ code: z.string(), message: z.string() })),
    createdAt: z.string(),
  })
  .meta({ id: 'Purchase' })

export const purchaseResultSchema = purchaseSchema.extend({ balances: balancesSchema.nullable().describe('The member’s balances after; null for a sale that named no member'), receipt: receiptLinkSchema }).meta({ id: 'PurchaseResult' })

export const returnResultSchema = z
  .object({
    id: z.uuid(),
    purchaseId: z.uuid(),
    amount: z.string().describe('Value returned'),
    refunds: z.array(tenderView).describe('Per original tender; the parts sum to amount'),
    moneyToPayOut: z.string().describe('Cash, card and other tenders: what the POS pays back'),
    storedValueReturned: z.string(),
    pointsReturned: z.number().int(),
    pointsClawedBack: z.number().int(),
    pointsDebt: z.number().int().describe('Earned points that could not be clawed back (clamp policy)'),
    entryId: z.uuid().nullable(),
    balances: balancesSchema.nullable().describe('The member’s balances after; null for the return of a sale that named no member'),
    receipt: receiptLinkSchema,
    createdAt: z.string(),
  })
  .meta({ id: 'PurchaseReturn' })

export const purchaseQuoteSchema = z
  .object({
    memberId: z.uuid(),
    currency: z.string(),
    tierCode: z.string().nullable(),
    subtotal: z.string(),
    discounts: discountsSchema,
    discountTotal: z.string().describe('Line discounts plus order-level discounts'),
    total: z.string().describe('What the sale costs after line, tier and coupon discounts'),
    pointsEarned: z.number().int().describe('What the sale as sent would earn (0 for capture: false); when the tenders do not pay the total, as if money paid it all'),
    pointsRedeemed: z.number().int(),
    storedValueUsed: z.string(),
    canPay: z
      .object({
        points: z.object({
          available: z.number().int(),
          value: z.string().nullable().describe('Money value of the available points; null when points cannot pay in this program'),
        }),
        storedValue: z.object({ available: z.string() }),
      })
      .describe('What the member’s wallets can pay, read now (no hold is placed)'),
    refusals: z
      .array(problemSchema.omit({ requestId: true }).loose())
      .describe('Every problem the real call would give, as it would give them, in the order it checks them (it answers the first); empty: it would post'),
  })
  .meta({ id: 'PurchaseQuote' })

export type PurchaseCreate = z.output<typeof purchaseCreateSchema>
export type ReturnInput = z.output<typeof returnSchema>
