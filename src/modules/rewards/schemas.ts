import { z } from 'zod'
import { cursorSchema, limitSchema } from '../../shared/pagination.js'
import { timestampSchema } from '../../shared/schemas.js'
import { balancesSchema } from '../ledger/schemas.js'

const points = z.number().int().min(1).max(1_000_000_000)
const units = z.number().int().min(0).max(1_000_000_000)
const sku = z.string().trim().min(1).max(64)

const givesCreateSchema = z.discriminatedUnion('kind', [
  z
    .object({
      kind: z.literal('coupon'),
      campaignId: z.uuid().describe('An active campaign with codeMode "unique": each redemption issues one of its codes to the member'),
    })
    .strict(),
  z
    .object({
      kind: z.literal('item'),
      sku: sku.describe('The free item the till hands over'),
      description: z.string().trim().min(1).max(500).optional(),
    })
    .strict(),
])

export const rewardCreateSchema = z
  .object({
    name: z.string().trim().min(1).max(200),
    pointsPrice: points.describe('Points a redemption takes (whole points); fixed once created'),
    stock: units.nullable().optional().describe('Units that can be redeemed; null or absent: unlimited'),
    validFrom: timestampSchema.optional().describe('Default now'),
    validTo: timestampSchema.nullable().optional().describe('Exclusive end; null or absent: no end'),
    maxPerMember: z.number().int().min(1).max(1_000_000).nullable().optional().describe('How many active redemptions one member may hold; null or absent: unlimited'),
    gives: givesCreateSchema.describe('What the member gets: a coupon issued to them, or a free item'),
  })
  .strict()

export const rewardUpdateSchema = z
  .object({
    name: z.string().trim().min(1).max(200).optional(),
    stock: units.nullable().optional().describe('Units left from now on; null: unlimited'),
    validFrom: timestampSchema.optional(),
    validTo: timestampSchema.nullable().optional().describe('Exclusive end; null: no end'),
    active: z.boolean().optional().describe('false: not redeemable (paused or retired); redemptions already made stay and can be cancelled'),
  })
  .strict()

export const rewardParamsSchema = z.object({ rewardId: z.uuid() })
export const memberRewardParamsSchema = z.object({ memberId: z.uuid(), rewardId: z.uuid() })
export const redemptionParamsSchema = z.object({ memberId: z.uuid(), redemptionId: z.uuid() })

export const rewardQuerySchema = z
  .object({ active: z.enum(['true', 'false']).optional().describe('Only active (true) or inactive (false) rewards'), limit: limitSchema, cursor: cursorSchema })
  .strict()

export const givesSchema = z
  .discriminatedUnion('kind', [
    z.object({ kind: z.literal('coupon'), campaignId: z.uuid() }),
    z.object({ kind: z.literal('item'), sku: z.string(), description: z.string().nullable() }),
  ])
  .meta({ id: 'RewardGives' })

export const rewardSchema = z
  .object({
    id: z.uuid(),
    name: z.string(),
    pointsPrice: z.number().int(),
    stock: z.number().int().nullable().describe('Units left; null: unlimited'),
    redemptions: z.number().int().describe('Active redemptions (a cancellation gives one back)'),
    validFrom: z.string(),
    validTo: z.string().nullable(),
    maxPerMember: z.number().int().nullable(),
    gives: givesSchema,
    active: z.boolean(),
    createdAt: z.string(),
    updatedAt: z.string(),
  })
  .meta({ id: 'Reward' })

export const availabilitySchema = z
  .enum(['available', 'not_enough_points', 'out_of_stock', 'limit_reached', 'not_started', 'ended', 'campaign_archived', 'campaign_ended'])
  .describe('available: the member can redeem it now; otherwise the first reason a redemption would be refused')

export const memberRewardSchema = z
  .object({
    reward: rewardSchema,
    availability: availabilitySchema,
    pointsShort: z.number().int().describe('Points the member lacks for it; 0 when affordable'),
    memberRedemptionsLeft: z.number().int().nullable().describe('Redemptions the member may still make; null: no limit per member'),
  })
  .meta({ id: 'MemberReward' })

export const memberRewardsQuerySchema = z
  .object({ all: z.enum(['true', 'false']).optional().describe('true: every active reward with its availability; default only the available ones') })
  .strict()

export const memberRewardsSchema = z
  .object({
    memberId: z.uuid(),
    pointsAvailable: z.number().int(),
    data: z.array(memberRewardSchema).describe('Cheapest first'),
  })
  .meta({ id: 'MemberRewards' })

export const redemptionSchema = z
  .object({
    id: z.uuid(),
    memberId: z.uuid(),
    reward: z.object({ id: z.uuid(), name: z.string().describe('The name when redeemed') }),
    points: z.number().int(),
    gives: z
      .discriminatedUnion('kind', [
        z.object({ kind: z.literal('coupon'), campaignId: z.uuid(), couponCode: z.string().describe('Issued to the member alone') }),
        z.object({ kind: z.literal('item'), sku: z.string(), description: z.string().nullable() }),
      ])
      .meta({ id: 'RewardGiven' }),
    status: z.enum(['active', 'cancelled']),
    entryId: z.uuid().describe('The reward_redemption ledger entry'),
    createdAt: z.string(),
    cancelledAt: z.string().nullable(),
    cancellationEntryId: z.uuid().nullable().describe('The reward_cancellation entry that gave the points back'),
  })
  .meta({ id: 'RewardRedemption' })

export const redemptionResultSchema = z
  .object({ redemption: redemptionSchema, balances: balancesSchema.describe('The member’s balances after') })
  .meta({ id: 'RewardRedemptionResult' })

export const redemptionsQuerySchema = z.object({ status: z.enum(['active', 'cancelled']).optional(), limit: limitSchema, cursor: cursorSchema }).strict()

export type RewardCreate = z.output<typeof rewardCreateSchema>
export type RewardUpdate = z.output<typeof rewardUpdateSchema>
export type RewardView = z.output<typeof rewardSchema>
export type RedemptionView = z.output<typeof redemptionSchema>
