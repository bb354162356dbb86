import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod'
import { inSnapshot } from '../../db/snapshot.js'
import { programOf } from '../../plugins/auth.js'
import { bearer } from '../../plugins/openapi.js'
import { boundEnd, resolvePeriod } from '../../shared/period.js'
import { commonErrors, problemSchema } from '../../shared/schemas.js'
import { npsCounts } from '../surveys/repository.js'
import { npsView } from '../surveys/nps.js'
import { assertCohortRange } from './cohorts.js'
import { cohortsAnswer, lifecycleAnswer, rfmAnswer } from './reports.js'
import { periodKey } from './snapshot.js'
import { fromSnapshot, latestSnapshot } from '../segments/snapshots.js'
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
      const stored = await latestSnapshot(database.db, program.id, 'summary', periodKey(period, request.query.activeDays), period.to)
      if (stored) return fromSnapshot<Awaited<ReturnType<typeof analyticsSummary>>>(stored)
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
      const stored = await latestSnapshot(database.db, program.id, 'cohorts', periodKey(period, by), period.to)
      if (stored) return fromSnapshot<Awaited<ReturnType<typeof cohortsAnswer>>>(stored)
      return inSnapshot(database, (tx) => cohortsAnswer(tx, program, period, by))
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
      const stored = request.query.asOf ? undefined : await latestSnapshot(database.db, program.id, 'rfm', '')
      if (stored) return fromSnapshot<Awaited<ReturnType<typeof rfmAnswer>>>(stored)
      const asOf = request.query.asOf ? boundEnd(request.query.asOf, program.timezone) : new Date()
      return inSnapshot(database, (tx) => rfmAnswer(tx, program, asOf))
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
      const stored = request.query.asOf ? undefined : await latestSnapshot(database.db, program.id, 'lifecycle', '')
      if (stored) return fromSnapshot<Awaited<ReturnType<typeof lifecycleAnswer>>>(stored)
      const asOf = request.query.asOf ? boundEnd(request.query.asOf, program.timezone) : new Date()
      return lifecycleAnswer(database.db, program, asOf)
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
