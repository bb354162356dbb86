import { formatMinorUnits } from '../shared/money.js'

// The write executor: a plan decided in TypeScript (pure data) is applied by one statement,
// `select ll_apply($1::jsonb)` (migration 0018), in its own implicit transaction: no BEGIN and no
// COMMIT round trip. Plans that wait for the database at the same moment go together, in one
// group: one statement, one commit, each plan in its own subtransaction so that one plan's
// refusal undoes that plan alone. The one lock order (member, ledger accounts in id order, lots,
// rows, receipt, events, idempotency record) is encoded once, in ll_apply_plan.

/** A ledger entry as ledger_post_entry takes it (src/modules/ledger/entry-step.ts builds it). */
export interface EntryStep {
  entry: Record<string, unknown>
  accounts: Record<string, unknown>[]
  postings: Record<string, unknown>[]
  allowOverdraft: boolean
}

/** A lot's part, as the load saw it and the plan takes or reserves it (snake_case: jsonb_to_recordset reads it). */
export interface LotPart {
  lot_id: string
  points: string
}

/** What an entry does to lots, in plan order (ll_plan_lot, migrations 0018 and 0020). */
export type LotStep =
  | { kind: 'open'; lotId: string; memberId: string; entryId: string; points: string; earnedAt: string; expiresAt: string | null; accountId: string }
  | { kind: 'consume'; entryId: string; memberId: string; points: string; preferEntry: string | null }
  /** Exactly these points, `held` of them from the lots' reserved parts (LL300 when a lot no longer has them). */
  | { kind: 'shares'; entryId: string; shares: (LotPart & { held: string })[] }
  /** Pending holds' reservations shrink (an overdraft took their points). */
  | { kind: 'cuts'; cuts: (LotPart & { hold_id: string })[] }
  /** Points given back to the lots `original` took them from; the rest, or what expired, opens lot `lotId`. */
  | { kind: 'restore'; entryId: string; memberId: string; points: string; original: string; effectiveAt: string; expiresAt: string | null; lotId: string; accountId: string }
  /** The lots an expiry entry emptied, marked expired by it. */
  | { kind: 'expired'; entryId: string; lotIds: string[] }

/** A refusal a plan names for a row that is missing (SQLSTATE LL4xx, its message the API's cue). */
export interface Missing {
  code: string
  message: string
}

/**
 * A row the command acts on, locked FOR UPDATE before the wallets (a purchase before its capture,
 * an entry before its reversal): LL404 (or `missing`) when it is not there, LL300 (stale) when its
 * version (`xmin`, see rowVersion) is not the one the load read.
 */
export interface LockStep {
  table: string
  key: Record<string, unknown>
  version?: string
  missing?: Missing
}

export type HoldStep =
  /** Ends a pending hold once (LL301 `hold_resolved:<status>` when it was not pending; LL300 when its reservations are not `reserved`). */
  | { op: 'resolve'; holdId: string; status: 'posted' | 'voided' | 'expired'; postedAmount: string | null; postedEntryId: string | null; reserved?: LotPart[] }
  /** Reserves `amount` on a wallet (LL100 `insufficient_funds:<asset>`), and exactly `lots` of a points wallet's lots. */
  | { op: 'place'; holdId: string; accountId: string; asset: string; amount: string; expiresAt: string; referenceType: string | null; referenceId: string | null; lots: LotPart[] }

export type RowStep =
  /** Rows of `table`, every column given; on a conflict on `onConflict.columns`, the `add` columns are added to the row there. */
  | { op: 'insert'; table: string; rows: Record<string, unknown>[]; onConflict?: { columns: string[]; add: string[] } }
  /**
   * Exactly the row of `key` holding the values of `expect` (else LL300 stale, or `missing`):
   * `set` columns replaced, `add` columns added to (a CHECK on them refuses a limit crossed).
   */
  | { op: 'update'; table: string; key: Record<string, unknown>; set?: Record<string, unknown>; add?: Record<string, string>; expect?: Record<string, unknown>; missing?: Missing }

/**
 * A value known only once the entries are applied, written at `path` of a document: the member's
 * wallets after (with `wallets`), their masked phone, or `entry.<index>.<seq>`, the balance after
 * of that posting of the plan's entries (minor units; with `exponent`, as the API's decimal string).
 */
export type Fact = 'points.available' | 'storedValue.available' | 'balances' | 'member.phone' | `entry.${number}.${number}`
export interface Fill {
  path: (string | number)[]
  fact: Fact
  exponent?: number
}

/**
 * Opening balances of members new to the ledger (a member import), posted set-based by
 * ll_plan_openings (migration 0025) after the entries: each entry only credits wallets that do not
 * exist yet (created here with those credits; a wallet that exists refuses the plan), and each
 * points credit opens exactly the lot named here. Hundreds of members in a few statements, where
 * ledger_post_entry takes several a member.
 */
export interface OpeningsStep {
  entries: EntryStep[]
  lots: (LotStep & { kind: 'open' })[]
}

/** Everything one write command does, as data. Rows are snake_case column names, bigints as decimal strings. */
export interface PlanData {
  program: string
  /** The member must exist (LL201), and not be erased when so asked (LL202); the plan's facts include its masked phone. */
  member?: { id: string; refuseErased: boolean }
  /** Rows locked after the member and before the wallets, in this order. */
  locks?: LockStep[]
  /** Holds resolved or placed, before the entries (a capture's hold releases what its entry then posts). */
  holds?: HoldStep[]
  entries?: EntryStep[]
  openings?: OpeningsStep
  /**
   * Points granted to many members at once (a segment campaign), posted set-based by ll_plan_grants
   * (migration 0027) after the openings: each entry a bonus crediting one points wallet (existing or
   * not) against a system account, no wallet twice, each credit opening exactly the lot named here.
   */
  grants?: OpeningsStep
  lots?: LotStep[]
  /** Rows of `purchases`, every column given. */
  purchases?: Record<string, unknown>[]
  /** The command's other rows, after the purchases, in this order. */
  rows?: RowStep[]
  /** The member's wallets whose balances after the plan are returned and can be filled in. */
  wallets?: { memberId: string; points: string; storedValue: string; currency: string; exponent: number }
  receipts?: { row: Record<string, unknown>; fills?: Fill[] }[]
  /** `whenCrossedBelow`: written only if the spend took the available stored value across the threshold. */
  events?: { row: Record<string, unknown>; fills?: Fill[]; whenCrossedBelow?: { threshold: string; spent: string } }[]
  /** purchase.unusual, decided against the member's recent purchases (receipts/plan-steps.ts). */
  unusual?: {
    eventId: string
    memberId: string
    purchaseId: string
    total: string
    above: string | null
    timesAverage: string | null
    minPurchases: number
    lookback: number
    exponent: number
    at: string
    payload: Record<string, unknown>
  }
  idempotency?: { key: string; hash: string; status: number; body: unknown; fills?: Fill[] }
}

export interface AppliedPlan {
  wallets: { pointsBalance: string; pointsPending: string; storedValueBalance: string; storedValuePending: string }
  member: { phone: string | null; referredBy: string | null } | null
  events: { id: string; type: string }[]
  /** Every fact the fills could name, as the database computed them. */
  facts: Record<string, unknown>
}

/**
 * The fills of a document applied here, as ll_fill applies them in the database: a command answers
 * with `filled(template, fills, applied.facts)` and its idempotency record holds the same bytes.
 */
export function filled<T>(doc: T, fills: Fill[], facts: Record<string, unknown>): T {
  type Node = Record<string | number, unknown>
  // Copies only the objects on each fill's path; the rest of the document is shared, not cloned.
  const copy = (node: unknown): Node => (Array.isArray(node) ? [...node] : { ...(node as Node) }) as Node
  const out = copy(doc)
  for (const f of fills) {
    if (!(f.fact in facts)) throw new Error(`plan fills unknown fact ${f.fact}`)
    const value = facts[f.fact]
    let at = out
    for (const key of f.path.slice(0, -1)) at = at[key] = copy(at[key])
    at[f.path[f.path.length - 1]!] = f.exponent === undefined ? value : formatMinorUnits(BigInt(value as string), f.exponent)
  }
  return out as T
}

/** A plan refused or failed inside its subtransaction, as PostgreSQL reported it. */
export class PlanError extends Error {
  readonly code: string
  /** Named like postgres.js's field, so pgErrorOf reads it as any database error. */
  readonly constraint_name: string | undefined
  constructor(error: { code: string; message: string; constraint: string | null }) {
    super(error.message)
    this.code = error.code
    this.constraint_name = error.constraint ?? undefined
  }
}

/** The plan's load is out of date (a row's version, a hold's reservations, a lot's points). */
export const STALE = 'LL300'

/**
 * Runs `attempt` (load, plan, apply) again while its plan finds the database changed since its
 * load (LL300): each time it loads what is there now. A command that still meets a change after
 * `attempts` answers with it (a 503 through the error handler: the client retries with its key).
 */
export async function appliedFresh<T>(attempt: () => Promise<T>, attempts = 5): Promise<T> {
  for (let i = 1; ; i++) {
    try {
      return await attempt()
    } catch (err) {
      if (!(err instanceof PlanError && err.code === STALE) || i >= attempts) throw err
    }
  }
}
