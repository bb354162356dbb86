import { z } from 'zod'
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod'
import { ping } from '../../db/client.js'
import { AppError } from '../../shared/errors.js'
import { problemSchema, named } from '../../shared/schemas.js'

const statusSchema = named(z.object({ status: z.literal('ok') }), 'HealthStatus')

const healthRoutes: FastifyPluginAsyncZod = async (app) => {
  app.get('/health/live', {
    schema: { operationId: 'getLiveness', description: 'The process is up; touches nothing else (no database), so it answers while the database is down.', tags: ['health'], summary: 'The process is up', response: { 200: statusSchema } },
    logLevel: 'warn',
    handler: async () => ({ status: 'ok' as const }),
  })

  app.get('/health/ready', {
    schema: { operationId: 'getReadiness', description: 'Whether the service can reach its database: 200 ready, 503 when it cannot (take the instance out of rotation).', tags: ['health'], summary: 'The service can reach its database', response: { 200: statusSchema, 503: problemSchema } },
    logLevel: 'warn',
    handler: async () => {
      try {
        await ping(app.db.db)
      } catch {
        throw new AppError(503, 'SERVICE_UNAVAILABLE', 'Service unavailable', 'The database is not reachable')
      }
      return { status: 'ok' as const }
    },
  })
}

export default healthRoutes
