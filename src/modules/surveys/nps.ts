import { D } from '../../shared/rounding.js'

export type NpsCategory = 'promoter' | 'passive' | 'detractor'

/** 9-10 promoters, 7-8 passives, 0-6 detractors. */
export function npsCategory(score: number): NpsCategory {
  if (!Number.isInteger(score) || score < 0 || score > 10) throw new RangeError(`an NPS score is 0-10, not ${score}`)
  return score >= 9 ? 'promoter' : score >= 7 ? 'passive' : 'detractor'
}

export interface NpsCounts {
  promoters: number
  passives: number
  detractors: number
}

/** NPS = % promoters - % detractors, -100 to +100, two decimals (half up); null without answers. */
export function netPromoterScore(c: NpsCounts): number | null {
  const total = c.promoters + c.passives + c.detractors
  if (total === 0) return null
  return D(c.promoters - c.detractors).times(100).div(total).toDecimalPlaces(2).toNumber()
}

export function npsView(c: NpsCounts) {
  const responses = c.promoters + c.passives + c.detractors
  return { responses, ...c, nps: netPromoterScore(c) }
}
