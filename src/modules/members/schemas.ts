import { z } from 'zod'
import { cursorSchema, limitSchema } from '../../shared/pagination.js'
import { FIRST_SUPPORTED_DATE } from '../../shared/date-bounds.js'
import { timestampSchema } from '../../shared/schemas.js'
import { STAGES } from '../segments/lifecycle.js'
import { SEGMENTS } from '../segments/rfm.js'

const consentInputSchema = z
  .object({
    granted: z.boolean(),
    at: timestampSchema.optional().describe('When the member gave or withdrew consent; default now'),
  })
  .strict()

const consentsInputSchema = z
  .object({ smsMarketing: consentInputSchema.optional(), emailMarketing: consentInputSchema.optional() })
  .strict()

/** Today where the date is furthest ahead (UTC+14): a member born today anywhere is never refused. */
const latestToday = () => new Date(Date.now() + 14 * 3_600_000).toISOString().slice(0, 10)

const birthdaySchema = z.iso
  .date()
  .refine((d) => d >= FIRST_SUPPORTED_DATE && d <= latestToday(), `must be a date from ${FIRST_SUPPORTED_DATE} to today`)

const phoneInputSchema = z.string().trim().min(3).max(32).describe('E.164 (+84912345678) or national form of the program region (0912345678)')

export const memberCreateSchema = z
  .object({
    name: z.string().trim().min(1).max(200),
    phone: phoneInputSchema,
    email: z.email().max(254).optional(),
    birthday: birthdaySchema.optional(),
    externalId: z.string().trim().min(1).max(100).optional().describe('The retailer’s own customer id; unique in the program'),
    cardNumber: z.string().trim().min(1).max(64).optional().describe('Loyalty card number; unique in the program'),
    consents: consentsInputSchema.optional(),
    doNotContact: z.boolean().optional().describe('Never send marketing to this member (Do-Not-Call)'),
    referralCode: z.string().trim().min(1).max(32).optional().describe('The referral code of the member who referred this one (case-insensitive)'),
  })
  .strict()

export const memberPatchSchema = z
  .object({
    name: z.string().trim().min(1).max(200).optional(),
    phone: phoneInputSchema.optional(),
    email: z.email().max(254).nullable().optional(),
    birthday: birthdaySchema.nullable().optional(),
    externalId: z.string().trim().min(1).max(100).nullable().optional(),
    cardNumber: z.string().trim().min(1).max(64).nullable().optional(),
    consents: consentsInputSchema.optional(),
    doNotContact: z.boolean().optional(),
  })
  .strict()

const consentSchema = z.object({ granted: z.boolean(), at: z.string().nullable() })

/** A member as the members service renders it; the routes add the lifecycle stage. */
const memberRecordSchema = z.object({
  id: z.uuid(),
  name: z.string().nullable(),
  phone: z.string().nullable().describe('E.164'),
  email: z.string().nullable(),
  birthday: z.string().nullable(),
  externalId: z.string().nullable(),
  cardNumber: z.string().nullable(),
  consents: z.object({ smsMarketing: consentSchema, emailMarketing: consentSchema }),
  doNotContact: z.boolean(),
  createdAt: z.string(),
  updatedAt: z.string(),
  erasedAt: z.string().nullable().describe('Set once the member’s personal data was erased'),
  referralCode: z.string().describe('This member’s code for referring others'),
  referredBy: z.uuid().nullable().describe('The member who referred this one; null: not referred'),
})

export const memberSchema = memberRecordSchema
  .extend({
    lifecycleStage: z.enum(STAGES).describe('new, growing, mature, declining or lapsed, from recency and frequency of purchases (see docs/finance.md)'),
  })
  .meta({ id: 'Member' })

export const memberParamsSchema = z.object({ memberId: z.uuid() })

export const memberQuerySchema = z
  .object({
    phone: z.string().trim().min(3).max(32).optional(),
    externalId: z.string().max(100).optional(),
    cardNumber: z.string().max(64).optional(),
    segment: z.enum(SEGMENTS).optional().describe('Members in this RFM segment now (GET /v1/analytics/rfm)'),
    stage: z.enum(STAGES).optional().describe('Members in this lifecycle stage now'),
    limit: limitSchema,
    cursor: cursorSchema,
  })
  .strict()

export type MemberCreate = z.output<typeof memberCreateSchema>
export type MemberPatch = z.output<typeof memberPatchSchema>
export type MemberView = z.output<typeof memberRecordSchema>
