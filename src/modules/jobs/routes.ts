import { z } from 'zod'
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod'
import { programOf } from '../../plugins/auth.js'
import { bearer } from '../../plugins/openapi.js'
import { AppError, notFound } from '../../shared/errors.js'
import { decodeCursor, page } from '../../shared/pagination.js'
import { commonErrors, listOf, problemSchema, named } from '../../shared/schemas.js'
import { localDate } from '../../shared/period.js'
import { findProgram } from '../programs/repository.js'
import { findJob, jobs } from './registry.js'
import { jobNotFound, listRuns, runJob } from './runner.js'
import { refuseRunDate, resolveAsOf } from './as-of.js'
import { dryRunSchema, jobParamsSchema, jobRunSchema, jobSchema, runBodySchema, runResultSchema, runsQuerySchema } from './schemas.js'
import { jobView, runView } from './views.js'

const tags = ['jobs']

const jobsRoutes: FastifyPluginAsyncZod = async (app) => {
  const database = app.db

  app.get('/v1/jobs', {
    schema: { operationId: 'listJobs', description: 'The jobs the service runs on its schedule, with their cadence.', tags, summary: 'The jobs the service runs', security: bearer, response: { 200: named(z.object({ data: z.array(jobSchema) }), 'JobList'), ...commonErrors } },
    preHandler: app.authorize(['program:manage']),
    handler: async () => ({ data: jobs.map(jobView) }),
  })

  app.post('/v1/jobs/:name/runs', {
    schema: { operationId: 'runJob', 'x-problems': { 404: ['JOB_NOT_FOUND'], 422: ['INVALID_AS_OF', 'AS_OF_IN_FUTURE', 'AS_OF_BEFORE_PROGRAM'], 500: ['JOB_FAILED'] },
      tags,
      summary: 'Run a job for the caller’s program as of a date or instant',
      description:
        'Runs are idempotent by date, so no Idempotency-Key is needed: a daily job runs once per program and local date of `asOf` ' +
        '(201 with the run when it ran now; 200 with `replayed: true` and the existing run when that date was already run or is running elsewhere). ' +
        'A failed run answers 500 JOB_FAILED and is recorded; running it again retries. Jobs that are not daily (void-expired-holds) run every time. ' +
        'asOf later than now is 422 AS_OF_IN_FUTURE, before the program’s creation day 422 AS_OF_BEFORE_PROGRAM, outside 1900-2999 400 VALIDATION_FAILED. ' +
        'With `dryRun: true` the answer is 200 with what the run would do (JobDryRun) and nothing is written, for any asOf in 1900-2999.',
      security: bearer,
      params: jobParamsSchema,
      body: named(runBodySchema, 'JobRunRequest').nullish(),
      response: { 200: named(z.union([runResultSchema, dryRunSchema]), 'JobRunOutcome'), 201: runResultSchema, ...commonErrors, 422: problemSchema, 500: problemSchema },
    },
    preHandler: app.authorize(['program:manage']),
    handler: async (request, reply) => {
      const definition = findJob(request.params.name)
      if (!definition) throw jobNotFound(request.params.name)
      // The cached program of the token may be up to 2 s old; a job reads its zone and rules fresh.
      const program = await findProgram(database.db, programOf(request).id)
      if (!program) throw notFound('Program')
      const now = app.now()
      const asOf = resolveAsOf(request.body?.asOf, program.timezone, now)
      if (request.body?.dryRun) {
        const preview = await definition.preview({ database, program, asOf, log: request.log })
        const runDate = definition.daily ? localDate(asOf, program.timezone) : null
        return reply.code(200).send({ job: definition.name, dryRun: true as const, runDate, asOf: asOf.toISOString(), ...preview })
      }
      const refused = refuseRunDate(asOf, now, program)
      if (refused) throw refused
      const { run, replayed } = await runJob(database, program, definition, asOf, { log: request.log })
      if (!replayed && run.status === 'failed') {
        throw new AppError(500, 'JOB_FAILED', 'Job failed', `${definition.name} failed: ${run.error ?? 'see the service log'}; the run is recorded, run it again to retry`, {
          run: runView(run),
        })
      }
      return reply.code(replayed ? 200 : 201).send({ ...runView(run), replayed })
    },
  })

  app.get('/v1/jobs/:name/runs', {
    schema: { operationId: 'listJobRuns', description: 'Recent runs of a job for the caller’s program, newest first.', 'x-problems': { 404: ['JOB_NOT_FOUND'] },
      tags,
      summary: 'Recent runs of a job for the caller’s program, newest first',
      security: bearer,
      params: jobParamsSchema,
      querystring: runsQuerySchema,
      response: { 200: listOf(jobRunSchema), ...commonErrors },
    },
    preHandler: app.authorize(['program:manage']),
    handler: async (request) => {
      const definition = findJob(request.params.name)
      if (!definition) throw jobNotFound(request.params.name)
      const program = programOf(request)
      const before = decodeCursor(request.query.cursor, (k) => z.uuid().safeParse(k).success)
      const rows = await listRuns(database, program.id, definition.name, request.query.limit + 1, before)
      const { data, nextCursor } = page(rows, request.query.limit, (r) => r.id)
      return { data: data.map(runView), nextCursor }
    },
  })
}

export default jobsRoutes
