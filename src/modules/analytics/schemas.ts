import { z } from 'zod'
import { periodBoundSchema } from '../../shared/period.js'
import { STAGES } from '../segments/lifecycle.js'
import { SEGMENTS } from '../segments/rfm.js'

const money = z.string().describe('Decimal string in major units of the program currency')
const rate = z.number().nullable().describe('A ratio (0.25 = 25%), 4 decimals; null when its denominator is zero')

export const periodQuerySchema = z.object({ from: periodBoundSchema, to: periodBoundSchema }).strict()

export const summaryQuerySchema = periodQuerySchema
  .extend({
    activeDays: z.coerce
      .number()
      .int()
      .min(1)
      .max(3660)
      .default(365)
      .describe('A customer is active at an instant after a purchase in this many days before it (stretched to the period when shorter)'),
  })
  .strict()

export const cohortsQuerySchema = periodQuerySchema
  .extend({ by: z.enum(['month', 'quarter', 'year']).default('month').describe('Calendar buckets of the program time zone') })
  .strict()

export const asOfQuerySchema = z.object({ asOf: periodBoundSchema.optional().describe('Default now; a date means the end of that day') }).strict()

const share = z.object({ customers: z.number().int(), share: rate })

/** Present only on an answer served from the nightly snapshot (job analytics-snapshot, docs/finance.md). */
const snapshot = z
  .object({
    asOf: z.string().describe('The moment the figures describe: when the job ran'),
    takenAt: z.string().describe('When the snapshot was stored'),
  })
  .optional()
  .describe('Served from the nightly snapshot (absent: computed live for this request)')

export const summarySchema = z
  .object({
    from: z.string(),
    to: z.string(),
    currency: z.string(),
    activeWindowDays: z.number().int(),
    members: z.object({ total: z.number().int().describe('Enrolled before `to`'), enrolled: z.number().int().describe('Enrolled in the period') }),
    customers: z.object({
      active: z.number().int().describe('Members with a purchase in the period'),
      new: z.number().int().describe('Members whose first purchase ever is in the period'),
      atStart: z.number().int().describe('Customers at `from`: a purchase in the active window before it'),
      atEnd: z.number().int().describe('Customers at `to`'),
    }),
    retentionRate: rate.describe('(atEnd - new) / atStart'),
    churnRate: rate.describe('1 - retentionRate'),
    purchases: z.number().int(),
    revenue: money.describe('Totals of the period’s purchases net of their returns'),
    averageTransactionValue: money.nullable(),
    purchaseFrequency: rate.describe('Purchases per active customer in the period'),
    lifetimeValue: z.object({
      historic: money.nullable().describe('Average order value x purchases per customer: revenue of all time to `to` per customer'),
      averageOrderValue: money.nullable(),
      purchasesPerCustomer: rate,
      customers: z.number().int(),
    }),
    topCustomers: z
      .object({ customers: z.number().int(), revenue: money, share: rate })
      .describe('The top 20% of the period’s active customers by revenue (rounded up) and their share of revenue (Pareto)'),
    tenure: z
      .object({ customers: z.number().int(), oneYearOrMore: share, twoYearsOrMore: share, fiveYearsOrMore: share })
      .describe('Customers at `to` by time since their first purchase'),
    outstanding: z.object({
      points: z.number().int().describe('Points members hold at `to`'),
      pointsValue: money.nullable().describe('At the point value in force at `to`'),
      storedValue: money,
    }),
    snapshot,
  })
  .meta({ id: 'AnalyticsSummary' })

export const cohortsSchema = z
  .object({
    by: z.enum(['month', 'quarter', 'year']),
    from: z.string(),
    to: z.string(),
    cohorts: z.array(
      z.object({
        cohort: z.string().describe('2025-01, 2025-Q1 or 2025'),
        startsOn: z.string(),
        members: z.number().int().describe('Members whose first purchase is in this bucket'),
        retention: z.array(z.object({ offset: z.number().int(), period: z.string(), active: z.number().int(), rate })),
      }),
    ),
    snapshot,
  })
  .meta({ id: 'Cohorts' })

const band = z.object({ score: z.number().int(), members: z.number().int(), min: z.string(), max: z.string() })

export const rfmSchema = z
  .object({
    asOf: z.string(),
    members: z.number().int().describe('Members with at least one purchase, all scored'),
    segments: z.array(z.object({ segment: z.enum(SEGMENTS), members: z.number().int(), share: rate })),
    scores: z.object({
      recency: z.array(band).describe('Days since the last purchase per score (5 = most recent)'),
      frequency: z.array(band).describe('Purchases per score'),
      monetary: z.array(band).describe('Revenue per score, in major units'),
    }),
    snapshot,
  })
  .meta({ id: 'Rfm' })

const npsFigures = {
  responses: z.number().int(),
  promoters: z.number().int(),
  passives: z.number().int(),
  detractors: z.number().int(),
  nps: z.number().nullable().describe('% promoters - % detractors, -100 to 100, 2 decimals; null without answers'),
}

export const npsSchema = z
  .object({ from: z.string(), to: z.string(), ...npsFigures, trend: z.array(z.object({ month: z.string(), ...npsFigures })) })
  .meta({ id: 'NetPromoterScore' })

export const lifecycleSchema = z
  .object({
    asOf: z.string(),
    members: z.number().int(),
    stages: z.array(z.object({ stage: z.enum(STAGES), members: z.number().int(), share: rate })),
    snapshot,
  })
  .meta({ id: 'Lifecycle' })
