import cc from 'currency-codes'
import { validationFailed, type FieldProblem } from './errors.js'

/** ISO 4217 units that no retailer takes at a till: fund and settlement units, metals, test and "no currency" codes. */
const NON_CASH_UNITS = new Set(['XDR', 'XSU', 'XUA', 'XBA', 'XBB', 'XBC', 'XBD', 'XAU', 'XAG', 'XPD', 'XPT', 'XTS', 'XXX'])

/** ISO 4217 minor-unit exponent of a currency (VND 0, USD 2), or undefined for an unknown or non-cash code. */
export function currencyExponent(code: string): number | undefined {
  if (!/^[A-Z]{3}$/.test(code) || NON_CASH_UNITS.has(code)) return undefined
  const entry = cc.code(code)
  if (!entry || typeof entry.digits !== 'number' || entry.countries.every((c) => c.startsWith('Zz'))) return undefined
  return entry.digits
}

export function isSupportedCurrency(code: string): boolean {
  return currencyExponent(code) !== undefined
}

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

/** Parses every money field against the program currency, reporting each bad one. */
export function moneyParser(exponent: number, currency: string) {
  const problems: FieldProblem[] = []
  const parse = (text: string, path: string): bigint => {
    const value = parseMinorUnits(text, exponent)
    if (value === undefined) {
      problems.push({ path, message: `not a valid ${currency} amount (${exponent} decimal places at most)` })
      return 0n
    }
    if (value > 10n ** 15n) problems.push({ path, message: 'too large' })
    return value
  }
  const done = () => {
    if (problems.length > 0) throw validationFailed(problems.map((p) => `${p.path}: ${p.message}`).join('; '), problems)
  }
  return { parse, done }
}
