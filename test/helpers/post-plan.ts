// Ledger entries posted the way every request posts them: as a plan applied by the executor
// (src/db/apply.ts), its lot steps included. Tests of the ledger's own guarantees (balances,
// lots, overdraft refusals, all-or-nothing) use this instead of a second, test-only writer.
import type { Database } from '../../src/db/client.js'
import { PlanError, type PlanData } from '../../src/db/apply.js'
import type { AccountRef } from '../../src/modules/ledger/accounts.js'
import { entryStep } from '../../src/modules/ledger/entry-step.js'
import { insufficientFunds } from '../../src/modules/ledger/errors.js'
import { lotSteps } from '../../src/modules/ledger/lot-steps.js'
import type { EntryPlan } from '../../src/modules/ledger/planner.js'
import { rememberAccounts } from '../../src/modules/ledger/repository.js'
import { newId } from '../../src/shared/ids.js'

export interface PostedEntry {
  entryId: string
  /** Every posting; member wallets with their balance after the plan's entry, system accounts without. */
  postings: { account: AccountRef; amount: bigint; balanceAfter?: bigint }[]
}

/**
 * Applies the entries as one plan: all of them or none (a refused entry refuses the plan). A debit
 * beyond a wallet's available balance is INSUFFICIENT_FUNDS, as the API answers it.
 */
export async function postEntries(database: Database, programId: string, plans: EntryPlan[], actor: string, idempotency?: PlanData['idempotency']): Promise<PostedEntry[]> {
  const steps = plans.map((plan) => {
    const entryId = plan.id ?? newId()
    const lots = lotSteps(programId, entryId, plan)
    if (!lots) throw new RangeError('postEntries takes no overdraft of lots (load them as a return does)')
    return { ...entryStep(programId, { ...plan, id: entryId }, actor), lots }
  })
  // The executor posts every entry, then runs the lot steps: takes before opens, so that a credit
  // funding a later debit of the same wallet leaves its lots as posting them one by one would.
  const lots = steps.flatMap((s) => s.lots)
  const ordered = [...lots.filter((l) => l.kind !== 'open'), ...lots.filter((l) => l.kind === 'open')]
  let facts: Record<string, unknown>
  try {
    ;({ facts } = await database.apply({ program: programId, entries: steps.map((s) => s.step), lots: ordered, ...(idempotency ? { idempotency } : {}) }))
  } catch (err) {
    if (err instanceof PlanError && err.code === 'LL100') throw insufficientFunds(/insufficient_funds:(\S+)/.exec(err.message)?.[1] ?? 'POINTS')
    throw err
  }
  rememberAccounts(programId, steps.flatMap((s) => s.accountIds))
  return steps.map((s, index) => ({
    entryId: s.entryId,
    postings: s.planned.map((p) => {
      const after = facts[`entry.${index}.${p.seq}`]
      return { account: p.account, amount: p.amount, ...(after === undefined ? {} : { balanceAfter: BigInt(after as string) }) }
    }),
  }))
}

/** One entry as its own plan. */
export async function postEntry(database: Database, programId: string, plan: EntryPlan, actor: string): Promise<PostedEntry> {
  return (await postEntries(database, programId, [plan], actor))[0]!
}
