import type { PurchaseCreate } from './schemas.js'

// Which sales of a batch must be posted one after the other. Sales that share a member (by id,
// phone or card), a receipt number in a store, a coupon code or an idempotency key go in one lane,
// in upload order: a later sale may spend what an earlier one earned, the first of two equal
// receipt numbers is the one posted, a coupon's last use goes to the earlier sale, a repeated key
// replays. Lanes share nothing of that, so they can be posted at the same time, and their
// plans commit together in the executor's groups (src/db/apply.ts).

/** What ties a sale to others: any two sales with a common key are in one lane. */
export function laneKeys(sale: PurchaseCreate, idempotencyKey: string): string[] {
  return [
    `key:${idempotencyKey}`,
    sale.memberId !== undefined ? `member:${sale.memberId}` : sale.phone !== undefined ? `phone:${sale.phone}` : `card:${sale.cardNumber ?? ''}`,
    `receipt:${sale.storeId}\u0000${sale.externalId}`,
    ...(sale.couponCodes ?? []).map((c) => `coupon:${c.toLowerCase()}`),
  ]
}

/** Pure: the lanes of `items` (indexes in upload order), ordered by their first sale. Union-find over the keys. */
export function lanesOf(items: readonly { index: number; keys: readonly string[] }[]): number[][] {
  const parent = new Map<number, number>()
  const find = (i: number): number => {
    while (parent.get(i) !== i) {
      const up = parent.get(i)!
      parent.set(i, parent.get(up)!) // path halving
      i = up
    }
    return i
  }
  const owner = new Map<string, number>()
  for (const { index, keys } of items) {
    parent.set(index, index)
    for (const key of keys) {
      const other = owner.get(key)
      if (other === undefined) owner.set(key, index)
      else {
        const [a, b] = [find(other), find(index)]
        if (a !== b) parent.set(Math.max(a, b), Math.min(a, b))
      }
    }
  }
  const lanes = new Map<number, number[]>()
  for (const { index } of items) {
    const root = find(index)
    const lane = lanes.get(root) ?? []
    lane.push(index)
    lanes.set(root, lane)
  }
  return [...lanes.values()].sort((a, b) => a[0]! - b[0]!)
}
