import { Decimal } from 'decimal.js'

/**
 * The one place money and points are rounded. Rates and ratios are computed with decimal.js at
 * 40 significant digits (exact for any amount this service accepts), then rounded here.
 */
export const D = Decimal.clone({ precision: 40, rounding: Decimal.ROUND_HALF_UP })
export type DecimalValue = InstanceType<typeof D>

export type RoundingMode = 'down' | 'half_up' | 'up'

const MODES: Record<RoundingMode, Decimal.Rounding> = {
  down: Decimal.ROUND_DOWN,
  half_up: Decimal.ROUND_HALF_UP,
  up: Decimal.ROUND_UP,
}

/** Rounds a non-negative decimal to a whole number of minor units or points. */
export function roundToInteger(value: DecimalValue, mode: RoundingMode): bigint {
  return BigInt(value.toDecimalPlaces(0, MODES[mode]).toFixed(0))
}

/**
 * Splits `total` (>= 0) across `weights` in proportion, by largest remainder: every part is the
 * floor of its exact share, and the units left over go to the largest fractional remainders
 * (ties to the earlier weight). The parts always sum exactly to `total`; a part never exceeds
 * its weight when `total` <= the sum of the weights.
 */
export function allocateProportionally(total: bigint, weights: bigint[]): bigint[] {
  const sum = weights.reduce((a, b) => a + b, 0n)
  if (total < 0n || weights.some((w) => w < 0n)) throw new RangeError('allocation takes non-negative amounts')
  if (sum === 0n) {
    if (total === 0n) return weights.map(() => 0n)
    throw new RangeError('cannot allocate onto zero weights')
  }
  const parts = weights.map((w) => (total * w) / sum)
  const remainders = weights.map((w, i) => ({ i, r: (total * w) % sum }))
  let left = total - parts.reduce((a, b) => a + b, 0n)
  remainders.sort((a, b) => (b.r > a.r ? 1 : b.r < a.r ? -1 : a.i - b.i))
  for (const { i } of remainders) {
    if (left === 0n) break
    parts[i]! += 1n
    left -= 1n
  }
  return parts
}
