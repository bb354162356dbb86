import { currencyExponent } from '../../shared/money.js'
import type { JobDefinition } from '../job-contract/definition.js'
import { readRules } from '../programs/rules.js'
import { previewReviewTiers, reviewTiers } from './review.js'

export const reviewTiersJob: JobDefinition = {
  name: 'review-tiers',
  description: 'Re-evaluates members whose tier guarantee ended: kept, raised or lowered by the metric over the window',
  daily: true,
  run: async ({ database, program, asOf }) => {
    const { counts } = await reviewTiers(database, program, readRules(program.rules), asOf, currencyExponent(program.currency) ?? 0)
    return counts
  },
  preview: (ctx) => previewReviewTiers(ctx, readRules(ctx.program.rules), currencyExponent(ctx.program.currency) ?? 0),
}
