import { z } from 'zod'
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod'
import { programOf } from '../../plugins/auth.js'
import { bearer } from '../../plugins/openapi.js'
import { AppError, validationFailed } from '../../shared/errors.js'
import { currencyExponent, formatMinorUnits, moneyParser } from '../../shared/money.js'
import { commonErrors, moneyText, problemSchema } from '../../shared/schemas.js'
import { idempotencyHeaderSchema, requestHash, runIdempotent } from '../idempotency/service.js'
import { sendStored } from '../idempotency/reply.js'
import { memberStoredValue, tenderClearing } from '../ledger/accounts.js'
import { transfer } from '../ledger/planner.js'
import { memberBalances } from '../ledger/reads.js'
import { balancesSchema } from '../ledger/schemas.js'
import { postEntry } from '../ledger/service.js'
import { balancesView } from '../ledger/views.js'
import { findMember } from '../members/repository.js'
import { memberParamsSchema } from '../members/schemas.js'
import { recordTopUpReceipt } from '../receipts/record.js'
import { receiptLinkSchema, receiptLinkOf } from '../receipts/links.js'

const topUpSchema = z
  .object({
    amount: moneyText,
    tender: z.enum(['cash', 'card', 'bank_transfer', 'e_wallet', 'other']),
    storeId: z.string().trim().min(1).max(64),
    terminalId: z.string().trim().min(1).max(64).optional(),
    reference: z.string().trim().min(1).max(100).optional().describe('The POS or payment reference'),
  })
  .strict()

const topUpResultSchema = z
  .object({
    id: z.uuid().describe('The ledger entry of the top-up'),
    memberId: z.uuid(),
    amount: z.string(),
    tender: z.string(),
    storeId: z.string(),
    reference: z.string().nullable(),
    createdAt: z.string(),
    balances: balancesSchema,
    receipt: receiptLinkSchema,
  })
  .meta({ id: 'TopUp' })

/** Most a single top-up may load: one place to change it, far below bigint limits. */
const MAX_TOP_UP_MAJOR_UNITS = 1_000_000_000n

const storedValueRoutes: FastifyPluginAsyncZod = async (app) => {
  const database = app.db

  app.post('/v1/members/:memberId/stored-value/top-ups', {
    schema: {
      tags: ['stored value'],
      summary: 'Load prepaid stored value onto a member (tender clearing to member wallet)',
      security: bearer,
      params: memberParamsSchema,
      headers: idempotencyHeaderSchema,
      body: topUpSchema,
      response: { 201: topUpResultSchema, ...commonErrors, 409: problemSchema, 422: problemSchema },
    },
    preHandler: app.authorize(['pos']),
    handler: async (request, reply) => {
      const program = programOf(request)
      const { memberId } = request.params
      const body = request.body
      const exp = currencyExponent(program.currency) ?? 0
      const money = moneyParser(exp, program.currency)
      const amount = money.parse(body.amount, 'body/amount')
      money.done()
      if (amount <= 0n || amount > MAX_TOP_UP_MAJOR_UNITS * 10n ** BigInt(exp)) {
        throw validationFailed(`amount: must be positive and at most ${MAX_TOP_UP_MAJOR_UNITS} ${program.currency}`, [{ path: 'body/amount', message: 'out of range' }])
      }
      const stored = await runIdempotent(database, program.id, request.headers['idempotency-key'], requestHash(`top-up:${memberId}`, body), async (tx) => {
        const member = await findMember(tx, program.id, memberId)
        if (!member) throw new AppError(404, 'MEMBER_NOT_FOUND', 'Member not found', 'No member of this program has this id')
        if (member.erasedAt) throw new AppError(409, 'MEMBER_ERASED', 'Member erased', 'This member’s personal data was erased; no new top-ups')
        const now = new Date()
        const posted = await postEntry(
          tx,
          program.id,
          {
            kind: 'top_up',
            effectiveAt: now,
            memberId,
            storeId: body.storeId,
            referenceType: 'top_up',
            referenceId: body.reference,
            metadata: { tender: body.tender, terminalId: body.terminalId },
            legs: transfer(tenderClearing(body.storeId, program.currency), memberStoredValue(memberId, program.currency), amount),
          },
          request.principal!.clientId,
        )
        const balances = await memberBalances(tx, program.id, memberId, program.currency)
        // The e-receipt and storedValue.toppedUp commit with the entry, or not at all.
        const receipt = await recordTopUpReceipt(
          tx,
          program,
          { entryId: posted.entryId, amount, tender: body.tender, storeId: body.storeId, terminalId: body.terminalId, reference: body.reference, occurredAt: now },
          { member: { id: member.id, phone: member.phone }, balances, now },
        )
        return {
          status: 201,
          body: {
            id: posted.entryId,
            memberId,
            amount: formatMinorUnits(amount, exp),
            tender: body.tender,
            storeId: body.storeId,
            reference: body.reference ?? null,
            createdAt: now.toISOString(),
            balances: balancesView(memberId, program.currency, balances),
            receipt: receiptLinkOf(receipt, app.config.publicBaseUrl),
          },
        }
      })
      return sendStored(request, reply, stored)
    },
  })
}

export default storedValueRoutes
