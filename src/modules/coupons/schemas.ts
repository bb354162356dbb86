import { z } from 'zod'
import { cursorSchema, limitSchema } from '../../shared/pagination.js'
import { moneyText, timestampSchema } from '../../shared/schemas.js'

const limitCount = z.number().int().min(1).max(1_000_000_000)

export const campaignCreateSchema = z
  .object({
    name: z.string().trim().min(1).max(200),
    kind: z.enum(['percent', 'fixed']),
    value: z
      .string()
      .max(30)
      .describe('percent: a percentage above 0 and at most 100 with up to 2 decimals ("10", "12.5"); fixed: money in major units ("50000" VND)'),
    minSpend: moneyText.optional().describe('The purchase, after line and tier discounts, must reach this; default "0"'),
    validFrom: timestampSchema.optional().describe('Default now'),
    validTo: timestampSchema.nullable().optional().describe('Exclusive end; null or absent: no end'),
    maxUsesPerCode: limitCount.nullable().optional().describe('How often one code may be used (for a shared code: by everybody together); null: unlimited'),
    maxUsesPerMember: limitCount.nullable().optional().describe('How often one member may use the campaign; null: unlimited'),
    budget: moneyText.nullable().optional().describe('Total discount the campaign may give; a redemption that would exceed it is refused; null: no budget'),
    codeMode: z.enum(['shared', 'unique']).describe('shared: one code everybody types (sharedCode); unique: codes generated with POST .../codes'),
    sharedCode: z
      .string()
      .trim()
      .min(3)
      .max(32)
      .optional()
      .describe('The code of a shared campaign: letters, digits, - and _; matched in upper case; unique in the program'),
  })
  .strict()

export const campaignParamsSchema = z.object({ campaignId: z.uuid() })

export const campaignQuerySchema = z.object({ status: z.enum(['active', 'archived']).optional(), limit: limitSchema, cursor: cursorSchema }).strict()

export const campaignSchema = z
  .object({
    id: z.uuid(),
    name: z.string(),
    kind: z.enum(['percent', 'fixed']),
    value: z.string().describe('percent: the percentage; fixed: money in major units'),
    minSpend: z.string(),
    validFrom: z.string(),
    validTo: z.string().nullable(),
    maxUsesPerCode: z.number().int().nullable(),
    maxUsesPerMember: z.number().int().nullable(),
    budget: z.string().nullable(),
    budgetUsed: z.string(),
    budgetLeft: z.string().nullable(),
    redemptions: z.number().int().describe('Active redemptions (a full return or a void gives one back)'),
    codeMode: z.enum(['shared', 'unique']),
    sharedCode: z.string().nullable(),
    status: z.enum(['active', 'archived']),
    createdAt: z.string(),
    archivedAt: z.string().nullable(),
  })
  .meta({ id: 'CouponCampaign' })

export const codesCreateSchema = z
  .object({
    count: z.number().int().min(1).max(1000),
    memberId: z.uuid().optional().describe('Issue the codes to this member: nobody else can use them'),
    reason: z.string().trim().min(1).max(200).optional(),
  })
  .strict()

export const codesCreatedSchema = z.object({ campaignId: z.uuid(), codes: z.array(z.string()) }).meta({ id: 'CouponCodesIssued' })

export const couponCodeSchema = z
  .object({
    code: z.string(),
    campaignId: z.uuid(),
    memberId: z.uuid().nullable().describe('Issued to this member only; null: anybody'),
    uses: z.number().int(),
    maxUses: z.number().int().nullable(),
    issuedAt: z.string(),
    reason: z.string().nullable(),
  })
  .meta({ id: 'CouponCode' })

export const codesQuerySchema = z.object({ limit: limitSchema, cursor: cursorSchema }).strict()

export const lookupParamsSchema = z.object({ code: z.string().min(1).max(64) })
export const lookupQuerySchema = z.object({ memberId: z.uuid().optional().describe('Also say how often this member may still use it') }).strict()

export const couponLookupSchema = z
  .object({
    code: z.string(),
    campaign: campaignSchema,
    memberId: z.uuid().nullable().describe('Issued to this member only; null: anybody'),
    state: z
      .enum(['usable', 'archived', 'not_started', 'expired', 'used_up', 'budget_exhausted', 'not_for_member', 'member_limit_reached'])
      .describe('usable: a purchase may use it now, if it reaches minSpend (and the budget covers the discount)'),
    usesLeft: z.number().int().nullable().describe('Uses of this code left; null: unlimited'),
    memberUsesLeft: z.number().int().nullable().optional().describe('With ?memberId=: uses of the campaign left to that member; null: unlimited'),
    issuedAt: z.string(),
  })
  .meta({ id: 'CouponLookup' })

export type CampaignCreate = z.output<typeof campaignCreateSchema>
