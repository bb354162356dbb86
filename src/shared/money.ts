import cc from 'currency-codes'

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
