import { allocateProportionally } from '../../shared/rounding.js'
import { lineGross, milliOf, quantityValue, valueOfFirst } from '../../shared/quantity.js'
import type { ReturnedLineInput, SaleLine, SaleRecord } from './inputs.js'

const big = (v: string | bigint | undefined | null) => (v === undefined || v === null ? 0n : BigInt(v))

export const storedLines = (sale: SaleRecord) => sale.lines as SaleLine[]

/** A returned part of a line, as the purchases service values it. */
export interface ReturnedLine extends SaleLine {
  /** Thousandths returned by this return, and its quantity as printed (the line's form). */
  returnMilli: bigint
  returnQuantity: SaleLine['quantity']
  /** The returned part's share of the line before discounts. */
  gross: bigint
  value: bigint
}

/**
 * The lines a return takes back, valued like the purchases service values them (the value of
 * what has been returned after, less before: parts rounded down, a whole line exact), then fitted
 * exactly to the refunded amount. `sale` is the purchase as it was before this return.
 */
export function returnedLines(sale: SaleRecord, requested: ReturnedLineInput[], amount: bigint): ReturnedLine[] {
  const lines = storedLines(sale).map((l) => ({ ...l, done: milliOf(l.returnedQuantity ?? 0) }))
  const picked = requested.map((r) => {
    const index = r.line !== undefined ? r.line - 1 : lines.findIndex((l) => l.sku === r.sku)
    const line = lines[index]
    if (!line) throw new RangeError(`returned line ${r.line ?? r.sku} is not in the purchase`)
    const milli = milliOf(r.quantity)
    const bought = milliOf(line.quantity)
    const part = (whole: bigint) => valueOfFirst(whole, line.done + milli, bought) - valueOfFirst(whole, line.done, bought)
    const value = part(big(line.amount))
    const gross = part(lineGross(big(line.unitPrice), bought))
    line.done += milli
    const { done: _, ...sold } = line
    return { ...sold, returnMilli: milli, returnQuantity: quantityValue(milli, line.unit), gross, value }
  })
  const values = picked.map((p) => p.value)
  const fitted = values.reduce((a, b) => a + b, 0n) > 0n ? allocateProportionally(amount, values) : values
  return picked.map((p, i) => ({ ...p, value: fitted[i]! }))
}

