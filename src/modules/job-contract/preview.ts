// What a dry run answers: the counters the run would return and the members (or purchases) it
// would change, the first PREVIEW_LIMIT of them with the total count.

/** How many affected members or purchases a dry run lists; the total is always counted. */
export const PREVIEW_LIMIT = 100

export const PREVIEW_ACTIONS = ['expire', 'keep', 'upgrade', 'downgrade', 'celebrate', 'void', 'purge'] as const
export type PreviewAction = (typeof PREVIEW_ACTIONS)[number]

export interface PreviewItem {
  /** What the run would do to it. */
  action: PreviewAction
  memberId: string | null
  /** Points the run would move for this member (expired, granted); null when none move. */
  points: number | null
  /** Extra facts of the action: tier codes (fromTier, toTier), the birthday's date (celebratedOn), the purchase (purchaseId). */
  detail?: Record<string, string | null>
}

export interface JobPreview {
  /** The counters the run would return, e.g. {"granted": 3}. */
  result: Record<string, number>
  affected: PreviewItem[]
  affectedTotal: number
}

/** Collects a dry run's affected items: keeps the first PREVIEW_LIMIT, counts them all. */
export class PreviewList {
  readonly items: PreviewItem[] = []
  total = 0

  add(item: PreviewItem): void {
    this.total += 1
    if (this.items.length < PREVIEW_LIMIT) this.items.push(item)
  }

  preview(result: Record<string, number>): JobPreview {
    return { result, affected: this.items, affectedTotal: this.total }
  }
}
