import type { Readable } from 'node:stream'
import { z } from 'zod'
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod'
import { inSnapshot } from '../../db/snapshot.js'
import { programOf } from '../../plugins/auth.js'
import { bearer } from '../../plugins/openapi.js'
import { boundEnd, resolvePeriod } from '../../shared/period.js'
import { commonErrors } from '../../shared/schemas.js'
import { liabilityReport, trialBalanceReport } from './service.js'
import { journalQuerySchema, liabilitySchema, liabilityQuerySchema, trialBalanceQuerySchema, trialBalanceSchema } from './schemas.js'
import { journalStream, trialBalanceCsvStream } from './streams.js'

const tags = ['exports']
const FINANCE = ['finance:read'] as const

const CONTENT_TYPES = { csv: 'text/csv; charset=utf-8', ndjson: 'application/x-ndjson; charset=utf-8' } as const

const textBody = (description: string) => z.string().describe(description)

/** Fastify pipes a stream as the body; the route's typed response (the OpenAPI text schema) cannot say so. */
const asBody = (stream: Readable) => stream as unknown as string

const stamp = (d: Date) => d.toISOString().replace(/[:.]/g, '').replace(/000Z$/, 'Z')

const exportsRoutes: FastifyPluginAsyncZod = async (app) => {
  const database = app.db

  app.get('/v1/exports/journal', {
    schema: { operationId: 'exportJournal', 'x-problems': { 422: ['RANGE_TOO_LONG'] },
      tags,
      summary: 'Every posting of the entries effective in [from, to), streamed as CSV (RFC 4180, header row) or NDJSON',
      description:
        'One consistent snapshot (REPEATABLE READ), streamed as it is read (on PostgreSQL formatted by the database and sent by COPY; embedded, a page of entries at a time), so a year of a large program streams in constant memory. ' +
        'Ordered by effective time, entry id and posting seq. Times in UTC and in the program time zone; debit and credit in major units.',
      security: bearer,
      querystring: journalQuerySchema,
      response: {
        200: {
          description: 'The journal',
          content: {
            'text/csv': { schema: textBody('entry_id,seq,kind,effective_at_utc,effective_at_local,recorded_at_utc,account_id,account_code,account_type,member_id,asset,debit,credit,store_id,reference_type,reference_id,reverses_entry_id,reason') },
            'application/x-ndjson': { schema: textBody('One JSON object per posting, camelCase keys') },
          },
        },
        ...commonErrors,
      },
    },
    preHandler: app.authorize(FINANCE),
    handler: async (request, reply) => {
      const program = programOf(request)
      const period = resolvePeriod(request.query, program.timezone)
      const { format } = request.query
      const stream = await journalStream(database, program.id, program.timezone, period, format)
      return reply
        .type(CONTENT_TYPES[format])
        .header('content-disposition', `attachment; filename="journal-${stamp(period.from)}-${stamp(period.to)}.${format}"`)
        .send(asBody(stream))
    },
  })

  app.get('/v1/exports/trial-balance', {
    schema: { operationId: 'exportTrialBalance', description: 'Every account with its balance at `asOf`, as JSON or CSV (`format=csv`, an attachment); the balances sum to zero per asset.',
      tags,
      summary: 'Every account with its balance at asOf; sums to zero per asset',
      security: bearer,
      querystring: trialBalanceQuerySchema,
      response: {
        200: {
          description: 'The trial balance',
          content: {
            'application/json': { schema: trialBalanceSchema },
            'text/csv': { schema: textBody('account_id,account_code,account_type,asset,member_id,store_id,debit,credit,balance; then a TOTAL record per asset') },
          },
        },
        ...commonErrors,
      },
    },
    preHandler: app.authorize(FINANCE),
    handler: async (request, reply) => {
      const program = programOf(request)
      const asOf = request.query.asOf ? boundEnd(request.query.asOf, program.timezone) : new Date()
      if (request.query.format === 'csv') {
        const stream = await trialBalanceCsvStream(database, program.id, asOf)
        return reply
          .type(CONTENT_TYPES.csv)
          .header('content-disposition', `attachment; filename="trial-balance-${stamp(asOf)}.csv"`)
          .send(asBody(stream))
      }
      return reply.type('application/json; charset=utf-8').send(await inSnapshot(database, (tx) => trialBalanceReport(tx, program, asOf)))
    },
  })

  app.get('/v1/exports/liability', {
    schema: { operationId: 'exportLiability', description: 'The liability roll-forward per asset and store over a period: opening + movements = closing.', 'x-problems': { 422: ['RANGE_TOO_LONG'] },
      tags,
      summary: 'Liability roll-forward per asset and store: opening + movements = closing',
      security: bearer,
      querystring: liabilityQuerySchema,
      response: { 200: liabilitySchema, ...commonErrors },
    },
    preHandler: app.authorize(FINANCE),
    handler: async (request) => {
      const program = programOf(request)
      const period = resolvePeriod(request.query, program.timezone)
      return inSnapshot(database, (tx) => liabilityReport(tx, program, period))
    },
  })
}

export default exportsRoutes
