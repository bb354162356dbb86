import cc from 'currency-codes'
import { validationFailed, type FieldProblem } from './errors.js'
import { D, roundToInteger, type RoundingMode } from './rounding.js'

/** ISO 4217 units that no retailer takes at a till: fund and settlement units, metals, test and "no currency" codes. */
const NON_CASH_UNITS = new Set(['XDR', 'XSU', 'XUA', 'XBA', 'XBB', 'XBC', 'XBD', 'XAU', 'XAG', 'XPD', 'XPT', 'XTS', 'XXX'])

/** ISO 4217 minor-unit exponent of a currency (VND 0, USD 2), or undefined for an unknown or non-cash code. */
/** Looked up once per code: the ISO table is searched, and every sale asks for its currency's exponent. */
const isoDigits = new Map<string, number | undefined>()

export function currencyExponent(code: string): number | undefined {
  if (!/^[A-Z]{3}$/.test(code) || NON_CASH_UNITS.has(code)) return undefined
  if (isoDigits.has(code)) return isoDigits.get(code)
  const entry = cc.code(code)
  const digits = !entry || typeof entry.digits !== 'number' || entry.countries.every((c) => c.startsWith('Zz')) ? undefined : entry.digits
  isoDigits.set(code, digits) // at most 26^3 codes
  return digits
}

export function isSupportedCurrency(code: string): boolean {
  return currencyExponent(code) !== undefined
}

/**
 * The exponent of a program's currency (validated when the program was made; 0 if unknown).
 */
export const exponentOf = (currency: string): number => currencyExponent(currency) ?? 0

const DECIMAL = /^(-)?(0|[1-9][0-9]*)(?:\.([0-9]+))?$/

/**
 * "125000" VND -> 125000n; "12.34" USD -> 1234n. Undefined when the text is not a plain
 * decimal or has more fraction digits than the currency's exponent ("125000.5" VND).
 * Trailing zeros within the exponent are fine ("12.30" USD).
 */
export function parseMinorUnits(text: string, exponent: number): bigint | undefined {
  const m = DECIMAL.exec(text)
  if (!m) return undefined
  const fraction = m[3] ?? ''
  if (fraction.length > exponent) return undefined
  const digits = `${m[2]}${fraction.padEnd(exponent, '0')}`
  const value = BigInt(digits)
  return m[1] ? -value : value
}

/** 125000n VND -> "125000"; 1234n USD -> "12.34"; -5n USD -> "-0.05". */
export function formatMinorUnits(value: bigint, exponent: number): string {
  const negative = value < 0n
  const digits = (negative ? -value : value).toString().padStart(exponent + 1, '0')
  const whole = exponent === 0 ? digits : digits.slice(0, -exponent)
  const fraction = exponent === 0 ? '' : `.${digits.slice(-exponent)}`
  return `${negative ? '-' : ''}${whole}${fraction}`
}

/**
 * How money that is not already whole minor units is rounded: once, half up (a line sold by weight,
 * 0.375 kg at 99,900 VND/kg, costs 37,463 VND). Percent discounts round down instead (a member never
 * gets more than the stated percent) and points by the program's earning rule.
 */
export const MONEY_ROUNDING: RoundingMode = 'half_up'

/** numerator / denominator minor units (both non-negative), rounded to a whole minor unit with MONEY_ROUNDING. */
export function roundMoney(numerator: bigint, denominator: bigint): bigint {
  if (denominator <= 0n || numerator < 0n) throw new RangeError('roundMoney takes a non-negative amount over a positive denominator')
  return roundToInteger(D(numerator.toString()).div(denominator.toString()), MONEY_ROUNDING)
}

/**
 * The largest amount the service takes anywhere, in minor units: far above any sale or setting, and
 * far enough below int8's 2^63 that sums of many such amounts still fit the database's columns.
 */
export const MAX_MINOR_UNITS = 10n ** 15n

/**
 * Reads an amount a caller sent: its minor units, or why it cannot be taken (not a decimal of the
 * currency, too large, or zero where a positive amount is needed).
 */
export function readAmount(text: string, exponent: number, currency: string, options: { positive?: boolean } = {}): { value: bigint } | { problem: string } {
  const value = parseMinorUnits(text, exponent)
  if (value === undefined) return { problem: `not a valid ${currency} amount (${exponent} decimal places at most)` }
  if (value > MAX_MINOR_UNITS) return { problem: 'too large' }
  if (options.positive && value <= 0n) return { problem: 'must be greater than zero' }
  return { value }
}

/** Parses every money field against the program currency, reporting each bad one. */
export function moneyParser(exponent: number, currency: string) {
  const problems: FieldProblem[] = []
  const parse = (text: string, path: string): bigint => {
    const read = readAmount(text, exponent, currency)
    if ('problem' in read) {
      problems.push({ path, message: read.problem })
      return 0n
    }
    return read.value
  }
  const done = () => {
    if (problems.length > 0) throw validationFailed(problems.map((p) => `${p.path}: ${p.message}`).join('; '), problems)
  }
  return { parse, done }
}
