import { roundMoney } from './money.js'

// Quantities of a line: whole pieces, or an amount of a good sold by measure (weight, volume,
// length) with up to three decimals. Kept exact as thousandths (bigint), never as floats.

/** Units a line sold by measure may be in; pieces ('pc') are the default. */
export const MEASURE_UNITS = ['kg', 'g', 'l', 'ml', 'm'] as const
export const QUANTITY_UNITS = ['pc', ...MEASURE_UNITS] as const
export type MeasureUnit = (typeof MEASURE_UNITS)[number]
export type QuantityUnit = (typeof QUANTITY_UNITS)[number]

/** A quantity as stored and answered: a whole number of pieces, or a decimal string for a unit of measure. */
export type QuantityValue = number | string

/** Thousandths per unit: a quantity has at most three decimals (0.375 kg, 1.5 l). */
export const QUANTITY_SCALE = 1000n
export const MAX_QUANTITY = 100_000
const MAX_MILLI = BigInt(MAX_QUANTITY) * QUANTITY_SCALE
/** A quantity as text: at most ten whole digits and three decimals. */
export const QUANTITY_TEXT = /^(0|[1-9][0-9]{0,9})(?:\.([0-9]{1,3}))?$/

/** A unit sold by measure; absent and 'pc' are pieces. */
export const isMeasured = (unit: string | null | undefined): unit is MeasureUnit => unit !== undefined && unit !== null && unit !== 'pc'

/**
 * A quantity as a caller sent it (a JSON number or a decimal string), in thousandths, or why it
 * cannot be taken. A JSON number is read through its shortest decimal form, exact for three
 * decimals (0.375 is "0.375"). Greater than zero, at most 100,000, three decimals at most.
 */
export function readQuantity(value: unknown): { milli: bigint } | { problem: string } {
  const text = typeof value === 'number' ? (Number.isFinite(value) ? String(value) : '') : typeof value === 'string' ? value : undefined
  if (text === undefined) return { problem: 'a number, or a decimal string such as "0.375"' }
  const m = QUANTITY_TEXT.exec(text)
  if (!m) return { problem: `a positive number with at most 3 decimals, at most ${MAX_QUANTITY}` }
  const milli = BigInt(m[1]!) * QUANTITY_SCALE + BigInt((m[2] ?? '').padEnd(3, '0'))
  if (milli <= 0n) return { problem: 'must be greater than zero' }
  if (milli > MAX_MILLI) return { problem: `at most ${MAX_QUANTITY}` }
  return { milli }
}

/** A quantity the service wrote itself (a stored line, a checked request), in thousandths. */
export function milliOf(value: QuantityValue): bigint {
  const read = readQuantity(value)
  if ('problem' in read) {
    if (value === 0 || value === '0') return 0n
    throw new RangeError(`not a quantity: ${String(value)}`)
  }
  return read.milli
}

/** Whole pieces? (a fraction of a piece is refused) */
export const isWhole = (milli: bigint) => milli % QUANTITY_SCALE === 0n

/** 375n -> "0.375", 1500n -> "1.5", 2000n -> "2": the shortest exact decimal. */
export function quantityText(milli: bigint): string {
  const whole = milli / QUANTITY_SCALE
  const fraction = (milli % QUANTITY_SCALE).toString().padStart(3, '0').replace(/0+$/, '')
  return fraction ? `${whole}.${fraction}` : whole.toString()
}

/** How a quantity is stored and answered: pieces as a whole number (as always), a measure as a decimal string. */
export function quantityValue(milli: bigint, unit: string | null | undefined): QuantityValue {
  return isMeasured(unit) ? quantityText(milli) : Number(milli / QUANTITY_SCALE)
}

/**
 * What `quantity` of a good at `unitPrice` (minor units per piece or per unit of measure) costs:
 * rounded once, to the minor unit, with the money rounding mode. Whole pieces are exact.
 */
export function lineGross(unitPrice: bigint, milli: bigint): bigint {
  return roundMoney(unitPrice * milli, QUANTITY_SCALE)
}

/**
 * The value of the first `part` of `whole` (both thousandths) of a line worth `amount`: the whole
 * line exactly, parts rounded down. A line returned in steps gives back the difference between
 * what has been returned after and before each step, so the steps always sum to `amount`.
 */
export function valueOfFirst(amount: bigint, part: bigint, whole: bigint): bigint {
  if (part >= whole) return amount
  if (part <= 0n) return 0n
  return (amount * part) / whole
}
