import { z } from 'zod'
import { MEASURE_UNITS } from '../../shared/quantity.js'
import { quantityAnswer } from '../../shared/schemas.js'

const money = z.string().describe('Decimal string in major units of the receipt currency')

export const receiptKinds = ['purchase', 'capture', 'void', 'return', 'top_up'] as const
export type ReceiptKind = (typeof receiptKinds)[number]

/**
 * The receipt document, modelled on the digital-receipt formats (ARTS Digital Receipt, OMG DRAPI):
 * business unit and workstation, receipt number, date-time, customer, lines, discounts, tax,
 * tenders with balances after, totals, loyalty. Stored as written and never changed; this is
 * what the JWS signs.
 */
export const receiptDocumentSchema = z
  .object({
    version: z.literal(1),
    id: z.uuid(),
    number: z.string().describe('Receipt number, unique in the program'),
    kind: z.enum(receiptKinds),
    status: z.enum(['completed', 'pending', 'voided']).describe('pending: amounts held, not yet charged (capture: false)'),
    language: z.enum(['vi', 'en']),
    program: z.object({ id: z.uuid(), name: z.string() }),
    store: z.object({ id: z.string() }),
    terminalId: z.string().nullable(),
    posReceiptNumber: z.string().nullable().describe('The receipt number the POS printed (purchase externalId)'),
    issuedAt: z.string().describe('When the receipt was issued (UTC)'),
    occurredAt: z.string().describe('When the transaction happened (UTC)'),
    localTime: z.string().describe('occurredAt on the program clock, as printed'),
    timezone: z.string(),
    currency: z.string(),
    member: z
      .object({ id: z.uuid(), phone: z.string().nullable().describe('Masked: first two and last three digits') })
      .nullable()
      .describe('null: a sale paid with gift cards and money that named no member (its points and stored value figures are then 0), or its return'),
    purchaseId: z.uuid().nullable(),
    returnId: z.uuid().nullable(),
    entryId: z.uuid().nullable().describe('The ledger entry of the transaction'),
    originalReceipt: z
      .object({ id: z.uuid(), number: z.string() })
      .nullable()
      .describe('A return, capture or void: the receipt of the sale it changes'),
    lines: z.array(
      z.object({
        line: z.number().int(),
        sku: z.string(),
        name: z.string(),
        quantity: quantityAnswer,
        unit: z.enum(MEASURE_UNITS).optional().describe('A line sold by measure: its unit (quantity is then a decimal string); absent: pieces'),
        unitPrice: money.describe('Per piece, or per unit of measure'),
        discount: money,
        amount: money,
        taxRate: z.string().nullable(),
      }),
    ),
    discounts: z.array(z.object({ type: z.string().describe('line, tier, coupon…'), label: z.string(), amount: money })),
    tax: z.object({
      pricesIncludeTax: z.literal(true),
      rates: z.array(z.object({ rate: z.string(), base: money.describe('Amount including the tax'), amount: money })),
      total: money,
    }),
    totals: z.object({
      subtotal: money,
      discount: money,
      total: money.describe('What the transaction moved: paid, refunded, loaded or released'),
      authorized: money.nullable().describe('A capture: what was authorised'),
    }),
    tenders: z.array(
      z.object({
        type: z.string(),
        amount: money,
        points: z.number().int().optional(),
        balanceAfter: money.optional().describe('Stored value left after this transaction'),
        pointsBalanceAfter: z.number().int().optional().describe('Points left after this transaction'),
      }),
    ),
    points: z.object({
      earned: z.number().int(),
      redeemed: z.number().int(),
      returned: z.number().int(),
      clawedBack: z.number().int(),
      debt: z.number().int(),
      balanceAfter: z.number().int().describe('Available points after the transaction'),
    }),
    storedValue: z.object({ used: money, returned: money, toppedUp: money, balanceAfter: money.describe('Available stored value after the transaction') }),
    tier: z
      .object({
        name: z.string(),
        next: z.object({ name: z.string(), remaining: z.string(), unit: z.enum(['points', 'money']) }).nullable(),
      })
      .nullable(),
    invoice: z
      .object({
        sellerTaxCode: z.string(),
        symbol: z.string().optional(),
        number: z.string(),
        lookupCode: z.string().optional(),
        lookupUrl: z.string().optional(),
      })
      .nullable()
      .describe('The merchant’s e-invoice, when the POS gave it; this receipt is not the invoice'),
    topUp: z.object({ tender: z.string(), reference: z.string().nullable() }).nullable(),
    note: z.string().nullable(),
  })
  .meta({ id: 'ReceiptDocument' })

export type ReceiptDocument = z.output<typeof receiptDocumentSchema>

export const receiptSchema = receiptDocumentSchema
  .extend({
    links: z.object({
      public: z.string().describe('Public HTML receipt, no authentication (the short link of the SMS)'),
      jws: z.string().describe('The signed receipt (compact JWS)'),
    }),
    sms: z.string().describe('The SMS text: one GSM-7 message of at most 160 characters'),
  })
  .meta({ id: 'Receipt' })

export const receiptParamsSchema = z.object({ receiptId: z.uuid() })

export const receiptQuerySchema = z
  .object({
    purchaseId: z.uuid().optional(),
    memberId: z.uuid().optional(),
    limit: z.coerce.number().int().min(1).max(200).default(50),
    cursor: z.string().max(200).optional(),
  })
  .strict()

export const receiptJwsSchema = z
  .object({
    receiptId: z.uuid(),
    jws: z.string().describe('Compact JWS (EdDSA or ES256): payload {iss, sub, iat, receipt}; verify with /.well-known/jwks.json'),
    kid: z.string(),
    alg: z.string(),
  })
  .meta({ id: 'ReceiptJws' })

export const publicTokenParamsSchema = z.object({ token: z.string().regex(/^[A-Za-z0-9_-]{16,64}$/) })
