import { z } from 'zod'
import { validationFailed, type FieldProblem } from '../../shared/errors.js'
import { currencyExponent, parseMinorUnits } from '../../shared/money.js'

const amountText = z.string().regex(/^(0|[1-9][0-9]*)(\.[0-9]+)?$/, 'a decimal string in major units, e.g. "10000" or "1.50"')
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
  })
  .strict()
  .meta({ id: 'ProgramRules' })

export type ProgramRules = z.output<typeof programRulesSchema>

export const defaultRules = (): ProgramRules => programRulesSchema.parse({})

/** Reads rules stored as JSON, filling defaults for fields added after they were written. */
export const readRules = (stored: unknown): ProgramRules => programRulesSchema.parse(stored ?? {})

/** Money amounts in rules must be valid in the program currency ("10000.5" is not VND). */
export function assertRulesFitCurrency(rules: ProgramRules, currency: string, path = 'body/rules'): void {
  const exp = currencyExponent(currency) ?? 0
  const problems: FieldProblem[] = []
  const check = (value: string | null | undefined, at: string, positive = true) => {
    if (value === null || value === undefined) return
    const minor = parseMinorUnits(value, exp)
    if (minor === undefined) problems.push({ path: `${path}/${at}`, message: `not a valid ${currency} amount (${exp} decimals)` })
    else if (positive && minor <= 0n) problems.push({ path: `${path}/${at}`, message: 'must be greater than zero' })
  }
  check(rules.earning?.per, 'earning/per')
  check(rules.pointValue, 'pointValue')
  if (rules.redemption.maxPoints !== null && rules.redemption.maxPoints < rules.redemption.minPoints) {
    problems.push({ path: `${path}/redemption/maxPoints`, message: 'must not be below minPoints' })
  }
  if (problems.length > 0) throw validationFailed(problems.map((p) => `${p.path}: ${p.message}`).join('; '), problems)
}
