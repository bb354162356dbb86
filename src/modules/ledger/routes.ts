import { z } from 'zod'
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod'
import type { Executor } from '../../db/client.js'
import { programOf } from '../../plugins/auth.js'
import { bearer } from '../../plugins/openapi.js'
import { notFound } from '../../shared/errors.js'
import { cursorSchema, decodeCursor, limitSchema, page } from '../../shared/pagination.js'
import { commonErrors, listOf, problemSchema, named } from '../../shared/schemas.js'
import { idempotencyHeaderSchema, requestHash, runIdempotentPlan } from '../idempotency/service.js'
import { postAdjustment } from './adjustment.js'
import { sendStored } from '../idempotency/reply.js'
import { findMember } from '../members/repository.js'
import { memberParamsSchema } from '../members/schemas.js'
import type { ProgramRow } from '../programs/tables.js'
import { memberActivity, memberBalances, memberGiftCardBalances, pointsExpiring, verifyLedger } from './reads.js'
import { findEntry } from './repository.js'
import { adjustmentBodySchema, adjustmentResultSchema, activityItemSchema, entrySchema, memberBalancesSchema, reversalBodySchema, verifySchema } from './schemas.js'
import { restoredPointsExpiry } from './lots.js'
import { reverseEntry } from './reversal.js'
import { readRules } from '../programs/rules.js'
import { activityView, balancesView, entryView, formatAsset, pointsNumber } from './views.js'

const BALANCE_READERS = ['pos', 'balances:read', 'members:read'] as const
const writeErrors = { ...commonErrors, 409: problemSchema, 422: problemSchema }

async function memberOrThrow(ex: Executor, program: ProgramRow, memberId: string) {
  const member = await findMember(ex, program.id, memberId)
  if (!member) throw notFound('Member')
  return member
}

const ledgerRoutes: FastifyPluginAsyncZod = async (app) => {
  const database = app.db
  const db = database.db

  app.get('/v1/members/:memberId/balances', {
    schema: { operationId: 'getMemberBalances', description: 'Points and stored-value balances (available and held), with the points expiring in the next 30 days and the gift cards attached to the member (each its own wallet).',
      tags: ['ledger'],
      summary: 'Points and stored-value balances of a member, with the points expiring in the next 30 days',
      security: bearer,
      params: memberParamsSchema,
      response: { 200: memberBalancesSchema, ...commonErrors },
    },
    preHandler: app.authorize(BALANCE_READERS),
    handler: async (request) => {
      const program = programOf(request)
      const { memberId } = request.params
      await memberOrThrow(db, program, memberId)
      const [balances, expiring, giftCards] = await Promise.all([
        memberBalances(db, program.id, memberId, program.currency),
        pointsExpiring(db, program.id, memberId, new Date(), 30),
        memberGiftCardBalances(db, program.id, memberId),
      ])
      return {
        ...balancesView(memberId, program.currency, balances),
        pointsExpiring: expiring.map((e) => ({ expiresAt: e.expiresAt.toISOString(), points: pointsNumber(e.points) })),
        giftCards: giftCards.map((g) => ({ id: g.id, codeLast4: g.codeLast4, currency: g.currency, balance: formatAsset(g.balance, g.currency) })),
      }
    },
  })

  app.get('/v1/members/:memberId/activity', {
    schema: { operationId: 'listMemberActivity', description: 'The member’s ledger entries, newest first, with the balance after each; paged by cursor.',
      tags: ['ledger'],
      summary: 'The member’s ledger entries, newest first, with the balance after each',
      security: bearer,
      params: memberParamsSchema,
      querystring: z.object({ limit: limitSchema, cursor: cursorSchema }).strict(),
      response: { 200: listOf(activityItemSchema), ...commonErrors },
    },
    preHandler: app.authorize(BALANCE_READERS),
    handler: async (request) => {
      const program = programOf(request)
      await memberOrThrow(db, program, request.params.memberId)
      const before = decodeCursor(request.query.cursor, (k) => z.uuid().safeParse(k).success)
      const rows = await memberActivity(db, program.id, request.params.memberId, program.currency, request.query.limit, before)
      const { data, nextCursor } = page(rows, request.query.limit, (a) => a.entryId)
      return { data: data.map((a) => activityView(a, program.currency)), nextCursor }
    },
  })

  app.post('/v1/members/:memberId/points/adjustments', {
    schema: { operationId: 'createPointsAdjustment', description: 'Grants (positive) or takes away (negative) points with a mandatory reason; writes one ledger entry. Taking more than the member has is 422 INSUFFICIENT_FUNDS.', 'x-problems': { 404: ['MEMBER_NOT_FOUND'], 409: ['MEMBER_ERASED'], 422: ['INSUFFICIENT_FUNDS'] },
      tags: ['ledger'],
      summary: 'Grant or take away points, with a mandatory reason',
      security: bearer,
      params: memberParamsSchema,
      headers: idempotencyHeaderSchema,
      body: named(adjustmentBodySchema, 'PointsAdjustmentCreate'),
      response: { 201: adjustmentResultSchema, ...writeErrors },
    },
    preHandler: app.authorize(['program:manage']),
    handler: async (request, reply) => {
      const program = programOf(request)
      const { memberId } = request.params
      const { points, reason } = request.body
      const hash = requestHash(`adjust-points:${memberId}`, request.body)
      const stored = await runIdempotentPlan(database, program.id, request.headers['idempotency-key'], hash, (idempotency) =>
        postAdjustment(database, program, { memberId, points, reason }, idempotency, request.principal!.clientId),
      )
      return sendStored(request, reply, stored)
    },
  })

  app.get('/v1/ledger/entries/:entryId', {
    schema: { operationId: 'getEntry', description: 'A journal entry with its postings (debits and credits per account and asset).', tags: ['ledger'], summary: 'A journal entry with its postings', security: bearer, params: z.object({ entryId: z.uuid() }), response: { 200: entrySchema, ...commonErrors } },
    preHandler: app.authorize(['finance:read', 'program:manage']),
    handler: async (request) => {
      const entry = await findEntry(db, programOf(request).id, request.params.entryId)
      if (!entry) throw notFound('Entry')
      return entryView(entry)
    },
  })

  app.post('/v1/ledger/entries/:entryId/reversal', {
    schema: { operationId: 'reverseEntry', description: 'Reverses an entry with a mirrored one, once; writes one ledger entry. A reversal cannot be reversed; a reward redemption is cancelled instead (its own endpoint gives the stock and the coupon back too).', 'x-problems': { 409: ['ALREADY_REVERSED', 'CANNOT_REVERSE_REVERSAL', 'CANNOT_REVERSE_REWARD_REDEMPTION'], 422: ['INSUFFICIENT_FUNDS'] },
      tags: ['ledger'],
      summary: 'Reverse an entry with a mirrored one (once)',
      security: bearer,
      params: z.object({ entryId: z.uuid() }),
      headers: idempotencyHeaderSchema,
      body: named(reversalBodySchema, 'EntryReversalRequest'),
      response: { 201: entrySchema, ...writeErrors },
    },
    preHandler: app.authorize(['program:manage']),
    handler: async (request, reply) => {
      const program = programOf(request)
      const hash = requestHash(`reverse:${request.params.entryId}`, request.body)
      const options = { reason: request.body.reason, allowOverdraft: request.body.allowNegativeBalance, restoredPointsExpireAt: restoredPointsExpiry(readRules(program.rules), new Date()) }
      const stored = await runIdempotentPlan(database, program.id, request.headers['idempotency-key'], hash, async (idempotency) => {
        const { status, body } = await reverseEntry(database, program, request.params.entryId, options, request.principal!.clientId, idempotency)
        return { status, body }
      })
      return sendStored(request, reply, stored)
    },
  })

  app.get('/v1/ledger/verify', {
    schema: { operationId: 'verifyLedger', description: 'Recomputes every balance of the program from its postings and checks that every entry balances; writes nothing.',
      tags: ['ledger'],
      summary: 'Recompute every balance from postings and check every entry balances',
      security: bearer,
      response: { 200: verifySchema, ...commonErrors },
    },
    preHandler: app.authorize(['finance:read']),
    handler: async (request) => {
      const program = programOf(request)
      const report = await db.transaction((tx) => verifyLedger(tx as unknown as Executor, program.id), { isolationLevel: 'repeatable read', accessMode: 'read only' })
      return { ...report, checkedAt: new Date().toISOString() }
    },
  })
}

export default ledgerRoutes
