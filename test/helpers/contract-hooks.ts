// The hooks that put every answer of an in-process test app through test/helpers/contract.ts, and
// the teardown that fails the test listing what disagreed with the document. startTestApp adds
// them; a test that builds an app itself calls buildCheckedApp (or checkAnswers before ready()).
import { appendFileSync } from 'node:fs'
import type { FastifyInstance } from 'fastify'
import { buildApp, type BuildOptions } from '../../src/app.js'
import type { Config } from '../../src/config.js'
import { ContractLog } from './contract.js'

interface Teardown {
  teardown(fn: () => unknown): void
}

/** Records each answer of `app` against the document; `t`'s teardown throws when any disagreed. */
export function checkAnswers(app: FastifyInstance, t: Teardown): ContractLog {
  const log = new ContractLog()
  const sent = new WeakMap<object, { body: string | Buffer | null | undefined; streamed: boolean }>()
  app.addHook('onSend', async (request, _reply, payload) => {
    const streamed = payload !== null && typeof payload === 'object' && !Buffer.isBuffer(payload)
    sent.set(request, { body: streamed ? undefined : (payload as string | Buffer | null | undefined), streamed })
    return payload
  })
  // onResponse: the headers are final (route-level onSend hooks have run) and the status is sent.
  app.addHook('onResponse', async (request, reply) => {
    const payload = sent.get(request) ?? { body: undefined, streamed: false }
    log.record({
      method: request.method,
      route: request.routeOptions.url,
      url: request.url,
      status: reply.statusCode,
      headers: reply.getHeaders(),
      body: payload.body,
      streamed: payload.streamed,
    })
  })
  t.teardown(async () => {
    // Answers still in flight (onResponse runs after the client has the response) are recorded first.
    await new Promise((resolve) => setImmediate(resolve))
    const file = process.env.CONTRACT_VIOLATIONS_FILE
    if (file) for (const v of log.violations) appendFileSync(file, JSON.stringify({ test: process.argv[1], ...v }) + '\n')
    const message = log.report()
    if (message) throw new Error(message)
  })
  return log
}

/** buildApp with the answers checked against the document for the life of the test. */
export async function buildCheckedApp(t: Teardown, config: Config, options: BuildOptions = {}): Promise<FastifyInstance> {
  const app = await buildApp(config, options)
  checkAnswers(app, t)
  return app
}
