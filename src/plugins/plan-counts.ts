import type { PlanData } from '../db/apply.js'

// Pure: what an applied plan adds to the business counters (src/plugins/metrics.ts). A plan is
// data, so what a command wrote is read off it: its purchases, returns and coupon redemptions, and
// what its entries moved on members' wallets, by entry kind (purchase, return, expiry, top_up, ...).

export interface WalletFlow {
  /** POINTS, or the stored value's currency. */
  asset: string
  kind: string
  direction: 'credit' | 'debit'
  /** Points, or minor units of the currency. */
  amount: number
}

export interface PlanCounts {
  purchases: Map<string, number>
  returns: number
  couponRedemptions: number
  flows: WalletFlow[]
}

const rowsInserted = (plan: PlanData, table: string) =>
  (plan.rows ?? []).reduce((n, r) => n + (r.op === 'insert' && r.table === table ? r.rows.length : 0), 0)

export function planCounts(plan: PlanData): PlanCounts {
  const purchases = new Map<string, number>()
  for (const p of plan.purchases ?? []) purchases.set(String(p.status), (purchases.get(String(p.status)) ?? 0) + 1)
  const flows: WalletFlow[] = []
  for (const step of [...(plan.entries ?? []), ...(plan.openings?.entries ?? [])]) {
    const kind = String(step.entry.kind)
    for (const posting of step.postings) {
      if (posting.wallet !== true) continue
      const amount = Number(posting.amount)
      if (amount === 0) continue
      flows.push({ asset: String(posting.asset), kind, direction: amount > 0 ? 'credit' : 'debit', amount: Math.abs(amount) })
    }
  }
  return { purchases, returns: rowsInserted(plan, 'purchase_returns'), couponRedemptions: rowsInserted(plan, 'coupon_redemptions'), flows }
}
