// Gift cards (docs/gift-cards.md): issued alone at a till or in batches, loaded at a till,
// checked by code and PIN, attached to a member. Paying with one is a tender of a purchase.
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod'
import { programOf } from '../../plugins/auth.js'
import { bearer } from '../../plugins/openapi.js'
import { commonErrors, named, problemSchema } from '../../shared/schemas.js'
import { sendStored } from '../idempotency/reply.js'
import { idempotencyHeaderSchema, requestHash, runIdempotentPlan } from '../idempotency/service.js'
import {
  giftCardAttachmentSchema,
  giftCardBalanceCheckSchema,
  giftCardBatchCreateSchema,
  giftCardBatchSchema,
  giftCardBlockSchema,
  giftCardCreateSchema,
  giftCardLoadResultSchema,
  giftCardLoadSchema,
  giftCardParamsSchema,
  giftCardSchema,
  issuedGiftCardSchema,
} from './schemas.js'
import { attachGiftCard, checkGiftCardBalance, getGiftCard, issueGiftCard, issueGiftCardBatch, loadGiftCard, setGiftCardBlock } from './service.js'

const tags = ['gift cards']
const TILLS = ['pos', 'program:manage'] as const
const MANAGE = ['program:manage'] as const
const ATTACHERS = ['pos', 'members:write', 'program:manage'] as const
const writeErrors = { ...commonErrors, 409: problemSchema, 422: problemSchema }

const giftCardRoutes: FastifyPluginAsyncZod = async (app) => {
  const database = app.db
  const actorOf = (request: { principal?: { clientId: string } | null }) => request.principal!.clientId

  app.post('/v1/gift-cards', {
    schema: {
      operationId: 'createGiftCard',
      description:
        'Issues one gift card: a new unguessable code (shown in this answer only; the service keeps a hash), an optional PIN, and optionally an initial value paid at a till (gift card clearing to the card) and a member to attach it to. The card has its own wallet whoever holds it.',
      'x-problems': { 404: ['MEMBER_NOT_FOUND'], 409: ['MEMBER_ERASED'] },
      tags,
      summary: 'Issue a gift card',
      security: bearer,
      headers: idempotencyHeaderSchema,
      body: named(giftCardCreateSchema, 'GiftCardCreate'),
      response: { 201: issuedGiftCardSchema, ...writeErrors },
    },
    preHandler: app.authorize(TILLS),
    handler: async (request, reply) => {
      const program = programOf(request)
      const stored = await runIdempotentPlan(database, program.id, request.headers['idempotency-key'], requestHash('gift-card', request.body), (idempotency) =>
        issueGiftCard(database, program, request.body, { idempotency, actor: actorOf(request) }),
      )
      return sendStored(request, reply, stored)
    },
  })

  app.post('/v1/gift-cards/batches', {
    schema: {
      operationId: 'createGiftCardBatch',
      description:
        'Issues up to 500 gift cards at once, without PINs, optionally each with the same initial value (one ledger entry for the batch). The answer lists every code; it is shown in this answer only (and its replay under the same Idempotency-Key).',
      tags,
      summary: 'Issue a batch of gift cards',
      security: bearer,
      headers: idempotencyHeaderSchema,
      body: named(giftCardBatchCreateSchema, 'GiftCardBatchCreate'),
      response: { 201: giftCardBatchSchema, ...writeErrors },
    },
    preHandler: app.authorize(MANAGE),
    handler: async (request, reply) => {
      const program = programOf(request)
      const stored = await runIdempotentPlan(database, program.id, request.headers['idempotency-key'], requestHash('gift-card-batch', request.body), (idempotency) =>
        issueGiftCardBatch(database, program, request.body, { idempotency, actor: actorOf(request) }),
      )
      return sendStored(request, reply, stored)
    },
  })

  app.post('/v1/gift-cards/balance-checks', {
    schema: {
      operationId: 'checkGiftCardBalance',
      description:
        'The card of a code, with its balance; the PIN is required when the card has one. A POST so that neither code nor PIN lands in a URL (request logs, proxies). Wrong PINs are counted on the card: the fifth in a row locks its PIN checks (balance and payment) for 15 minutes (423 GIFT_CARD_LOCKED with retryAfterSeconds).',
      'x-problems': { 404: ['GIFT_CARD_NOT_FOUND'], 409: ['GIFT_CARD_BLOCKED'], 422: ['GIFT_CARD_PIN_REQUIRED', 'GIFT_CARD_PIN_INCORRECT'], 423: ['GIFT_CARD_LOCKED'] },
      tags,
      summary: 'Check a gift card’s balance by code (and PIN)',
      security: bearer,
      body: named(giftCardBalanceCheckSchema, 'GiftCardBalanceCheck'),
      response: { 200: giftCardSchema, ...commonErrors, 422: problemSchema, 423: problemSchema },
    },
    // Not balances:read: a check counts wrong PINs on the card (a write), and a read-only token must not be able to lock cards.
    preHandler: app.authorize(['pos', 'program:manage']),
    handler: async (request) => checkGiftCardBalance(database, programOf(request), request.body),
  })

  app.get('/v1/gift-cards/:giftCardId', {
    schema: {
      operationId: 'getGiftCard',
      description: 'A gift card by id, with its balance (the code is never shown again).',
      'x-problems': { 404: ['GIFT_CARD_NOT_FOUND'] },
      tags,
      summary: 'Get a gift card',
      security: bearer,
      params: giftCardParamsSchema,
      response: { 200: giftCardSchema, ...commonErrors },
    },
    preHandler: app.authorize(['pos', 'program:manage', 'finance:read']),
    handler: async (request) => getGiftCard(database, programOf(request), request.params.giftCardId),
  })

  app.post('/v1/gift-cards/:giftCardId/loads', {
    schema: {
      operationId: 'loadGiftCard',
      description: 'Loads (reloads) value onto a gift card, paid at a till: gift card clearing of the store to the card’s wallet; one ledger entry. A blocked card is refused.',
      'x-problems': { 404: ['GIFT_CARD_NOT_FOUND'], 409: ['GIFT_CARD_BLOCKED'] },
      tags,
      summary: 'Load value onto a gift card',
      security: bearer,
      params: giftCardParamsSchema,
      headers: idempotencyHeaderSchema,
      body: named(giftCardLoadSchema, 'GiftCardLoadCreate'),
      response: { 201: giftCardLoadResultSchema, ...writeErrors },
    },
    preHandler: app.authorize(TILLS),
    handler: async (request, reply) => {
      const program = programOf(request)
      const { giftCardId } = request.params
      const stored = await runIdempotentPlan(database, program.id, request.headers['idempotency-key'], requestHash(`gift-card-load:${giftCardId}`, request.body), (idempotency) =>
        loadGiftCard(database, program, giftCardId, request.body, { idempotency, actor: actorOf(request) }),
      )
      return sendStored(request, reply, stored)
    },
  })

  app.post('/v1/gift-cards/:giftCardId/attachment', {
    schema: {
      operationId: 'attachGiftCard',
      description:
        'Attaches a gift card to a member: the member’s balances then list it. The card keeps its own wallet (anyone holding the code can still pay with it). Attached once: to the same member again is answered as it is, to another is 409.',
      'x-problems': { 404: ['GIFT_CARD_NOT_FOUND', 'MEMBER_NOT_FOUND'], 409: ['GIFT_CARD_ALREADY_ATTACHED', 'MEMBER_ERASED'] },
      tags,
      summary: 'Attach a gift card to a member',
      security: bearer,
      params: giftCardParamsSchema,
      headers: idempotencyHeaderSchema,
      body: named(giftCardAttachmentSchema, 'GiftCardAttachment'),
      response: { 200: giftCardSchema, ...writeErrors },
    },
    preHandler: app.authorize(ATTACHERS),
    handler: async (request, reply) => {
      const program = programOf(request)
      const { giftCardId } = request.params
      const stored = await runIdempotentPlan(database, program.id, request.headers['idempotency-key'], requestHash(`gift-card-attach:${giftCardId}`, request.body), (idempotency) =>
        attachGiftCard(database, program, giftCardId, request.body.memberId, { idempotency, actor: actorOf(request) }),
      )
      return sendStored(request, reply, stored)
    },
  })

  for (const action of ['block', 'unblock'] as const) {
    const blocking = action === 'block'
    app.post(`/v1/gift-cards/:giftCardId/${action}`, {
      schema: {
        operationId: blocking ? 'blockGiftCard' : 'unblockGiftCard',
        description: blocking
          ? 'Blocks a gift card (reported lost or stolen, fraud suspected): until unblocked it cannot pay (409 GIFT_CARD_BLOCKED at the till), be loaded or have its balance checked; its value stays on it and a return still refunds it. A sale that read the card before the block is refused when it applies. Blocking a blocked card answers it as it is.'
          : 'Unblocks a blocked gift card: it pays, loads and answers balance checks again. Unblocking an active card answers it as it is.',
        'x-problems': { 404: ['GIFT_CARD_NOT_FOUND'] },
        tags,
        summary: blocking ? 'Block a gift card' : 'Unblock a gift card',
        security: bearer,
        params: giftCardParamsSchema,
        headers: idempotencyHeaderSchema,
        ...(blocking ? { body: named(giftCardBlockSchema, 'GiftCardBlock') } : {}),
        response: { 200: giftCardSchema, ...writeErrors },
      },
      preHandler: app.authorize(MANAGE),
      handler: async (request, reply) => {
        const program = programOf(request)
        const { giftCardId } = request.params
        const block = blocking ? { reason: (request.body as { reason: string }).reason } : null
        const stored = await runIdempotentPlan(database, program.id, request.headers['idempotency-key'], requestHash(`gift-card-${action}:${giftCardId}`, block ?? {}), (idempotency) =>
          setGiftCardBlock(database, program, giftCardId, block, { idempotency, actor: actorOf(request) }),
        )
        return sendStored(request, reply, stored)
      },
    })
  }
}

export default giftCardRoutes
