import fp from 'fastify-plugin'
import { invalidFields } from '../shared/errors.js'
import { unstorableTextIn } from '../shared/text.js'

declare module 'fastify' {
  interface FastifyContextConfig {
    /**
     * A body property holding items that are refused one by one (the sales of a batch upload):
     * the hook checks the rest of the body and the handler checks each item, so that one sale's
     * stray control character does not refuse the whole upload.
     */
    textCheckedPerItem?: string
    /** The body is the upload's stream (a member import): its route checks each record it reads. */
    bodyStreamed?: boolean
  }
}

/** The body less the items its route checks one by one. */
function bodyChecked(body: unknown, perItem: string | undefined): unknown {
  if (perItem === undefined || body === null || typeof body !== 'object' || !Array.isArray((body as Record<string, unknown>)[perItem])) return body
  return { ...body, [perItem]: [] }
}

/** The request headers whose values the service stores (the rest it only compares or ignores). */
const STORED_HEADERS = ['idempotency-key'] as const

/**
 * Refuses NUL, lone surrogates and control characters (see src/shared/text.ts) in the path,
 * query, body and stored headers of every request, before validation and before any handler:
 * one check for the whole app, so no field can be forgotten. A walk over the parsed request:
 * microseconds for a purchase.
 */
export default fp(
  async (app) => {
    app.addHook('preValidation', async (request) => {
      const headers = Object.fromEntries(STORED_HEADERS.filter((h) => request.headers[h] !== undefined).map((h) => [h, request.headers[h]]))
      const problems = [
        ...unstorableTextIn(request.params, 'params'),
        ...unstorableTextIn(request.query, 'querystring'),
        ...unstorableTextIn(headers, 'headers'),
        ...(request.routeOptions.config.bodyStreamed ? [] : unstorableTextIn(bodyChecked(request.body, request.routeOptions.config.textCheckedPerItem), 'body')),
      ]
      if (problems.length > 0) throw invalidFields(problems)
    })
  },
  { name: 'text-input', dependencies: ['errors'] },
)
