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
  const out = structuredClone(doc) as Record<string | number, unknown>
  for (const f of fills) {
    if (!(f.fact in facts)) throw new Error(`plan fills unknown fact ${f.fact}`)
    const value = facts[f.fact]
    let at = out
    for (const key of f.path.slice(0, -1)) at = at[key] as Record<string | number, unknown>
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

type Outcome = { ok: AppliedPlan } | { error: { code: string; message: string; constraint: string | null } }

/**
 * Sends one group (a JSON array of plans) and returns one outcome per plan, in order. Unguarded,
 * any plan's failure fails the whole call (thrown); guarded, each plan fails alone (its outcome).
 */
export type GroupRunner = (plansJson: string, guarded: boolean) => Promise<Outcome[]>

/**
 * A failure of the statement's work (a refusal, a constraint, a deadlock), not of the connection
 * or the server: its SQLSTATE is not of class 08 (connection), 53 (resources), 57 (operator
 * intervention: shutdown, cancel) or 58 (system).
 */
function planFailureOf(err: unknown): { code: string; message: string; constraint: string | null } | undefined {
  const e = err as { code?: unknown; message?: unknown; constraint_name?: unknown; constraint?: unknown }
  if (typeof e?.code !== 'string' || !/^[0-9A-Z]{5}$/.test(e.code) || /^(08|53|57|58)/.test(e.code)) return undefined
  const constraint = (e.constraint_name ?? e.constraint) as string | undefined
  return { code: e.code, message: String(e.message ?? ''), constraint: constraint ?? null }
}

interface Waiting {
  /** The member whose wallets the plan locks: a group applies its plans in this order. */
  lockKey: string
  json: string
  attempts: number
  resolve: (applied: AppliedPlan) => void
  reject: (err: unknown) => void
}

const byLockKey = (a: Waiting, b: Waiting) => (a.lockKey < b.lockKey ? -1 : a.lockKey > b.lockKey ? 1 : 0)

/** Deadlock and serialization failure undo a plan without its fault: it is sent again, in a later group. */
const RETRYABLE = new Set(['40P01', '40001'])
const MAX_ATTEMPTS = 3

export interface GroupOptions {
  /** Groups in flight at once (each holds a connection while it runs). */
  maxInFlight: number
  /** Plans per group at most. */
  maxGroup: number
}

/**
 * Groups without waiting: a plan is sent at once when fewer than `maxInFlight` groups are
 * running (a lone till gets no slower); otherwise it waits for the next group, which takes every
 * plan queued meanwhile, up to `maxGroup`. The group size follows the load, with no timer.
 */
export class GroupApplier {
  private readonly queue: Waiting[] = []
  private inFlight = 0
  private plansInFlight = 0
  /** Sizes of the groups sent, for tests and the benchmark. */
  readonly stats = { groups: 0, plans: 0, largest: 0 }

  constructor(
    private readonly run: GroupRunner,
    private options: GroupOptions,
  ) {}

  /** Groups sent and not yet answered, and plans in them or waiting for a group (tests read them). */
  get load(): { groupsInFlight: number; plansPending: number } {
    return { groupsInFlight: this.inFlight, plansPending: this.plansInFlight + this.queue.length }
  }

  /** Changes the policy for the groups sent from now on (tests draw random group boundaries). */
  configure(options: Partial<GroupOptions>): void {
    this.options = { ...this.options, ...options }
    this.pump()
  }

  /** Applies `plan`; resolves with what it applied, or rejects with its PlanError or the group's failure. */
  apply(plan: PlanData): Promise<AppliedPlan> {
    return new Promise((resolve, reject) => {
      this.queue.push({ lockKey: plan.member?.id ?? '', json: JSON.stringify(plan), attempts: 0, resolve, reject })
      this.pump()
    })
  }

  private async sendOnce(json: string, plans: number, guarded: boolean): Promise<Outcome[]> {
    const outcomes = await this.run(json, guarded)
    if (outcomes.length !== plans) throw new Error(`ll_apply answered ${outcomes.length} outcomes for ${plans} plans`)
    return outcomes
  }

  private pump(): void {
    while (this.inFlight < this.options.maxInFlight && this.queue.length > 0) {
      // Every group takes its members' locks in one order (a plan locks one member's wallets): two
      // groups in flight never wait for each other in a cycle, however their members overlap. The
      // sort is stable, so one member's plans keep the order they came in.
      const group = this.queue.splice(0, this.options.maxGroup).sort(byLockKey)
      this.inFlight++
      this.plansInFlight += group.length
      this.stats.groups++
      this.stats.plans += group.length
      if (group.length > this.stats.largest) this.stats.largest = group.length
      void this.send(group).finally(() => {
        this.inFlight--
        this.plansInFlight -= group.length
        this.pump()
      })
    }
  }

  private async send(group: Waiting[]): Promise<void> {
    const json = `[${group.map((w) => w.json).join(',')}]`
    let outcomes: Outcome[]
    try {
      outcomes = await this.sendOnce(json, group.length, false)
    } catch (err) {
      const failure = planFailureOf(err)
      try {
        // One plan failed the unguarded group: a lone plan's failure is its outcome; a group is
        // sent again guarded, so that the failure stays with its plan and the others apply.
        if (!failure) throw err
        outcomes = group.length === 1 ? [{ error: failure }] : await this.sendOnce(json, group.length, true)
      } catch (lost) {
        // The group as a whole: connection lost, deadline, server down. Whether it committed is
        // unknown, so nobody is retried here; each caller answers as for a lost transaction (503),
        // and a client's retry with its Idempotency-Key finds what did commit.
        for (const w of group) w.reject(lost)
        return
      }
    }
    group.forEach((w, i) => {
      const outcome = outcomes[i]!
      if ('ok' in outcome) return w.resolve(outcome.ok)
      if (RETRYABLE.has(outcome.error.code) && ++w.attempts < MAX_ATTEMPTS) {
        this.queue.push(w)
        return
      }
      w.reject(new PlanError(outcome.error))
    })
  }
}
