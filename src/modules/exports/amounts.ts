import { currencyExponent, formatMinorUnits } from '../../shared/money.js'
import { POINTS } from '../ledger/accounts.js'

/**
 * Formats amounts of any asset in major units (points: whole numbers; a currency: its ISO 4217
 * exponent), remembering each asset's exponent: an export formats a million amounts.
 */
export function assetFormatter(): (value: bigint, asset: string) => string {
  const exponents = new Map<string, number>()
  return (value, asset) => {
    let exp = exponents.get(asset)
    if (exp === undefined) {
      exp = asset === POINTS ? 0 : (currencyExponent(asset) ?? 0)
      exponents.set(asset, exp)
    }
    return formatMinorUnits(value, exp)
  }
}
