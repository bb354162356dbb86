import type { Database } from '../../db/client.js'
import { filled, PlanError, type Fill } from '../../db/apply.js'
import { pgErrorOf } from '../../shared/errors.js'
import { currencyExponent } from '../../shared/money.js'
import { newId } from '../../shared/ids.js'
import { requestHash, runIdempotentPlan, type StoredResponse } from '../idempotency/service.js'
import { memberWallets } from '../ledger/accounts.js'
import { entryStep } from '../ledger/entry-step.js'
import { rememberAccounts } from '../ledger/repository.js'
import { nudgeDispatchers } from '../events/signal.js'
import type { ProgramRow } from '../programs/tables.js'
import { topUpReceiptSteps } from '../receipts/plan-steps.js'
import type { TopUpCreate } from './schemas.js'
import { planTopUp, readTopUpAmount, topUpAnswer, topUpMemberErased, topUpMemberNotFound } from './top-up-plan.js'

export interface TopUpCall {
  idempotencyKey: string
  /** The client that asked (the entry's created_by). */
  actor: string
  /** Where the receipt's public link points. */
  publicBaseUrl: string
}

const NO_BALANCES = { points: { balance: 0n, pending: 0n, available: 0n }, storedValue: { balance: 0n, pending: 0n, available: 0n } }
const ANSWER_FILLS: Fill[] = [{ path: ['balances'], fact: 'balances' }]

/**
 * Loads prepaid stored value onto a member: checks the amount, then one plan (src/db/apply.ts)
 * checks the member, posts the entry, writes the receipt, storedValue.toppedUp and the
 * idempotency record in one statement; the balances after are filled in by the database.
 */
export async function topUpStoredValue(database: Database, program: ProgramRow, memberId: string, input: TopUpCreate, call: TopUpCall): Promise<StoredResponse> {
  const amount = readTopUpAmount(program, input.amount)
  return runIdempotentPlan(database, program.id, call.idempotencyKey, requestHash(`top-up:${memberId}`, input), async (idempotency) => {
    const now = new Date()
    // The member is checked by the executor (LL201, LL202): planned as if present.
    const plan = planTopUp(program, memberId, input, amount, { member: { id: memberId, phone: null, erasedAt: null } }, now)
    const entryId = newId()
    const entry = entryStep(program.id, { ...plan.entry, id: entryId }, call.actor)
    const receipt = topUpReceiptSteps(program, memberId, { entryId, ...plan.receipt }, now)
    const answer = topUpAnswer(program, memberId, plan, { entryId, balances: NO_BALANCES, receipt: receipt.receipt }, call.publicBaseUrl)
    let applied
    try {
      applied = await database.apply({
        program: program.id,
        member: { id: memberId, refuseErased: true },
        entries: [entry.step],
        wallets: memberWallets(program, memberId, currencyExponent(program.currency) ?? 0),
        receipts: receipt.receipts,
        events: receipt.events,
        idempotency: { ...idempotency, status: 201, body: answer, fills: ANSWER_FILLS },
      })
    } catch (err) {
      const code = err instanceof PlanError ? pgErrorOf(err).code : undefined
      if (code === 'LL201') throw topUpMemberNotFound()
      if (code === 'LL202') throw topUpMemberErased()
      throw err
    }
    rememberAccounts(program.id, entry.accountIds)
    nudgeDispatchers()
    return { status: 201, body: filled(answer, ANSWER_FILLS, applied.facts) }
  })
}
