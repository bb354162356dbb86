import { rowJson } from '../../db/row-json.js'
import { purchases, type PurchaseRow } from './tables.js'

export type { StoredDiscount, StoredHolds, StoredLine, StoredRefund, StoredReturnLine, StoredTender, StoredWarning } from './json-types.js'

/** The purchases row as ll_apply takes it (jsonb_populate_recordset). */
export const purchaseRowJson = (row: PurchaseRow) => rowJson(purchases, row)

/**
 * The member of a purchase that must have one: a held sale, its capture or void (a gift card,
 * the only way to buy without a member, pays captured sales only). Null there is a bug, not input.
 */
export function memberOf(row: Pick<PurchaseRow, 'id' | 'memberId'>): string {
  if (row.memberId === null) throw new Error(`purchase ${row.id} names no member`)
  return row.memberId
}
