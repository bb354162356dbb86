import { z } from 'zod'
import { moneyText } from '../../shared/schemas.js'
import { PIN_PATTERN } from './codes.js'

const pin = z.string().regex(PIN_PATTERN, '4 to 8 digits')
const code = z.string().min(1).max(64).describe('The code printed on the card: 16 characters; spaces and hyphens are ignored, case too')
const storeId = z.string().trim().min(1).max(64)
const tender = z.enum(['cash', 'card', 'bank_transfer', 'e_wallet', 'other'])

export const giftCardCreateSchema = z
  .object({
    pin: pin.optional().describe('Asked for at every balance check and payment; kept only hashed'),
    initialValue: moneyText.optional().describe('Loaded at once, paid with `tender` at `storeId` (both then required)'),
    tender: tender.optional(),
    storeId: storeId.optional(),
    memberId: z.uuid().optional().describe('Attach the card to this member at once'),
  })
  .strict()
  .refine((b) => b.initialValue === undefined || (b.tender !== undefined && b.storeId !== undefined), { message: 'an initial value needs tender and storeId', path: ['initialValue'] })

export const giftCardBatchCreateSchema = z
  .object({
    count: z.number().int().min(1).max(500),
    initialValue: moneyText.optional().describe('Loaded on every card, paid with `tender` at `storeId` (both then required)'),
    tender: tender.optional(),
    storeId: storeId.optional(),
  })
  .strict()
  .refine((b) => b.initialValue === undefined || (b.tender !== undefined && b.storeId !== undefined), { message: 'an initial value needs tender and storeId', path: ['initialValue'] })

export const giftCardLoadSchema = z
  .object({
    amount: moneyText,
    tender,
    storeId,
    terminalId: z.string().trim().min(1).max(64).optional(),
    reference: z.string().trim().min(1).max(100).optional().describe('The POS or payment reference'),
  })
  .strict()

export const giftCardBalanceCheckSchema = z.object({ code, pin: pin.optional() }).strict()

export const giftCardAttachmentSchema = z.object({ memberId: z.uuid() }).strict()

export const giftCardBlockSchema = z
  .object({ reason: z.string().trim().min(1).max(200).describe('Why: lost, stolen, fraud suspected…; shown on the card') })
  .strict()

export const giftCardParamsSchema = z.object({ giftCardId: z.uuid() })

export const giftCardTenderSchema = z
  .object({ type: z.literal('giftCard'), code, pin: pin.optional(), amount: moneyText })
  .strict()
  .describe('Paid from a gift card: its code (and PIN when it has one); captured sales only')

export const giftCardSchema = z
  .object({
    id: z.uuid(),
    codeLast4: z.string().describe('The last four characters of the code; the whole code is shown once, when issued'),
    currency: z.string(),
    balance: z.string().describe('Decimal string in major units'),
    hasPin: z.boolean(),
    memberId: z.uuid().nullable().describe('The member the card is attached to; null: nobody'),
    attachedAt: z.string().nullable(),
    batchId: z.uuid().nullable(),
    createdAt: z.string(),
    status: z.enum(['active', 'blocked']).describe('blocked: it cannot pay, be loaded or be checked until unblocked (its value stays on it)'),
    blockedAt: z.string().nullable(),
    blockReason: z.string().nullable(),
  })
  .meta({ id: 'GiftCard' })

export const issuedGiftCardSchema = giftCardSchema.extend({ code: z.string().describe('Shown in this answer only (and its replay): the service keeps only a hash') }).meta({ id: 'IssuedGiftCard' })

export const giftCardBatchSchema = z
  .object({
    batchId: z.uuid(),
    count: z.number().int(),
    initialValue: z.string(),
    entryId: z.uuid().nullable().describe('The ledger entry that loaded the initial value on every card; null without one'),
    cards: z.array(z.object({ id: z.uuid(), code: z.string() })).describe('Every card with its code, shown in this answer only (and its replay)'),
    createdAt: z.string(),
  })
  .meta({ id: 'GiftCardBatch' })

export const giftCardLoadResultSchema = z
  .object({
    id: z.uuid().describe('The ledger entry of the load'),
    giftCardId: z.uuid(),
    amount: z.string(),
    tender: z.string(),
    storeId: z.string(),
    reference: z.string().nullable(),
    balance: z.string().describe("The card's balance after the load"),
    createdAt: z.string(),
  })
  .meta({ id: 'GiftCardLoad' })

export type GiftCardCreate = z.output<typeof giftCardCreateSchema>
export type GiftCardBatchCreate = z.output<typeof giftCardBatchCreateSchema>
export type GiftCardLoadCreate = z.output<typeof giftCardLoadSchema>
export type GiftCardBlock = z.output<typeof giftCardBlockSchema>
export type GiftCardView = z.output<typeof giftCardSchema>
export type IssuedGiftCard = z.output<typeof issuedGiftCardSchema>
