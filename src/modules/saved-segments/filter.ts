// A saved segment's filter: what the service already computes about members (RFM segment,
// lifecycle stage, tier, days since the last purchase, birthday month, spend in a window,
// consent), all of them at once (AND). Pure: the schema, the checks that need the program, and
// the filter as SQL over `members m`; the I/O is in ./repository.ts.
import { sql, type SQL } from 'drizzle-orm'
import { z } from 'zod'
import { AppError, type FieldProblem } from '../../shared/errors.js'
import { parseMinorUnits, readAmount } from '../../shared/money.js'
import { moneyText } from '../../shared/schemas.js'
import { countedPurchases, daysBefore, ts } from '../segments/counted.js'
import { STAGES, stagesSql } from '../segments/lifecycle.js'
import { scoredMembersSql, SEGMENTS } from '../segments/rfm.js'

/** The longest look back of a day count (about 100 years). */
const MAX_DAYS = 36_500

const dayRange = z
  .object({
    min: z.number().int().min(0).max(MAX_DAYS).optional().describe('At least this many days (24-hour periods before the moment the segment is read)'),
    max: z.number().int().min(0).max(MAX_DAYS).optional().describe('At most this many days'),
  })
  .strict()

export const segmentFilterSchema = z
  .object({
    rfmSegments: z.array(z.enum(SEGMENTS)).min(1).max(SEGMENTS.length).optional().describe('Members in any of these RFM segments (members with no counted purchase are in none)'),
    lifecycleStages: z.array(z.enum(STAGES)).min(1).max(STAGES.length).optional().describe('Members in any of these lifecycle stages'),
    tiers: z
      .array(z.string().regex(/^[a-z0-9_-]{1,32}$/, 'a tier code'))
      .min(1)
      .max(21)
      .optional()
      .describe('Members holding any of these tier codes of the program’s rules; `none`: members without a tier'),
    daysSinceLastPurchase: dayRange.optional().describe('Whole days since the last counted purchase; members who never bought are left out'),
    birthdayMonths: z.array(z.number().int().min(1).max(12)).min(1).max(12).optional().describe('Members whose birthday falls in any of these months (1-12)'),
    spend: z
      .object({
        days: z.number().int().min(1).max(3650).describe('The window: the last this many days (24-hour periods)'),
        min: moneyText.optional().describe('Spent at least this much in the window (major units of the program currency), net of returns'),
        max: moneyText.optional().describe('Spent at most this much; members who spent nothing count as 0'),
      })
      .strict()
      .optional(),
    consent: z
      .object({ smsMarketing: z.boolean().optional(), emailMarketing: z.boolean().optional() })
      .strict()
      .optional()
      .describe('The marketing consents as recorded (campaign messages still check consent and Do-Not-Call when sent)'),
  })
  .strict()
  .describe('Every criterion given must hold (AND); an empty filter is every member not erased')
  .meta({ id: 'SegmentFilter' })

export type SegmentFilter = z.output<typeof segmentFilterSchema>

/** What the checks of a filter need of the program. */
export interface FilterContext {
  /** The tier codes of the program's rules; null: no tiers. */
  tierCodes: string[] | null
  currency: string
  exponent: number
}

export const NO_TIER = 'none'

export const filterInvalid = (problems: FieldProblem[]) =>
  new AppError(400, 'SEGMENT_FILTER_INVALID', 'Segment filter invalid', problems.map((p) => `${p.path}: ${p.message}`).join('; '), { errors: problems })

/** Pure: what the schema cannot see (ranges, the program's tiers, amounts in its currency); [] when the filter is good. */
export function filterProblems(filter: SegmentFilter, ctx: FilterContext, path = 'body/filter'): FieldProblem[] {
  const problems: FieldProblem[] = []
  const range = (at: string, r: { min?: number | bigint; max?: number | bigint }) => {
    if (r.min === undefined && r.max === undefined) problems.push({ path: at, message: 'give min, max or both' })
    else if (r.min !== undefined && r.max !== undefined && r.min > r.max) problems.push({ path: at, message: 'min is greater than max' })
  }
  if (filter.daysSinceLastPurchase) range(`${path}/daysSinceLastPurchase`, filter.daysSinceLastPurchase)
  if (filter.tiers) {
    if (ctx.tierCodes === null && filter.tiers.some((c) => c !== NO_TIER)) problems.push({ path: `${path}/tiers`, message: 'the program has no tiers' })
    else filter.tiers.forEach((c, i) => c !== NO_TIER && !ctx.tierCodes!.includes(c) && problems.push({ path: `${path}/tiers/${i}`, message: `no tier ${c} in the program’s rules` }))
  }
  if (filter.spend) {
    const amounts: { min?: bigint; max?: bigint } = {}
    for (const side of ['min', 'max'] as const) {
      const text = filter.spend[side]
      if (text === undefined) continue
      const read = readAmount(text, ctx.exponent, ctx.currency)
      if ('problem' in read) problems.push({ path: `${path}/spend/${side}`, message: read.problem })
      else amounts[side] = read.value
    }
    if (!problems.some((p) => p.path.startsWith(`${path}/spend/`))) range(`${path}/spend`, amounts)
  }
  return problems
}

/** Pure: refuses a filter with problems (400 SEGMENT_FILTER_INVALID listing each). */
export function checkFilter(filter: SegmentFilter, ctx: FilterContext): SegmentFilter {
  const problems = filterProblems(filter, ctx)
  if (problems.length > 0) throw filterInvalid(problems)
  return filter
}

const DAY_MS = 86_400_000
const list = (values: readonly (string | number)[]) => sql.join(values.map((v) => sql`${v}`), sql`, `)

/** The program fields the SQL needs. */
export interface FilterProgram {
  id: string
  timezone: string
  exponent: number
}

/**
 * Pure: each criterion of a checked filter as a condition on `members m`, as of `asOf`. The RFM
 * segments and stages are those of the members list and the analytics (src/modules/segments);
 * purchases count as they do there (completed, not wholly returned, net of returns).
 */
export function filterConditions(program: FilterProgram, filter: SegmentFilter, asOf: Date): SQL[] {
  const p = program.id
  const conditions: SQL[] = []
  if (filter.rfmSegments) {
    conditions.push(sql`m.id in (select member_id from (${scoredMembersSql(p, program.timezone, asOf)}) rfm where segment in (${list(filter.rfmSegments)}))`)
  }
  if (filter.lifecycleStages) {
    conditions.push(sql`m.id in (select member_id from (${stagesSql(p, asOf)}) s where stage in (${list(filter.lifecycleStages)}))`)
  }
  if (filter.tiers) {
    const codes = filter.tiers.filter((c) => c !== NO_TIER)
    const held = codes.length > 0 ? sql`m.id in (select member_id from member_tiers where program_id = ${p}::uuid and tier_code in (${list(codes)}))` : undefined
    const none = filter.tiers.includes(NO_TIER) ? sql`m.id not in (select member_id from member_tiers where program_id = ${p}::uuid)` : undefined
    conditions.push(held && none ? sql`(${held} or ${none})` : (held ?? none)!)
  }
  if (filter.daysSinceLastPurchase) {
    const { min, max } = filter.daysSinceLastPurchase
    // d whole days since the last purchase: asOf - (d+1) days < last <= asOf - d days.
    const having = [
      min !== undefined ? sql`max(occurred_at) <= ${ts(daysBefore(asOf, min))}` : undefined,
      max !== undefined ? sql`max(occurred_at) > ${ts(daysBefore(asOf, max + 1))}` : undefined,
    ].filter((c) => c !== undefined)
    conditions.push(sql`m.id in (select member_id from (${countedPurchases(p, asOf)}) c where member_id is not null group by member_id having ${sql.join(having, sql` and `)})`)
  }
  if (filter.birthdayMonths) {
    conditions.push(sql`extract(month from m.birthday)::int in (${list(filter.birthdayMonths)})`)
  }
  if (filter.spend) {
    const since = ts(new Date(asOf.getTime() - filter.spend.days * DAY_MS))
    const spent = sql`select member_id, sum(net) as spent from (${countedPurchases(p, asOf)}) c where member_id is not null and occurred_at >= ${since} group by member_id`
    const minor = (text: string) => parseMinorUnits(text, program.exponent)!.toString()
    const { min, max } = filter.spend
    // Members who spent nothing are at 0: inside a range from 0, outside one from more.
    if (min !== undefined && BigInt(minor(min)) > 0n) conditions.push(sql`m.id in (select member_id from (${spent}) s where spent >= ${minor(min)}::bigint)`)
    if (max !== undefined) conditions.push(sql`m.id not in (select member_id from (${spent}) s where spent > ${minor(max)}::bigint)`)
  }
  if (filter.consent?.smsMarketing !== undefined) conditions.push(sql`m.sms_marketing_consent = ${filter.consent.smsMarketing}`)
  if (filter.consent?.emailMarketing !== undefined) conditions.push(sql`m.email_marketing_consent = ${filter.consent.emailMarketing}`)
  return conditions
}

/** Pure: the ids (`member_id`) of the segment's members as of `asOf`: members enrolled before it, not erased, meeting every condition. */
export function segmentMembersSql(program: FilterProgram, filter: SegmentFilter, asOf: Date): SQL {
  const conditions = filterConditions(program, filter, asOf)
  return sql`select m.id as member_id from members m
     where m.program_id = ${program.id}::uuid and m.erased_at is null and m.created_at < ${ts(asOf)}
       ${conditions.length > 0 ? sql`and ${sql.join(conditions, sql` and `)}` : sql``}`
}
