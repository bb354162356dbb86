import { z } from 'zod'
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod'
import type { FastifyReply } from 'fastify'
import { programOf } from '../../plugins/auth.js'
import { bearer } from '../../plugins/openapi.js'
import { AppError, notFound } from '../../shared/errors.js'
import { decodeCursor, page } from '../../shared/pagination.js'
import { commonErrors, listOf, problemSchema } from '../../shared/schemas.js'
import { RECEIPT_CSP, renderHtml } from './html.js'
import { signReceipt } from './jws.js'
import { negotiate } from './negotiate.js'
import { findReceipt, findReceiptByToken, listReceipts, type StoredReceipt } from './repository.js'
import { publicTokenParamsSchema, receiptJwsSchema, receiptParamsSchema, receiptQuerySchema, receiptSchema } from './schemas.js'
import { renderSms } from './sms.js'
import { publicReceiptUrl, receiptDocumentOf, receiptView } from './views.js'

const tags = ['receipts']
const READ = ['pos', 'members:read', 'balances:read', 'finance:read'] as const
const text = z.string()

const notAcceptable = (offered: string[]) =>
  new AppError(406, 'NOT_ACCEPTABLE', 'Not acceptable', `This resource is available as ${offered.join(', ')}`, { offered })

/** Headers of every HTML receipt: no script, nothing external, no referrer (the token is in the URL), not indexed. */
function htmlHeaders(reply: FastifyReply): FastifyReply {
  return reply
    .type('text/html; charset=utf-8')
    .header('content-security-policy', RECEIPT_CSP)
    .header('x-content-type-options', 'nosniff')
    .header('referrer-policy', 'no-referrer')
    .header('x-robots-tag', 'noindex, nofollow')
}

const receiptsRoutes: FastifyPluginAsyncZod = async (app) => {
  const db = app.db.db
  const { publicBaseUrl } = app.config
  const issuer = app.config.tokens.issuer
  const jwsOf = (row: StoredReceipt) => signReceipt(app.keys, issuer, receiptDocumentOf(row))

  app.get('/v1/receipts/:receiptId', {
    schema: { operationId: 'getReceipt', description: 'A receipt as JSON, as a mobile-friendly HTML page (`Accept: text/html`) or as the SMS text (`Accept: text/plain`).',
      tags,
      summary: 'Get a receipt: JSON, a mobile-friendly HTML page (Accept: text/html) or the SMS text (Accept: text/plain)',
      security: bearer,
      params: receiptParamsSchema,
      response: {
        200: {
          description: 'The receipt',
          content: { 'application/json': { schema: receiptSchema }, 'text/html': { schema: text }, 'text/plain': { schema: text } },
        },
        ...commonErrors,
        406: problemSchema,
      },
    },
    preHandler: app.authorize(READ),
    handler: async (request, reply) => {
      const program = programOf(request)
      const type = negotiate(request.headers.accept, ['application/json', 'text/html', 'text/plain'])
      if (!type) throw notAcceptable(['application/json', 'text/html', 'text/plain'])
      const row = await findReceipt(db, program.id, request.params.receiptId)
      if (!row) throw notFound('Receipt')
      reply.header('vary', 'Accept').header('cache-control', 'private, no-store')
      if (type === 'text/html') return htmlHeaders(reply).send(renderHtml(receiptDocumentOf(row), { jws: `/r/${row.publicToken}/jws` }))
      if (type === 'text/plain') return reply.type('text/plain; charset=utf-8').send(renderSms(receiptDocumentOf(row), publicReceiptUrl(publicBaseUrl, row.publicToken)))
      return reply.type('application/json; charset=utf-8').send(receiptView(row, publicBaseUrl))
    },
  })

  app.get('/v1/receipts/:receiptId/jws', {
    schema: { operationId: 'getReceiptJws', description: 'The receipt signed as a compact JWS (EdDSA); verify it offline with /.well-known/jwks.json. `Accept: application/jose` gives the bare JWS.',
      tags,
      summary: 'The receipt signed as a compact JWS; verify it offline with /.well-known/jwks.json (Accept: application/jose for the bare JWS)',
      security: bearer,
      params: receiptParamsSchema,
      response: {
        200: { description: 'The signed receipt', content: { 'application/json': { schema: receiptJwsSchema }, 'application/jose': { schema: text } } },
        ...commonErrors,
        406: problemSchema,
      },
    },
    preHandler: app.authorize(READ),
    handler: async (request, reply) => {
      const program = programOf(request)
      const type = negotiate(request.headers.accept, ['application/json', 'application/jose'])
      if (!type) throw notAcceptable(['application/json', 'application/jose'])
      const row = await findReceipt(db, program.id, request.params.receiptId)
      if (!row) throw notFound('Receipt')
      const jws = await jwsOf(row)
      reply.header('vary', 'Accept')
      if (type === 'application/jose') return reply.type('application/jose').send(jws)
      return reply.type('application/json; charset=utf-8').send({ receiptId: row.id, jws, kid: app.keys.kid, alg: app.keys.alg })
    },
  })

  app.get('/v1/receipts', {
    schema: { operationId: 'listReceipts', description: 'Receipts, newest first, of a purchase or a member; paged by cursor.',
      tags,
      summary: 'List receipts, newest first, by purchase or member',
      security: bearer,
      querystring: receiptQuerySchema,
      response: { 200: listOf(receiptSchema), ...commonErrors },
    },
    preHandler: app.authorize(READ),
    handler: async (request) => {
      const program = programOf(request)
      const q = request.query
      const before = decodeCursor(q.cursor, (k) => z.uuid().safeParse(k).success)
      const rows = await listReceipts(db, program.id, { purchaseId: q.purchaseId, memberId: q.memberId }, q.limit, before)
      const { data, nextCursor } = page(rows, q.limit, (r) => r.id)
      return { data: data.map((r) => receiptView(r, publicBaseUrl)), nextCursor }
    },
  })

  // The public short link of the SMS: the token is the only credential and shows this receipt only.
  app.get('/r/:token', {
    schema: { operationId: 'getPublicReceiptPage', description: 'The public receipt page behind the short link sent by SMS; the unguessable token is the only credential. An unknown link answers an HTML page with 404.',
      tags,
      summary: 'Public receipt page (no authentication): the short link sent by SMS',
      params: publicTokenParamsSchema,
      response: { 200: { description: 'The HTML receipt', content: { 'text/html': { schema: text } } }, 404: { description: 'Unknown link', content: { 'text/html': { schema: text } } } },
    },
    handler: async (request, reply) => {
      const row = await findReceiptByToken(db, request.params.token)
      if (!row) return htmlHeaders(reply.code(404)).send(NOT_FOUND_PAGE)
      return htmlHeaders(reply).header('cache-control', 'private, max-age=3600').send(renderHtml(receiptDocumentOf(row), { jws: `/r/${row.publicToken}/jws` }))
    },
  })

  app.get('/r/:token/jws', {
    schema: { operationId: 'getPublicReceiptJws', description: 'The public receipt as a compact JWS; the unguessable token is the only credential.',
      tags,
      summary: 'The public receipt signed as a compact JWS (no authentication); verify it with /.well-known/jwks.json',
      params: publicTokenParamsSchema,
      response: { 200: { description: 'Compact JWS', content: { 'application/jose': { schema: text } } }, 404: problemSchema },
    },
    handler: async (request, reply) => {
      const row = await findReceiptByToken(db, request.params.token)
      if (!row) throw notFound('Receipt')
      return reply.type('application/jose').header('cache-control', 'private, max-age=3600').header('x-robots-tag', 'noindex').send(await jwsOf(row))
    },
  })
}

const NOT_FOUND_PAGE = `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>Receipt not found</title></head><body><h1>Receipt not found</h1><p>This receipt link is not valid. / Liên kết biên nhận không hợp lệ.</p></body></html>\n`

export default receiptsRoutes
