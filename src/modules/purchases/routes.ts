import { and, desc, eq, gte, lt, lte, type SQL } from 'drizzle-orm'
import { z } from 'zod'
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod'
import { programOf } from '../../plugins/auth.js'
import { bearer } from '../../plugins/openapi.js'
import { notFound } from '../../shared/errors.js'
import { decodeCursor, page } from '../../shared/pagination.js'
import { commonErrors, listOf, problemSchema, named } from '../../shared/schemas.js'
import { idempotencyHeaderSchema, requestHash, runIdempotentPlan } from '../idempotency/service.js'
import { sendStored } from '../idempotency/reply.js'
import {
  captureSchema,
  purchaseCreateSchema,
  purchaseParamsSchema,
  purchaseQuoteSchema,
  purchaseQuerySchema,
  purchaseResultSchema,
  purchaseSchema,
  returnResultSchema,
  returnSchema,
  voidSchema,
} from './schemas.js'
import { postPurchase } from './post.js'
import { batchValidatorCompiler, postBatch, purchaseBatchResultSchema, purchaseBatchSchema } from './batch.js'
import { DEFAULT_BATCH_BODY_LIMIT } from '../../config.js'
import { postReturn } from './returns.js'
import { capturePlanned, voidPlanned } from './pending.js'
import { purchases } from './tables.js'
import { quoteSale } from './quote.js'
import { purchaseView } from './views.js'

const tags = ['purchases']

const BATCH_DESCRIPTION = [
  'Scope `pos`. The body is `{ "purchases": [...] }`, 1 to 500 sales, oldest first; each is a POST /v1/purchases body with its own `idempotencyKey` (the rules of the Idempotency-Key header). The batch takes no Idempotency-Key of its own (one sent is ignored): the sales\' keys make a retried upload exact. The body may be up to 8 MiB by default (BATCH_BODY_LIMIT_BYTES, never less than BODY_LIMIT_BYTES); beyond, 413 PAYLOAD_TOO_LARGE.',
  'No sales, more than 500, or a body that is not `{ "purchases": [...] }`: 400 VALIDATION_FAILED for the whole batch, nothing posted.',
  'Otherwise 200 with `results`, one per sale in the order sent. Sales are posted one after the other in that order (a later sale may spend what an earlier one earned), each in its own transaction through the same code as POST /v1/purchases, so each result is what that call would answer: 201 and the purchase, or the sale\'s own 4xx and problem document (`code`...), which does not stop the others. A malformed sale gets its own 400 VALIDATION_FAILED; its error paths are relative to the sale, spelled as POST /v1/purchases spells them (`body/lines/0/sku` is that sale\'s `lines[0].sku`).',
  'A sale whose key was already used answers what was answered then, with `replayed: true`, and writes nothing: a retried batch replays every sale it already posted. Two sales of one batch with the same key are two calls with that key: the second replays the first (same body) or is 422 IDEMPOTENCY_KEY_REUSED (another body).',
  'A sale that fails for the service\'s sake (database unavailable, transaction deadline: 503; an unexpected error: 500) stops the batch: that sale gets its problem and every later sale 503 NOT_ATTEMPTED, the answer is still 200 with `Retry-After`, and nothing of those sales was committed; retry the batch as it was.',
].join('\n\n')
const writeErrors = { ...commonErrors, 409: problemSchema, 422: problemSchema }

const purchasesRoutes: FastifyPluginAsyncZod = async (app) => {
  const database = app.db
  const db = database.db
  const deps = { database, publicBaseUrl: app.config.publicBaseUrl }

  app.post('/v1/purchases', {
    schema: { operationId: 'createPurchase', description: 'Posts a sale: earns points, pays with stored value and points, applies coupons, pays from gift cards (captured sales only; a sale paid with gift cards and money alone may name no member, and earns nothing), or holds the wallets (capture: false) for a later capture or void. Writes the purchase, its ledger entries and its receipt.', 'x-problems': { 404: ['MEMBER_NOT_FOUND', 'GIFT_CARD_NOT_FOUND'], 423: ['GIFT_CARD_LOCKED'], 409: ['DUPLICATE_PURCHASE', 'MEMBER_ERASED', 'COUPON_BUDGET_EXHAUSTED', 'COUPON_USED_UP', 'COUPON_MEMBER_LIMIT_REACHED', 'GIFT_CARD_BLOCKED'], 422: ['INSUFFICIENT_FUNDS', 'TENDERS_DO_NOT_MATCH_TOTAL', 'CURRENCY_MISMATCH', 'LINE_DISCOUNT_TOO_LARGE', 'OCCURRED_AT_IN_FUTURE', 'OCCURRED_AT_TOO_OLD', 'POINTS_NOT_REDEEMABLE', 'REDEMPTION_ABOVE_MAXIMUM', 'REDEMPTION_BELOW_MINIMUM', 'COUPON_NOT_FOUND', 'COUPON_NOT_ACTIVE', 'COUPON_NOT_FOR_MEMBER', 'COUPON_DUPLICATE', 'COUPON_MIN_SPEND_NOT_MET', 'GIFT_CARD_PIN_REQUIRED', 'GIFT_CARD_PIN_INCORRECT', 'GIFT_CARD_INSUFFICIENT_BALANCE', 'GIFT_CARD_NOT_HOLDABLE'] },
      tags,
      summary: 'Post a purchase: earn points, pay with stored value and points, or hold them (capture: false)',
      security: bearer,
      headers: idempotencyHeaderSchema,
      body: named(purchaseCreateSchema, 'PurchaseCreate'),
      response: { 201: purchaseResultSchema, ...writeErrors, 423: problemSchema },
    },
    preHandler: app.authorize(['pos']),
    handler: async (request, reply) => {
      const stored = await postPurchase(deps, programOf(request), request.headers['idempotency-key'], request.body, request.principal!.clientId)
      return sendStored(request, reply, stored)
    },
  })

  app.post('/v1/purchases/batch', {
    schema: { operationId: 'createPurchaseBatch',
      tags,
      summary: 'Upload an offline queue: up to 500 sales, posted in order, each as POST /v1/purchases posts it, one result per sale',
      description: BATCH_DESCRIPTION,
      security: bearer,
      body: named(purchaseBatchSchema, 'PurchaseBatch'),
      response: { 200: purchaseBatchResultSchema, ...commonErrors, 413: problemSchema },
    },
    // Only the envelope is validated before the handler; each sale is read on its own (batch.ts).
    validatorCompiler: batchValidatorCompiler as never,
    config: { textCheckedPerItem: 'purchases' },
    bodyLimit: Math.max(app.config.http.bodyLimit, app.config.http.batchBodyLimit ?? DEFAULT_BATCH_BODY_LIMIT),
    preHandler: app.authorize(['pos']),
    handler: async (request, reply) => {
      const program = programOf(request)
      const actor = request.principal!.clientId
      // The validator checked the envelope only: a sale is anything until readBatchSale reads it.
      const uploaded: readonly unknown[] = request.body.purchases
      const { results, stopped } = await postBatch(uploaded, (key, sale) => postPurchase(deps, program, key, sale, actor), request.id)
      const count = (f: (r: (typeof results)[number]) => boolean) => results.filter(f).length
      request.log.info({ sales: results.length, posted: count((r) => r.status < 300 && !r.replayed), replayed: count((r) => r.replayed), refused: count((r) => r.status >= 400 && r.status < 500 && !r.replayed) }, 'purchase batch')
      if (stopped) {
        request.log.error({ err: stopped.error, index: stopped.index }, 'purchase batch stopped: a sale failed')
        reply.header('retry-after', '1')
      }
      // Each body is postPurchase's, the one POST /v1/purchases answers through this schema; checking
      // 500 of them again took 80 to 240 ms of CPU per batch (zod), more than writing the JSON.
      return reply.type('application/json; charset=utf-8').serializer(JSON.stringify).send({ results })
    },
  })

  app.post('/v1/purchases/quote', {
    schema: { operationId: 'quotePurchase', description: 'Prices a sale before payment: the total after discounts and coupons, the points it would earn, what the wallets can pay, and every refusal the sale would meet (listed, not raised). Writes nothing.', 'x-problems': { 404: ['MEMBER_NOT_FOUND'], 409: ['MEMBER_ERASED'], 422: ['CURRENCY_MISMATCH', 'LINE_DISCOUNT_TOO_LARGE', 'COUPON_NOT_FOUND', 'OCCURRED_AT_TOO_OLD', 'OCCURRED_AT_IN_FUTURE'] },
      tags,
      summary: 'Quote a sale before payment: total after discounts, points earned, what the wallets can pay, every refusal; writes nothing',
      security: bearer,
      body: named(purchaseCreateSchema, 'PurchaseCreate'),
      response: { 200: purchaseQuoteSchema, ...writeErrors },
    },
    preHandler: app.authorize(['pos']),
    handler: async (request) => quoteSale(db, programOf(request), request.body, request.principal!.clientId),
  })

  app.post('/v1/purchases/:purchaseId/capture', {
    schema: { operationId: 'capturePurchase', description: 'Captures a pending purchase, fully or for less (the rest of the hold is released); writes the capture entries and the receipt.', 'x-problems': { 409: ['HOLD_ALREADY_RESOLVED', 'PURCHASE_NOT_PENDING'], 422: ['CAPTURE_EXCEEDS_AUTHORISED', 'INSUFFICIENT_FUNDS', 'TENDERS_DO_NOT_MATCH_TOTAL'] },
      tags,
      summary: 'Capture a pending purchase, fully or for less (the rest is released)',
      security: bearer,
      params: purchaseParamsSchema,
      headers: idempotencyHeaderSchema,
      body: named(captureSchema, 'PurchaseCapture').nullish(),
      response: { 200: purchaseResultSchema, ...writeErrors },
    },
    preHandler: app.authorize(['pos']),
    handler: async (request, reply) => {
      const program = programOf(request)
      const { purchaseId } = request.params
      const key = request.headers['idempotency-key']
      const hash = requestHash(`capture:${purchaseId}`, request.body ?? {})
      const actor = request.principal!.clientId
      const baseUrl = app.config.publicBaseUrl
      const stored = await runIdempotentPlan(database, program.id, key, hash, (idempotency) =>
        capturePlanned(database, program, purchaseId, request.body?.amount, { actor, baseUrl, idempotency }),
      )
      return sendStored(request, reply, stored)
    },
  })

  app.post('/v1/purchases/:purchaseId/void', {
    schema: { operationId: 'voidPurchase', description: 'Voids a pending purchase: its holds are released and nothing is charged.', 'x-problems': { 409: ['HOLD_ALREADY_RESOLVED', 'PURCHASE_NOT_PENDING'] },
      tags,
      summary: 'Void a pending purchase: its holds are released',
      security: bearer,
      params: purchaseParamsSchema,
      headers: idempotencyHeaderSchema,
      body: named(voidSchema, 'PurchaseVoid').nullish(),
      response: { 200: purchaseResultSchema, ...writeErrors },
    },
    preHandler: app.authorize(['pos']),
    handler: async (request, reply) => {
      const program = programOf(request)
      const { purchaseId } = request.params
      const call = { actor: request.principal!.clientId, baseUrl: app.config.publicBaseUrl }
      const stored = await runIdempotentPlan(database, program.id, request.headers['idempotency-key'], requestHash(`void:${purchaseId}`, request.body ?? {}), (idempotency) =>
        voidPlanned(database, program, purchaseId, request.body?.reason, { ...call, idempotency }),
      )
      return sendStored(request, reply, stored)
    },
  })

  app.post('/v1/purchases/:purchaseId/returns', {
    schema: { operationId: 'createReturn', description: 'Returns lines or an amount of a posted purchase: tenders are refunded in proportion and the points it earned clawed back; writes the return, its entries and its receipt.', 'x-problems': { 409: ['CONFLICT', 'PURCHASE_NOT_COMPLETED'], 422: ['RETURN_EXCEEDS_PURCHASE', 'RETURN_LINE_NOT_IN_PURCHASE', 'RETURN_MODE_MISMATCH', 'INSUFFICIENT_FUNDS'] },
      tags,
      summary: 'Return lines or an amount: tenders refunded in proportion, earned points clawed back',
      security: bearer,
      params: purchaseParamsSchema,
      headers: idempotencyHeaderSchema,
      body: named(returnSchema, 'ReturnCreate'),
      response: { 201: returnResultSchema, ...writeErrors },
    },
    preHandler: app.authorize(['pos']),
    handler: async (request, reply) => {
      const program = programOf(request)
      const { purchaseId } = request.params
      const idempotencyKey = request.headers['idempotency-key']
      const stored = await runIdempotentPlan(database, program.id, idempotencyKey, requestHash(`return:${purchaseId}`, request.body), (idempotency) =>
        postReturn(database, { program, purchaseId, input: request.body, actor: request.principal!.clientId, baseUrl: app.config.publicBaseUrl, idempotency }),
      )
      return sendStored(request, reply, stored)
    },
  })

  app.get('/v1/purchases/:purchaseId', {
    schema: { operationId: 'getPurchase', description: 'A purchase with its lines, tenders, holds and returns.', tags, summary: 'Get a purchase', security: bearer, params: purchaseParamsSchema, response: { 200: purchaseSchema, ...commonErrors } },
    preHandler: app.authorize(['pos', 'members:read', 'finance:read']),
    handler: async (request) => {
      const program = programOf(request)
      const [row] = await db
        .select()
        .from(purchases)
        .where(and(eq(purchases.programId, program.id), eq(purchases.id, request.params.purchaseId)))
      if (!row) throw notFound('Purchase')
      return purchaseView(program, row)
    },
  })

  app.get('/v1/purchases', {
    schema: { operationId: 'listPurchases', description: 'Purchases, newest first, filtered by member, store, status and time; paged by cursor.',
      tags,
      summary: 'List purchases, newest first, by member, store, status and time',
      security: bearer,
      querystring: purchaseQuerySchema,
      response: { 200: listOf(purchaseSchema), ...commonErrors },
    },
    preHandler: app.authorize(['pos', 'members:read', 'finance:read']),
    handler: async (request) => {
      const program = programOf(request)
      const q = request.query
      const before = decodeCursor(q.cursor, (k) => z.uuid().safeParse(k).success)
      const conditions: (SQL | undefined)[] = [
        eq(purchases.programId, program.id),
        q.memberId ? eq(purchases.memberId, q.memberId) : undefined,
        q.storeId ? eq(purchases.storeId, q.storeId) : undefined,
        q.status ? eq(purchases.status, q.status) : undefined,
        q.from ? gte(purchases.occurredAt, new Date(q.from)) : undefined,
        q.to ? lte(purchases.occurredAt, new Date(q.to)) : undefined,
        before ? lt(purchases.id, before) : undefined,
      ]
      const rows = await db
        .select()
        .from(purchases)
        .where(and(...conditions))
        .orderBy(desc(purchases.id))
        .limit(q.limit + 1)
      const { data, nextCursor } = page(rows, q.limit, (p) => p.id)
      return { data: data.map((p) => purchaseView(program, p)), nextCursor }
    },
  })
}

export default purchasesRoutes
