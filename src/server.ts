import { createServer, type RequestListener, type Server } from 'node:http'
import type { FastifyInstance } from 'fastify'
import closeWithGrace from 'close-with-grace'
import { ConfigError, loadConfig, type Config } from './config.js'
import { createGate } from './lifecycle.js'
import { assertDriverRepaired, DriverRepairsMissing } from './db/driver-repairs.js'

/** Closing waits this long for requests in flight, then exits 1 anyway. */
const DRAIN_LIMIT_MS = 10_000

async function main(): Promise<void> {
  let config: Config
  try {
    config = loadConfig()
    // Before anything connects: PostgreSQL is reached only through a driver with its repairs.
    if (config.database.url) assertDriverRepaired()
  } catch (err) {
    if (err instanceof ConfigError || err instanceof DriverRepairsMissing) {
      process.stderr.write(`${err.message}\n`)
      process.exit(1)
    }
    throw err
  }

  // Listen first: /health/live answers while the app's modules load and the database opens and
  // migrates (seconds on a new data folder); everything else is 503 problem+json until then.
  const gate = createGate()
  const server = createServer(gate.listener)
  // Fastify's default, longer than a load balancer's idle timeout (60 s on most): a connection the
  // balancer still reuses must not have been closed here.
  server.keepAliveTimeout = 72_000
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(config.port, config.host, () => resolve())
  })

  let appHandler: RequestListener | undefined
  const appReady = (async (): Promise<FastifyInstance> => {
    const { buildApp } = await import('./app.js')
    const app = await buildApp(config, {
      serverFactory: (handler) => {
        appHandler = handler
        return server
      },
    })
    await app.ready()
    return app
  })()

  // SIGTERM/SIGINT: stop accepting, close idle keep-alive connections at once and busy ones after
  // their response, then stop the jobs and the dispatcher and close the database; exit 0.
  closeWithGrace({ delay: DRAIN_LIMIT_MS }, async ({ signal, err }) => {
    gate.close()
    const app = await appReady.catch(() => undefined)
    if (err) (app?.log ?? console).error({ err }, 'shutting down after an error')
    else app?.log.info({ signal }, 'shutting down')
    await stopListening(server)
    await app?.close()
  })

  const app = await appReady
  if (gate.phase === 'starting') gate.serve(appHandler!)
  app.log.info({ port: config.port, host: config.host }, 'ready')
}

/** Resolves once every connection has ended; idle keep-alive ones are closed now. */
function stopListening(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve())
    server.closeIdleConnections()
  })
}

main().catch((err: unknown) => {
  process.stderr.write(`Failed to start: ${err instanceof Error ? err.stack ?? err.message : String(err)}\n`)
  process.exit(1)
})
