import type { TenderCard, TenderType } from './calculator.js'
import type { PurchaseRow } from './tables.js'

// What a posted return reports (returns.ts) and its view shows (views.ts): apart from both, so
// that the view does not import the service that calls it.

export interface ReturnResult {
  id: string
  purchaseId: string
  memberId: string | null
  /** The purchase as it was before this return (its receipt describes the return against it). */
  before: PurchaseRow
  reason: string | null
  amount: bigint
  refunds: ({ type: TenderType; amount: bigint; points?: bigint } & Partial<TenderCard>)[]
  pointsClawedBack: bigint
  pointsDebt: bigint
  entryId: string | null
  createdAt: Date
}
