import type { EntryStep, Fill } from '../../db/apply.js'
import { currencyExponent } from '../../shared/money.js'
import { newId } from '../../shared/ids.js'
import { accountCode, accountId, isWallet, POINTS } from './accounts.js'
import { planPostings, type EntryPlan, type PlannedPosting } from './planner.js'
import { accountsToEnsure, type EntryRecord } from './repository.js'

/**
 * Pure: an entry plan as ledger_post_entry takes it (migration 0006): the entry row, the accounts
 * not yet known to exist, and the postings with the member wallets flagged (their balances are
 * guarded and updated in account-id order), as the entries of a plan applied by ll_apply.
 */
export function entryStep(programId: string, plan: EntryPlan, actor: string): { step: EntryStep; entryId: string; planned: PlannedPosting[]; accountIds: string[] } {
  const planned = planPostings(plan.legs)
  const accounts = accountsToEnsure(programId, planned.map((p) => p.account))
  const entryId = plan.id ?? newId()
  const entry = {
    id: entryId,
    kind: plan.kind,
    effectiveAt: plan.effectiveAt.toISOString(),
    memberId: plan.memberId ?? null,
    storeId: plan.storeId ?? null,
    reason: plan.reason ?? null,
    referenceType: plan.referenceType ?? null,
    referenceId: plan.referenceId ?? null,
    reversesEntryId: plan.reversesEntryId ?? null,
    createdBy: actor,
    metadata: plan.metadata ?? {},
  }
  const postings = planned.map((p) => ({
    seq: p.seq,
    accountId: accountId(programId, p.account),
    asset: p.account.asset,
    amount: p.amount.toString(),
    wallet: isWallet(p.account),
  }))
  return { step: { entry, accounts, postings, allowOverdraft: plan.allowOverdraft ?? false }, entryId, planned, accountIds: accounts.map((a) => a.id) }
}

/** Pure: the entry as GET /v1/ledger/entries/{id} shows it once posted, the wallets' balances after left to fill (entryFills). */
export function plannedEntryRecord(programId: string, plan: EntryPlan & { id: string }, planned: PlannedPosting[], ctx: { now: Date; actor: string }): EntryRecord {
  return {
    id: plan.id,
    kind: plan.kind,
    effectiveAt: plan.effectiveAt.toISOString(),
    createdAt: ctx.now.toISOString(),
    memberId: plan.memberId ?? null,
    storeId: plan.storeId ?? null,
    reason: plan.reason ?? null,
    referenceType: plan.referenceType ?? null,
    referenceId: plan.referenceId ?? null,
    reversesEntryId: plan.reversesEntryId ?? null,
    reversedByEntryId: null,
    createdBy: ctx.actor,
    metadata: plan.metadata ?? {},
    postings: planned.map((p) => ({
      seq: p.seq,
      accountId: accountId(programId, p.account),
      code: accountCode(p.account),
      type: p.account.type,
      asset: p.account.asset,
      memberId: p.account.memberId ?? null,
      storeId: p.account.storeId ?? null,
      amount: p.amount,
      balanceAfter: null,
    })),
  }
}

/** Where an entry's view (at `path`) shows each member wallet's balance after: the plan's `index`-th entry's facts. System accounts track none. */
export function entryFills(planned: PlannedPosting[], path: (string | number)[], index = 0): Fill[] {
  return planned.flatMap((p, i): Fill[] =>
    isWallet(p.account)
      ? [{ path: [...path, 'postings', i, 'balanceAfter'], fact: `entry.${index}.${p.seq}`, ...(p.account.asset === POINTS ? {} : { exponent: currencyExponent(p.account.asset) ?? 0 }) }]
      : [],
  )
}
