import type { EntryStep } from '../../db/apply.js'
import { newId } from '../../shared/ids.js'
import { accountId, isMemberWallet } from './accounts.js'
import { planPostings, type EntryPlan, type PlannedPosting } from './planner.js'
import { accountsToEnsure } from './repository.js'

/**
 * Pure: an entry plan as ledger_post_entry takes it (migration 0006): the entry row, the accounts
 * not yet known to exist, and the postings with the member wallets flagged (their balances are
 * guarded and updated in account-id order). Both write paths use it: postEntry and the plans
 * applied by ll_apply.
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
    wallet: isMemberWallet(p.account),
  }))
  return { step: { entry, accounts, postings, allowOverdraft: plan.allowOverdraft ?? false }, entryId, planned, accountIds: accounts.map((a) => a.id) }
}
