import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod'
import { inSnapshot } from '../../db/snapshot.js'
import { programOf } from '../../plugins/auth.js'
import { bearer } from '../../plugins/openapi.js'
import { boundEnd, resolvePeriod } from '../../shared/period.js'
import { commonErrors, problemSchema } from '../../shared/schemas.js'
import { currencyExponent, formatMinorUnits } from '../../shared/money.js'
import { npsCounts } from '../surveys/repository.js'
import { npsView } from '../surveys/nps.js'
import { assertCohortRange, cohortCells, cohortTable } from './cohorts.js'
import { ratio } from '../segments/counted.js'
import { lifecycleCounts, STAGES } from '../segments/lifecycle.js'
import { rfmReport } from '../segments/rfm.js'
import { asOfQuerySchema, cohortsQuerySchema, cohortsSchema, lifecycleSchema, npsSchema, periodQuerySchema, rfmSchema, summaryQuerySchema, summarySchema } from './schemas.js'
import { analyticsSummary } from './summary.js'

const tags = ['analytics']
const FINANCE = ['finance:read'] as const

/** Every report reads one snapshot, so its figures agree with each other. */
const analyticsRoutes: FastifyPluginAsyncZod = async (app) => {
  const database = app.db

  app.get('/v1/analytics/summary', {
    schema: { operationId: 'getAnalyticsSummary', description: 'Members, customers, retention and churn, revenue, transaction value, frequency, lifetime value, top 20%, tenure and outstanding balances over a period.', 'x-problems': { 422: ['RANGE_TOO_LONG'] },
      tags,
      summary: 'Members, customers, retention and churn, revenue, transaction value, frequency, lifetime value, top 20%, tenure and outstanding balances',
      security: bearer,
      querystring: summaryQuerySchema,
      response: { 200: summarySchema, ...commonErrors },
    },
    preHandler: app.authorize(FINANCE),
    handler: async (request) => {
      const program = programOf(request)
      const period = resolvePeriod(request.query, program.timezone)
      return inSnapshot(database, (tx) => analyticsSummary(tx, program, period, request.query.activeDays))
    },
  })

  app.get('/v1/analytics/cohorts', {
    schema: { operationId: 'getCohorts', description: 'Retention cohorts: members by month (quarter, year) of first purchase and the share active in each later period.', 'x-problems': { 422: ['RANGE_TOO_LONG'] },
      tags,
      summary: 'Retention cohorts: members by month (quarter, year) of first purchase, % active in each later one',
      security: bearer,
      querystring: cohortsQuerySchema,
      response: { 200: cohortsSchema, ...commonErrors, 422: problemSchema },
    },
    preHandler: app.authorize(FINANCE),
    handler: async (request) => {
      const program = programOf(request)
      const period = resolvePeriod(request.query, program.timezone)
      const { by } = request.query
      assertCohortRange(period, program.timezone, by)
      const { cells, lastBucket } = await inSnapshot(database, (tx) => cohortCells(tx, program.id, program.timezone, period, by))
      return { by, from: period.from.toISOString(), to: period.to.toISOString(), cohorts: cohortTable(cells, lastBucket, by) }
    },
  })

  app.get('/v1/analytics/rfm', {
    schema: { operationId: 'getRfm', description: 'RFM quintile scores and the number of members in each named segment; list a segment with GET /v1/members?segment=.',
      tags,
      summary: 'RFM quintile scores and the members in each named segment (list them with GET /v1/members?segment=)',
      security: bearer,
      querystring: asOfQuerySchema,
      response: { 200: rfmSchema, ...commonErrors },
    },
    preHandler: app.authorize(FINANCE),
    handler: async (request) => {
      const program = programOf(request)
      const asOf = request.query.asOf ? boundEnd(request.query.asOf, program.timezone) : new Date()
      const report = await inSnapshot(database, (tx) => rfmReport(tx, program.id, program.timezone, asOf))
      const exp = currencyExponent(program.currency) ?? 0
      return {
        asOf: asOf.toISOString(),
        members: report.total,
        segments: report.segments.map((s) => ({ ...s, share: ratio(s.members, report.total) })),
        scores: {
          recency: report.recency,
          frequency: report.frequency,
          monetary: report.monetary.map((b) => ({ ...b, min: formatMinorUnits(BigInt(b.min), exp), max: formatMinorUnits(BigInt(b.max), exp) })),
        },
      }
    },
  })

  app.get('/v1/analytics/lifecycle', {
    schema: { operationId: 'getLifecycle', description: 'The number of members per lifecycle stage (new, growing, mature, declining, lapsed).',
      tags,
      summary: 'Members per lifecycle stage (new, growing, mature, declining, lapsed)',
      security: bearer,
      querystring: asOfQuerySchema,
      response: { 200: lifecycleSchema, ...commonErrors },
    },
    preHandler: app.authorize(FINANCE),
    handler: async (request) => {
      const program = programOf(request)
      const asOf = request.query.asOf ? boundEnd(request.query.asOf, program.timezone) : new Date()
      const counts = await lifecycleCounts(database.db, program.id, asOf)
      const total = STAGES.reduce((sum, s) => sum + counts[s], 0)
      return { asOf: asOf.toISOString(), members: total, stages: STAGES.map((stage) => ({ stage, members: counts[stage], share: ratio(counts[stage], total) })) }
    },
  })

  app.get('/v1/analytics/nps', {
    schema: { operationId: 'getNetPromoterScore', description: 'The Net Promoter Score of the answers in the period, with its trend by month.', 'x-problems': { 422: ['RANGE_TOO_LONG'] },
      tags,
      summary: 'Net Promoter Score of the answers in the period, with its trend by month',
      security: bearer,
      querystring: periodQuerySchema,
      response: { 200: npsSchema, ...commonErrors },
    },
    preHandler: app.authorize(FINANCE),
    handler: async (request) => {
      const program = programOf(request)
      const period = resolvePeriod(request.query, program.timezone)
      const rows = await npsCounts(database.db, program.id, program.timezone, period)
      const total = rows.find((r) => r.month === null)?.counts ?? { promoters: 0, passives: 0, detractors: 0 }
      return {
        from: period.from.toISOString(),
        to: period.to.toISOString(),
        ...npsView(total),
        trend: rows.filter((r) => r.month !== null).map((r) => ({ month: r.month!, ...npsView(r.counts) })),
      }
    },
  })
}

export default analyticsRoutes
