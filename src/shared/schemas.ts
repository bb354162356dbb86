import { z } from 'zod'
import { isSupportedCountry } from 'libphonenumber-js/max'
import { isSupportedInstant, SUPPORTED_RANGE_TEXT } from './date-bounds.js'
import { isSupportedCurrency } from './money.js'

export const uuidSchema = z.uuid()

/** An amount as the API takes it: a non-negative decimal in major units (the currency's exponent is checked where it is parsed). */
export const moneyText = z
  .string()
  .max(30)
  .regex(/^(0|[1-9][0-9]*)(\.[0-9]+)?$/, 'a non-negative decimal string in major units, e.g. "125000" or "12.34"')

export const currencyCodeSchema = z
  .string()
  .refine(isSupportedCurrency, 'must be an ISO 4217 currency code with a minor unit, e.g. VND or USD')

/**
 * The zone as the caller named it. ICU resolves a name to CLDR's older canonical id
 * (Asia/Ho_Chi_Minh to Asia/Saigon, Europe/Kyiv to Europe/Kiev), which is not what the caller sent
 * nor what the IANA database calls canonical, so only the letter case is taken from ICU.
 */
function ianaSpelling(tz: string): string {
  const resolved = new Intl.DateTimeFormat('en', { timeZone: tz }).resolvedOptions().timeZone
  return resolved.toLowerCase() === tz.toLowerCase() ? resolved : tz
}

export const timezoneSchema = z
  .string()
  .max(64)
  .refine((tz) => {
    try {
      new Intl.DateTimeFormat('en', { timeZone: tz })
      return true
    } catch {
      return false
    }
  }, 'must be an IANA time zone, e.g. Asia/Ho_Chi_Minh')
  .transform(ianaSpelling)
  .describe('IANA time zone, kept as given (Asia/Ho_Chi_Minh stays Asia/Ho_Chi_Minh); only its letter case is corrected')

export const countryCodeSchema = z
  .string()
  .refine((c) => /^[A-Z]{2}$/.test(c) && isSupportedCountry(c), 'must be an ISO 3166-1 alpha-2 region code, e.g. VN')

/** An ISO 8601 instant with offset, in the supported years (UTC). */
export const timestampSchema = z.iso
  .datetime({ offset: true })
  .refine((at) => isSupportedInstant(new Date(at)), `must be ${SUPPORTED_RANGE_TEXT} (UTC)`)

/** Response timestamps are ISO 8601 in UTC. */
export const isoTimestamp = (d: Date | string) => (d instanceof Date ? d : new Date(d)).toISOString()

export const listOf = <T extends z.ZodType>(item: T) =>
  z.object({
    data: z.array(item),
    nextCursor: z.string().nullable().describe('Pass as `cursor` to get the next page; null on the last page'),
  })

export const problemSchema = z
  .object({
    type: z.string(),
    title: z.string(),
    status: z.number().int(),
    detail: z.string(),
    code: z.string().describe('Stable machine-readable error code'),
    requestId: z.string(),
    errors: z.array(z.object({ path: z.string(), message: z.string() })).optional(),
  })
  .meta({ id: 'Problem', description: 'RFC 9457 problem details (application/problem+json)' })

/** The error responses every authenticated endpoint can give, for the OpenAPI document. */
export const commonErrors = {
  400: problemSchema,
  401: problemSchema,
  403: problemSchema,
  404: problemSchema,
}
