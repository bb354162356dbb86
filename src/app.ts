import { randomUUID } from 'node:crypto'
import Fastify, { LogController, type FastifyInstance, type FastifyServerOptions } from 'fastify'
import formbody from '@fastify/formbody'
import { serializerCompiler, validatorCompiler, type ZodTypeProvider } from 'fastify-type-provider-zod'
import type { DestinationStream } from 'pino'
import type { Config } from './config.js'
import { loggerOptions as defaultLoggerOptions } from './shared/logging.js'
import type { Database } from './db/client.js'
import { loadKeyRing, type KeyRing } from './modules/auth/keys.js'
import authPlugin from './plugins/auth.js'
import dbPlugin from './plugins/db.js'
import requestLogPlugin from './plugins/request-log.js'
import errorsPlugin, { sendClientErrorProblem, sendProblem, toAppError } from './plugins/errors.js'
import metricsPlugin from './plugins/metrics.js'
import openapiPlugin from './plugins/openapi.js'
import rateLimitPlugin from './plugins/rate-limit.js'
import { DEFAULT_RETENTION_DAYS, setIdempotencyRetention } from './modules/idempotency/service.js'
import { eraseIdempotentAnswers } from './modules/idempotency/erase.js'
import { DEFAULT_SNAPSHOT_MIN_PURCHASES, setSnapshotMinPurchases } from './modules/analytics/snapshot.js'
import schedulerPlugin from './plugins/scheduler.js'
import textInputPlugin from './plugins/text-input.js'
import dispatcherPlugin from './plugins/dispatcher.js'
import authRoutes from './modules/auth/routes.js'
import problemsRoutes from './modules/problems/routes.js'
import healthRoutes from './modules/health/routes.js'
import tiersRoutes from './modules/tiers/routes.js'
import ledgerRoutes from './modules/ledger/routes.js'
import membersRoutes from './modules/members/routes.js'
import programsRoutes from './modules/programs/routes.js'
import purchasesRoutes from './modules/purchases/routes.js'
import storedValueRoutes from './modules/stored-value/routes.js'
import receiptsRoutes from './modules/receipts/routes.js'
import webhooksRoutes from './modules/events/routes.js'
import exportsRoutes from './modules/exports/routes.js'
import analyticsRoutes from './modules/analytics/routes.js'
import surveysRoutes from './modules/surveys/routes.js'
import jobsRoutes from './modules/jobs/routes.js'
import couponsRoutes from './modules/coupons/routes.js'
import referralsRoutes from './modules/referrals/routes.js'
import rewardsRoutes from './modules/rewards/routes.js'
import memberRewardsRoutes from './modules/rewards/member-routes.js'
import giftCardRoutes from './modules/gift-cards/routes.js'
import importsRoutes from './modules/imports/routes.js'
import savedSegmentsRoutes from './modules/saved-segments/routes.js'
import segmentCampaignsRoutes from './modules/segment-campaigns/routes.js'
import { eraseNpsComments } from './modules/surveys/repository.js'

declare module 'fastify' {
  interface FastifyInstance {
    config: Config
    keys: KeyRing
    /** The service's clock: what "now" and "today" are (tests inject one to live on another day). */
    now(): Date
  }
}

export interface BuildOptions {
  /** An already open (and migrated) database: tests share one across apps. */
  database?: Database
  /** Pino options or a logger instance; default JSON logs at config.logLevel. */
  logger?: FastifyServerOptions['logger'] | FastifyServerOptions['loggerInstance']
  /** Where the default logger writes (stdout if absent); tests read what the service logs. */
  logStream?: DestinationStream
  /** The clock; default the system's. Tests that need another day inject one instead of dating requests in the future. */
  now?: () => Date
  /** The HTTP server the app answers on (server.ts listens before the app is built); default fastify's own. */
  serverFactory?: FastifyServerOptions['serverFactory']
}

const REQUEST_ID = /^[A-Za-z0-9._-]{1,64}$/

export async function buildApp(config: Config, options: BuildOptions = {}): Promise<FastifyInstance> {
  const loggerOptions =
    options.logger && typeof (options.logger as { info?: unknown }).info === 'function'
      ? { loggerInstance: options.logger as FastifyServerOptions['loggerInstance'] }
      : {
          logger: (options.logger as FastifyServerOptions['logger']) ?? { ...defaultLoggerOptions(config.logLevel), stream: options.logStream },
        }

  const app = Fastify({
    ...loggerOptions,
    bodyLimit: config.http.bodyLimit,
    trustProxy: config.http.trustProxy,
    genReqId: (req) => {
      const given = req.headers['x-request-id']
      return typeof given === 'string' && REQUEST_ID.test(given) ? given : randomUUID()
    },
    serverFactory: options.serverFactory,
    // One line per request, when answered, from plugins/request-log.ts instead of fastify's two.
    logController: new LogController({ disableRequestLogging: true }),
    // Malformed URLs and overlong path parameters are refused by the router before any hook runs.
    frameworkErrors: (err, request, reply) => sendProblem(reply, request, toAppError(err)),
    // Bytes Node's HTTP parser refuses (a NUL in a header, 16 kB of headers) get a problem document too.
    clientErrorHandler: sendClientErrorProblem,
  }).withTypeProvider<ZodTypeProvider>()

  // An empty JSON body means "no body" (POST .../void from a POS that always sends the header).
  const defaultJson = app.getDefaultJsonParser('error', 'error')
  app.removeContentTypeParser('application/json')
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (request, body, done) => {
    if (body === '') return done(null, null)
    return defaultJson(request, body as string, done)
  })
  app.setValidatorCompiler(validatorCompiler)
  app.setSerializerCompiler(serializerCompiler)
  app.decorate('config', config)
  app.decorate('now', options.now ?? (() => new Date()))
  app.decorate('keys', await loadKeyRing({ ...config.tokens, signingKeyPem: config.tokens.signingKeyPem, dataDir: config.database.url ? undefined : config.database.dataDir }))
  app.addHook('onSend', async (request, reply) => {
    reply.header('x-request-id', request.id)
  })

  if (config.admin.usingDevDefaults) {
    app.log.warn('ADMIN_CLIENT_ID/ADMIN_CLIENT_SECRET not set: using the documented development credentials (embedded mode only)')
  }

  await app.register(errorsPlugin)
  await app.register(textInputPlugin)
  await app.register(formbody)
  await app.register(openapiPlugin)
  await app.register(dbPlugin, { database: options.database })
  setIdempotencyRetention(app.db, config.idempotency?.retentionDays ?? DEFAULT_RETENTION_DAYS)
  setSnapshotMinPurchases(app.db, config.analytics?.snapshotMinPurchases ?? DEFAULT_SNAPSHOT_MIN_PURCHASES)
  await app.register(metricsPlugin)
  await app.register(requestLogPlugin)
  await app.register(authPlugin)
  await app.register(rateLimitPlugin)
  await app.register(schedulerPlugin)
  await app.register(dispatcherPlugin)

  await app.register(healthRoutes)
  await app.register(authRoutes)
  await app.register(problemsRoutes)
  await app.register(programsRoutes)
  // A member's erasure takes their survey comments with it (free text, personal data).
  await app.register(membersRoutes, { erasers: [eraseNpsComments, eraseIdempotentAnswers] })
  await app.register(ledgerRoutes)
  await app.register(tiersRoutes)
  await app.register(purchasesRoutes)
  await app.register(storedValueRoutes)
  await app.register(receiptsRoutes)
  await app.register(webhooksRoutes)
  await app.register(exportsRoutes)
  await app.register(analyticsRoutes)
  await app.register(surveysRoutes)
  await app.register(jobsRoutes)
  await app.register(couponsRoutes)
  await app.register(referralsRoutes)
  await app.register(rewardsRoutes)
  await app.register(memberRewardsRoutes)
  await app.register(importsRoutes)
  await app.register(savedSegmentsRoutes)
  await app.register(segmentCampaignsRoutes)
  await app.register(giftCardRoutes)

  return app
}
