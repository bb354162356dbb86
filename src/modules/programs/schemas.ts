import { z } from 'zod'
import { countryCodeSchema, currencyCodeSchema, timezoneSchema } from '../../shared/schemas.js'
import { programScopeSchema } from '../../shared/scopes.js'

import { programRulesSchema } from './rules.js'

export const programCreateSchema = z
  .object({
    name: z.string().trim().min(1).max(200),
    currency: currencyCodeSchema.describe('ISO 4217; decides valid amounts (VND: whole dong, USD: cents). Fixed once created.'),
    timezone: timezoneSchema.default('Asia/Ho_Chi_Minh').describe('IANA zone for birthdays, days and months'),
    country: countryCodeSchema.default('VN').describe('Region for reading national-form phone numbers'),
    rules: programRulesSchema.prefault({}),
  })
  .strict()

export const programPatchSchema = z
  .object({
    name: z.string().trim().min(1).max(200).optional(),
    timezone: timezoneSchema.optional(),
    country: countryCodeSchema.optional(),
    rules: z
      .record(z.string(), z.unknown())
      .optional()
      .describe('Top-level keys given replace those keys of the current rules (JSON merge); the result is validated as ProgramRules'),
  })
  .strict()

export const programSchema = z
  .object({
    id: z.uuid(),
    name: z.string(),
    currency: z.string(),
    currencyExponent: z.number().int().describe('Digits after the decimal point in amounts of this currency'),
    timezone: z.string(),
    country: z.string(),
    rules: programRulesSchema,
    rulesEffectiveFrom: z.string().describe('Since when the current rules apply; earlier purchases use the rules of their time'),
    createdAt: z.string(),
    updatedAt: z.string(),
  })
  .meta({ id: 'Program' })

export const programParamsSchema = z.object({ programId: z.uuid() })

export const clientCreateSchema = z
  .object({
    name: z.string().trim().min(1).max(200),
    scopes: z.array(programScopeSchema).min(1).max(10),
  })
  .strict()

export const clientSchema = z
  .object({
    clientId: z.string(),
    name: z.string(),
    scopes: z.array(z.string()),
    createdAt: z.string(),
    revokedAt: z.string().nullable(),
  })
  .meta({ id: 'ApiClient' })

export const clientCreatedSchema = clientSchema
  .extend({ clientSecret: z.string().describe('Shown once; store it now. Only its hash is kept.') })
  .meta({ id: 'ApiClientCreated' })
