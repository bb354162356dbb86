import { PlanError, type AppliedPlan, type PlanData } from './apply.js'

// Group commit for the executor (./apply.ts): plans waiting for the database at the same moment
// are applied by one ll_apply statement, one transaction, each plan's refusal its own.

export type Outcome = { ok: AppliedPlan } | { error: { code: string; message: string; constraint: string | null } }

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
      // A plan that locks a member's wallets without a member check sorts by that member too.
      this.queue.push({ lockKey: plan.member?.id ?? plan.wallets?.memberId ?? '', json: JSON.stringify(plan), attempts: 0, resolve, reject })
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
