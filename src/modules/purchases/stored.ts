import { rowJson } from '../../db/row-json.js'
import { purchases, type PurchaseRow } from './tables.js'

export type { StoredDiscount, StoredHolds, StoredLine, StoredRefund, StoredReturnLine, StoredTender, StoredWarning } from './json-types.js'

/** The purchases row as ll_apply takes it (jsonb_populate_recordset). */
export const purchaseRowJson = (row: PurchaseRow) => rowJson(purchases, row)
