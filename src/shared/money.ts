import cc from 'currency-codes'

/** ISO 4217 minor-unit exponent of a currency (VND 0, USD 2), or undefined for an unknown or non-monetary code. */
export function currencyExponent(code: string): number | undefined {
  const entry = cc.code(code)
  if (!entry || typeof entry.digits !== 'number') return undefined
  return entry.digits
}

export function isSupportedCurrency(code: string): boolean {
  return /^[A-Z]{3}$/.test(code) && currencyExponent(code) !== undefined
}
