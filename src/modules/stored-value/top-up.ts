import type { Database } from '../../db/client.js'
import { requestHash, runIdempotent, type StoredResponse } from '../idempotency/service.js'
import { memberBalances } from '../ledger/reads.js'
import { postEntry } from '../ledger/service.js'
import { findMember } from '../members/repository.js'
import type { ProgramRow } from '../programs/tables.js'
import { recordTopUpReceipt } from '../receipts/record.js'
import type { TopUpCreate } from './schemas.js'
import { planTopUp, readTopUpAmount, topUpAnswer } from './top-up-plan.js'

export interface TopUpCall {
  idempotencyKey: string
  /** The client that asked (the entry's created_by). */
  actor: string
  /** Where the receipt's public link points. */
  publicBaseUrl: string
}

/**
 * Loads prepaid stored value onto a member: checks the amount, then in one idempotent transaction
 * loads the member, plans, posts the entry, reads the balances it left and records the receipt.
 */
export async function topUpStoredValue(database: Database, program: ProgramRow, memberId: string, input: TopUpCreate, call: TopUpCall): Promise<StoredResponse> {
  const amount = readTopUpAmount(program, input.amount)
  return runIdempotent(database, program.id, call.idempotencyKey, requestHash(`top-up:${memberId}`, input), async (tx) => {
    const member = await findMember(tx, program.id, memberId)
    const now = new Date()
    const plan = planTopUp(program, memberId, input, amount, { member }, now)
    const posted = await postEntry(tx, program.id, plan.entry, call.actor)
    const balances = await memberBalances(tx, program.id, memberId, program.currency)
    // The e-receipt and storedValue.toppedUp commit with the entry, or not at all.
    const receipt = await recordTopUpReceipt(tx, program, { entryId: posted.entryId, ...plan.receipt }, { member: plan.receiptMember, balances, now })
    return { status: 201, body: topUpAnswer(program, memberId, plan, { entryId: posted.entryId, balances, receipt }, call.publicBaseUrl) }
  })
}
