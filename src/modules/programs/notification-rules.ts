import { z } from 'zod'
import type { FieldProblem } from '../../shared/errors.js'
import { currencyExponent, readAmount } from '../../shared/money.js'

const amountText = z.string().regex(/^(0|[1-9][0-9]*)(\.[0-9]+)?$/, 'a decimal string in major units, e.g. "50000" or "5.00"')
const multiplierText = z.string().regex(/^(0|[1-9][0-9]{0,3})(\.[0-9]{1,4})?$/, 'a decimal multiplier, e.g. "5" or "2.5"')
const clockTime = z.string().regex(/^([01][0-9]|2[0-3]):[0-5][0-9]$/, 'a local time HH:MM, e.g. "07:00"')

/**
 * Customer-care settings of a program (rules key `notifications`). Every field is optional;
 * the marketing defaults are those of Vietnam's anti-spam decree 91/2020 (at most 3 advertising
 * messages per number per 24 h, sent 07:00-22:00 local time).
 */
export const notificationRulesSchema = z
  .object({
    lowStoredValue: amountText
      .nullable()
      .default(null)
      .describe('storedValue.low is emitted when a member’s available stored value falls below this amount (once per crossing); null: never'),
    unusualPurchase: z
      .object({
        above: amountText.nullable().default(null).describe('A purchase total above this amount is unusual; null: no absolute limit'),
        timesAverage: multiplierText
          .nullable()
          .default('5')
          .describe('A purchase total above this multiple of the member’s average purchase is unusual; null: no such check'),
        minPurchases: z.number().int().min(1).max(1000).default(5).describe('Purchases the member needs before their average is trusted'),
        lookback: z.number().int().min(1).max(200).default(20).describe('The average is over this many latest completed purchases'),
        action: z.enum(['flag', 'hold']).default('flag').describe('flag: the purchase posts and purchase.unusual is emitted; hold: it is held for review as well'),
      })
      .strict()
      .prefault({}),
    marketing: z
      .object({
        maxPer24Hours: z.number().int().min(0).max(100).default(3).describe('Marketing events per member in any 24 hours; more wait for a free slot'),
        sendFrom: clockTime.default('07:00').describe('Marketing events are sent from this local time…'),
        sendUntil: clockTime.default('22:00').describe('…until this local time; outside it they are queued'),
      })
      .strict()
      .prefault({}),
  })
  .strict()
  .prefault({})
  .meta({ id: 'NotificationRules', description: 'Customer care: low stored value warning, unusual purchases, marketing limits' })

export type NotificationRules = z.output<typeof notificationRulesSchema>

export const defaultNotificationRules = (): NotificationRules => notificationRulesSchema.parse(undefined)

/** Amounts in the settings must be valid in the program currency. */
export function notificationRulesProblems(rules: NotificationRules, currency: string, path: string): FieldProblem[] {
  const exp = currencyExponent(currency) ?? 0
  const problems: FieldProblem[] = []
  for (const [value, at] of [
    [rules.lowStoredValue, 'lowStoredValue'],
    [rules.unusualPurchase.above, 'unusualPurchase/above'],
  ] as const) {
    if (value === null) continue
    const read = readAmount(value, exp, currency, { positive: true })
    if ('problem' in read) problems.push({ path: `${path}/${at}`, message: read.problem })
  }
  if (rules.unusualPurchase.timesAverage !== null && Number(rules.unusualPurchase.timesAverage) <= 1) {
    problems.push({ path: `${path}/unusualPurchase/timesAverage`, message: 'must be greater than 1' })
  }
  if (rules.marketing.sendFrom === rules.marketing.sendUntil) {
    problems.push({ path: `${path}/marketing/sendUntil`, message: 'the sending window must not be empty' })
  }
  return problems
}
