import { z } from 'zod'
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod'
import { programOf } from '../../plugins/auth.js'
import { bearer } from '../../plugins/openapi.js'
import { notFound } from '../../shared/errors.js'
import { currencyExponent, formatMinorUnits } from '../../shared/money.js'
import { commonErrors, isoTimestamp } from '../../shared/schemas.js'
import { findMember } from '../members/repository.js'
import { memberParamsSchema } from '../members/schemas.js'
import { readRules } from '../programs/rules.js'
import { addMonthsIn, findTier, indexOfTier, qualifyingIndex, thresholdOf, tierMetric } from './service.js'

const levelSchema = z.object({ code: z.string(), name: z.string(), earnMultiplier: z.string(), discountPercent: z.string(), birthdayBonusPoints: z.number().int() })

const memberTierSchema = z
  .object({
    memberId: z.uuid(),
    tier: levelSchema.nullable().describe('Null: no tier yet (or the program has none)'),
    since: z.string().nullable(),
    guaranteedUntil: z.string().nullable().describe('The tier is kept at least until then; reviewed afterwards'),
    metric: z
      .object({
        kind: z.enum(['spend', 'pointsEarned']),
        windowFrom: z.string(),
        windowTo: z.string(),
        value: z.string().describe('Money in major units for spend, points for pointsEarned'),
      })
      .nullable(),
    next: z
      .object({ code: z.string(), name: z.string(), threshold: z.string(), remaining: z.string().describe('Still needed within the window') })
      .nullable()
      .describe('The next tier up; null at the top or without tiers'),
  })
  .meta({ id: 'MemberTier' })

const tiersRoutes: FastifyPluginAsyncZod = async (app) => {
  const db = app.db.db

  app.get('/v1/members/:memberId/tier', {
    schema: { operationId: 'getMemberTier', description: 'The member’s tier, until when it is guaranteed, and the progress to the next one.',
      tags: ['members'],
      summary: 'The member’s tier, how long it is guaranteed, and progress to the next one',
      security: bearer,
      params: memberParamsSchema,
      response: { 200: memberTierSchema, ...commonErrors },
    },
    preHandler: app.authorize(['pos', 'balances:read', 'members:read']),
    handler: async (request) => {
      const program = programOf(request)
      const { memberId } = request.params
      if (!(await findMember(db, program.id, memberId))) throw notFound('Member')
      const tiers = readRules(program.rules).tiers
      const current = await findTier(db, program.id, memberId)
      if (!tiers) return { memberId, tier: null, since: null, guaranteedUntil: null, metric: null, next: null }
      const exponent = currencyExponent(program.currency) ?? 0
      const now = new Date()
      const value = await tierMetric(db, program, tiers, memberId, now)
      const show = (v: bigint) => (tiers.metric === 'spend' ? formatMinorUnits(v, exponent) : v.toString())
      const index = indexOfTier(tiers, current?.code)
      // The next level above both the stored tier and what the metric already reaches.
      const nextLevel = tiers.levels[Math.max(index, qualifyingIndex(tiers, value, exponent), -1) + 1]
      const level = index >= 0 ? tiers.levels[index]! : null
      return {
        memberId,
        tier: level,
        since: current && level ? isoTimestamp(current.since) : null,
        guaranteedUntil: current && level ? isoTimestamp(current.guaranteedUntil) : null,
        metric: { kind: tiers.metric, windowFrom: isoTimestamp(addMonthsIn(now, -tiers.windowMonths, program.timezone)), windowTo: isoTimestamp(now), value: show(value) },
        next: nextLevel
          ? {
              code: nextLevel.code,
              name: nextLevel.name,
              threshold: show(thresholdOf(tiers, nextLevel, exponent)),
              remaining: show(thresholdOf(tiers, nextLevel, exponent) - value > 0n ? thresholdOf(tiers, nextLevel, exponent) - value : 0n),
            }
          : null,
      }
    },
  })
}

export default tiersRoutes
