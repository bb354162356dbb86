import { z } from 'zod'
import { validationFailed, type FieldProblem } from '../../shared/errors.js'
import { currencyExponent, MAX_MINOR_UNITS, readAmount } from '../../shared/money.js'
import { notificationRulesProblems, notificationRulesSchema } from './notification-rules.js'

const amountText = z.string().regex(/^(0|[1-9][0-9]*)(\.[0-9]+)?$/, 'a decimal string in major units, e.g. "10000" or "1.50"')
const percentText = z.string().regex(/^(100|[1-9]?[0-9])(\.[0-9]{1,2})?$/, 'a percentage from 0 to 100, e.g. "5" or "2.5"')
const multiplierText = z.string().regex(/^(0|[1-9][0-9]{0,3})(\.[0-9]{1,4})?$/, 'a decimal multiplier, e.g. "2" or "1.5"')

/** Rules a program runs by. Versions are kept, so a purchase posted late earns by the rules of its time. */
export const programRulesSchema = z
  .object({
    earning: z
      .object({
        points: z.number().int().min(1).max(1_000_000).describe('Points earned per `per` of money paid'),
        per: amountText.describe('Money paid (major units) that earns `points`, e.g. "10000" VND'),
        rounding: z.enum(['down', 'half_up', 'up']).default('down').describe('Applied once per purchase'),
        excludedCategories: z.array(z.string().min(1).max(64)).max(200).default([]),
        categoryMultipliers: z.record(z.string().min(1).max(64), multiplierText).default({}),
      })
      .strict()
      .nullable()
      .default(null)
      .describe('Null: purchases earn no points'),
    pointValue: amountText.nullable().default(null).describe('Money value of one point when redeemed; null: points cannot pay'),
    redemption: z
      .object({
        minPoints: z.number().int().min(0).max(1_000_000_000).default(0).describe('Fewest points one purchase may redeem'),
        maxPoints: z.number().int().min(1).max(1_000_000_000).nullable().default(null).describe('Most points one purchase may redeem'),
      })
      .strict()
      .default({ minPoints: 0, maxPoints: null }),
    clawbackPolicy: z
      .enum(['clamp', 'negative_balance'])
      .default('clamp')
      .describe('Return of a purchase whose earned points were already spent: clamp takes what is there and records the rest as debt; negative_balance lets the balance go below zero'),
    holdMinutes: z.number().int().min(1).max(60 * 24 * 60).default(60 * 24 * 7).describe('How long an uncaptured (capture: false) purchase holds points and stored value'),
    offlineWindowHours: z.number().int().min(0).max(24 * 90).default(24 * 7).describe('How far in the past occurredAt may be (offline POS uploads)'),
    notifications: notificationRulesSchema,
    tiers: z
      .object({
        metric: z.enum(['spend', 'pointsEarned']).default('spend').describe('spend: money paid net of returns; pointsEarned: points earned net of clawbacks'),
        windowMonths: z.number().int().min(1).max(60).default(12).describe('Rolling window the metric is summed over, in the program time zone'),
        retentionMonths: z.number().int().min(0).max(60).default(12).describe('How long a tier is kept after qualifying before it is reviewed'),
        levels: z
          .array(
            z
              .object({
                code: z.string().regex(/^[a-z0-9_-]{1,32}$/, 'lowercase letters, digits, - and _'),
                name: z.string().trim().min(1).max(64),
                threshold: amountText.describe('Metric value that qualifies: money in major units for spend, points for pointsEarned; the first level is usually "0"'),
                earnMultiplier: multiplierText.default('1'),
                discountPercent: percentText.default('0').describe('Better price: taken off every purchase of a member in this tier'),
                birthdayBonusPoints: z.number().int().min(0).max(100_000_000).default(0),
              })
              .strict(),
          )
          .min(1)
          .max(20)
          .describe('Ordered from lowest to highest threshold'),
      })
      .strict()
      .nullable()
      .default(null)
      .describe('Null: the program has no tiers'),
    pointsExpiry: z
      .object({
        afterDays: z.number().int().min(1).max(3650).describe('Points expire this many days after the day they were earned (program time zone)'),
        roundUpTo: z.enum(['day', 'month', 'quarter', 'year']).default('day').describe('…then at the end of that day, month, quarter or year'),
        restoredGraceDays: z.number().int().min(0).max(3650).default(30).describe('Points given back by a return after their lot expired live this many days more'),
      })
      .strict()
      .nullable()
      .default(null)
      .describe('Null: points never expire'),
    birthday: z
      .object({
        bonusPoints: z.number().int().min(0).max(100_000_000).default(0).describe('Granted on the birthday, plus the tier’s birthdayBonusPoints'),
        couponCampaignId: z.uuid().nullable().default(null).describe('A coupon of this campaign is issued to the member on the birthday'),
      })
      .strict()
      .default({ bonusPoints: 0, couponCampaignId: null }),
    referral: z
      .object({
        referrerPoints: z.number().int().min(0).max(100_000_000),
        refereePoints: z.number().int().min(0).max(100_000_000),
      })
      .strict()
      .nullable()
      .default(null)
      .describe('Rewards when a referred member makes a first purchase; null: no referral rewards'),
  })
  .strict()
  .meta({ id: 'ProgramRules' })

export type ProgramRules = z.output<typeof programRulesSchema>

export const defaultRules = (): ProgramRules => programRulesSchema.parse({})

/** Rules already read, by the stored object: a program's row stays cached with its client (plugins/auth.ts). */
const read = new WeakMap<object, ProgramRules>()

/**
 * Reads rules stored as JSON, filling defaults for fields added after they were written. Parsed
 * once per stored object (parsing on every sale took 540 of the sale handler's 2,640 ms on the CPU
 * in a profile of test/bench/wal.ts): the result is shared, and nobody changes it.
 */
export function readRules(stored: unknown): ProgramRules {
  if (stored === null || typeof stored !== 'object') return programRulesSchema.parse(stored ?? {})
  let rules = read.get(stored)
  if (rules === undefined) {
    rules = programRulesSchema.parse(stored)
    read.set(stored, rules)
  }
  return rules
}

/** Money amounts in rules must be valid in the program currency ("10000.5" is not VND). */
export function assertRulesFitCurrency(rules: ProgramRules, currency: string, path = 'body/rules'): void {
  const exp = currencyExponent(currency) ?? 0
  const problems: FieldProblem[] = []
  const check = (value: string | null | undefined, at: string, positive = true) => {
    if (value === null || value === undefined) return
    const read = readAmount(value, exp, currency, { positive })
    if ('problem' in read) problems.push({ path: `${path}/${at}`, message: read.problem })
  }
  check(rules.earning?.per, 'earning/per')
  check(rules.pointValue, 'pointValue')
  if (rules.redemption.maxPoints !== null && rules.redemption.maxPoints < rules.redemption.minPoints) {
    problems.push({ path: `${path}/redemption/maxPoints`, message: 'must not be below minPoints' })
  }
  rules.tiers?.levels.forEach((level, i) => {
    if (rules.tiers!.metric === 'spend') check(level.threshold, `tiers/levels/${i}/threshold`, false)
    else if (!/^[0-9]+$/.test(level.threshold)) problems.push({ path: `${path}/tiers/levels/${i}/threshold`, message: 'a whole number of points' })
    else if (BigInt(level.threshold) > MAX_MINOR_UNITS) problems.push({ path: `${path}/tiers/levels/${i}/threshold`, message: 'too large' })
    const previous = rules.tiers!.levels[i - 1]
    if (previous && Number(level.threshold) <= Number(previous.threshold)) {
      problems.push({ path: `${path}/tiers/levels/${i}/threshold`, message: 'thresholds must increase from one level to the next' })
    }
  })
  const codes = rules.tiers?.levels.map((l) => l.code) ?? []
  if (new Set(codes).size !== codes.length) problems.push({ path: `${path}/tiers/levels`, message: 'tier codes must be unique' })
  problems.push(...notificationRulesProblems(rules.notifications, currency, `${path}/notifications`))
  if (problems.length > 0) throw validationFailed(problems.map((p) => `${p.path}: ${p.message}`).join('; '), problems)
}
