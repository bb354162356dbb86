import { z } from 'zod'
import { isSupportedCountry } from 'libphonenumber-js/max'
import { isSupportedInstant, SUPPORTED_RANGE_TEXT } from './date-bounds.js'
import { isSupportedCurrency } from './money.js'
import { MAX_QUANTITY, QUANTITY_TEXT, readQuantity } from './quantity.js'

export const uuidSchema = z.uuid()

/** An amount as the API takes it: a non-negative decimal in major units (the currency's exponent is checked where it is parsed). */
export const moneyText = z
  .string()
  .max(30)
  .regex(/^(0|[1-9][0-9]*)(\.[0-9]+)?$/, 'a non-negative decimal string in major units, e.g. "125000" or "12.34"')

/**
 * A line's quantity as the API takes it: a whole number of pieces as always, or, for a good sold by
 * measure, a number or decimal string with up to three decimals ("0.375"). Read exactly (src/shared/quantity.ts).
 */
export const quantityInput = z
  .union(
    [
      z.number().gt(0, 'must be greater than zero').max(MAX_QUANTITY, `at most ${MAX_QUANTITY}`),
      z.string().max(20).regex(QUANTITY_TEXT, 'a positive decimal with at most 3 decimals, e.g. "0.375"'),
    ],
    { error: 'a number, or a decimal string such as "0.375"' },
  )
  .superRefine((value, ctx) => {
    // What the branches let through and readQuantity does not: a fourth decimal on a number, "0", past the maximum as text.
    const passed = typeof value === 'number' ? value > 0 && value <= MAX_QUANTITY : QUANTITY_TEXT.test(value)
    const read = readQuantity(value)
    if (passed && 'problem' in read) ctx.addIssue({ code: 'custom', message: read.problem })
  })
  .describe(`Greater than 0, at most ${MAX_QUANTITY}: whole pieces (2), or with a unit of measure up to 3 decimals, as a number or a decimal string (0.375 or "0.375")`)

/** A quantity as the API answers it: pieces as a whole number, a line sold by measure as a decimal string. */
export const quantityAnswer = z
  .union([z.number().int().min(0), z.string().regex(/^(0|[1-9][0-9]*)(\.[0-9]{1,3})?$/)])
  .describe('Pieces: a whole number. A line sold by measure (with `unit`): a decimal string with up to 3 decimals, e.g. "0.375"')

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

const lists = new WeakMap<z.ZodType, z.ZodType>()

/** A page of items; named `<Item>List` in the document when the item is named (one instance per item). */
export const listOf = <T extends z.ZodType>(item: T) => {
  const known = lists.get(item)
  if (known) return known as ReturnType<typeof pageOf<T>>
  const list = pageOf(item)
  const id = z.globalRegistry.get(item)?.id
  if (id) named(list, `${id}List`)
  lists.set(item, list)
  return list
}

const pageOf = <T extends z.ZodType>(item: T) =>
  z.object({
    data: z.array(item),
    nextCursor: z.string().nullable().describe('Pass as `cursor` to get the next page; null on the last page'),
  })

const fieldProblemSchema = z.object({ path: z.string(), message: z.string() })

/**
 * RFC 9457 problem details. Open to extension members: the documented ones below are what the
 * service adds to some codes today, and a client must ignore any other member it does not know.
 */
export const problemSchema = z
  .looseObject({
    type: z.string().describe('`/problems/<code in kebab-case>`, relative to the API origin'),
    title: z.string(),
    status: z.number().int(),
    detail: z.string(),
    code: z.string().describe('Stable machine-readable error code (UPPER_SNAKE)'),
    requestId: z.string().describe('The request id, also in the `x-request-id` header'),
    errors: z.array(fieldProblemSchema).optional().describe('VALIDATION_FAILED, SEGMENT_FILTER_INVALID, INVALID_AS_OF, AS_OF_*: each offending field and why'),
    field: z.string().optional().describe('CONFLICT on a member: the unique field another member already has (phone, email, externalId, cardNumber)'),
    total: z.string().optional().describe('TENDERS_DO_NOT_MATCH_TOTAL: the purchase total, minor units'),
    tendered: z.string().optional().describe('TENDERS_DO_NOT_MATCH_TOTAL: what the tenders add up to, minor units'),
    asset: z.string().optional().describe('INSUFFICIENT_FUNDS: `POINTS` or the stored-value currency'),
    requiredScopes: z.array(z.string()).optional().describe('FORBIDDEN for a missing scope: the scopes the operation accepts (any one)'),
    retryAfterSeconds: z.number().int().optional().describe('RATE_LIMITED: seconds until the window resets (also `Retry-After`)'),
    offered: z.array(z.string()).optional().describe('NOT_ACCEPTABLE: the media types the resource is available as'),
    holdStatus: z.string().optional().describe('HOLD_ALREADY_RESOLVED: what the hold already is (captured, voided, expired)'),
    couponCode: z.string().optional().describe('COUPON_*: the coupon code refused'),
    reason: z.string().optional().describe('COUPON_NOT_ACTIVE: archived, not_started or expired; REWARD_NOT_AVAILABLE, REWARD_CAMPAIGN_UNUSABLE: why'),
    rewardId: z.uuid().optional().describe('REWARD_*: the reward refused'),
    minSpend: z.string().optional().describe('COUPON_MIN_SPEND_NOT_MET: the minimum spend, major units'),
    minPoints: z.number().int().optional().describe('REDEMPTION_BELOW_MINIMUM: the fewest points redeemable at once'),
    maxPoints: z.number().int().optional().describe('REDEMPTION_ABOVE_MAXIMUM: the most points redeemable on one purchase'),
    line: z.number().int().optional().describe('Refusals about one sale line: its 1-based position'),
    today: z.string().optional().describe('AS_OF_IN_FUTURE: today in the program’s time zone'),
    now: z.string().optional().describe('AS_OF_IN_FUTURE: the service’s current instant'),
    programCreatedOn: z.string().optional().describe('AS_OF_BEFORE_PROGRAM: the local date the program was created'),
    importId: z.uuid().optional().describe('IMPORT_TOO_LARGE, IMPORT_MALFORMED, and IDEMPOTENCY_CONFLICT of a member import: the import (GET /v1/member-imports/{importId})'),
    rowsRead: z.number().int().optional().describe('IMPORT_TOO_LARGE, IMPORT_MALFORMED: the rows imported before the import stopped'),
    error: z.string().optional().describe('Token endpoint: the RFC 6749 error code (invalid_client, invalid_request, ...)'),
  })
  .meta({ id: 'Problem', description: 'RFC 9457 problem details (application/problem+json), open to extension members' })

/** The error responses every authenticated endpoint can give, for the OpenAPI document. */
export const commonErrors = {
  400: problemSchema,
  401: problemSchema,
  403: problemSchema,
  404: problemSchema,
}

/**
 * Names `schema` in the OpenAPI document (`components.schemas`, with `Input` appended to the
 * request form) without cloning it, as `.meta({ id })` would: routes keep the same instance and
 * the metadata it already has (its description) is kept.
 */
export function named<T extends z.ZodType>(schema: T, id: string): T {
  z.globalRegistry.add(schema, { ...z.globalRegistry.get(schema), id })
  return schema
}
