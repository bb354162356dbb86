// Member segmentation: lifecycle stages (lifecycle.ts) and RFM segments (rfm.ts), over the
// purchases that count (here). The members list labels and filters members by them and the
// analytics reports count them, so they are a module of their own below both.
import { sql, type SQL } from 'drizzle-orm'
import { D } from '../../shared/rounding.js'

/**
 * The purchases customer analytics count: completed (held and voided ones are not sales) and not
 * wholly returned, each worth its total net of returns. Returns are attributed to the sale they
 * return, so a later return lowers the revenue of the sale's period, never a later one. Sales that
 * named no member (gift cards and money, docs/gift-cards.md) are nobody's: not counted.
 */
export const countedPurchases = (programId: string, before: Date): SQL => sql`
  select member_id, occurred_at, (total - returned_total) as net
    from purchases
   where program_id = ${programId} and member_id is not null and status = 'completed' and returned_total < total
     and occurred_at < ${before.toISOString()}::timestamptz`

export const ts = (d: Date) => sql`${d.toISOString()}::timestamptz`

const DAY_MS = 86_400_000
export const daysBefore = (d: Date, days: number) => new Date(d.getTime() - days * DAY_MS)

/** A ratio rounded half-up to `places` decimals, null when the denominator is zero. */
export function ratio(numerator: bigint | number | string, denominator: bigint | number | string, places = 4): number | null {
  if (D(denominator.toString()).isZero()) return null
  return D(numerator.toString()).div(denominator.toString()).toDecimalPlaces(places).toNumber()
}
