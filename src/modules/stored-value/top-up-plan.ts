// The decisions of a top-up, pure: the amount the request may load, the refusals of the member it
// names, the ledger entry (tender clearing of the store -> the member's stored-value wallet), the
// receipt's record and the answer. top-up.ts loads the member and applies the plan.
import { AppError, validationFailed } from '../../shared/errors.js'
import { currencyExponent, formatMinorUnits, moneyParser } from '../../shared/money.js'
import { memberStoredValue, tenderClearing } from '../ledger/accounts.js'
import { transfer, type EntryPlan } from '../ledger/planner.js'
import type { MemberBalances } from '../ledger/reads.js'
import { balancesView } from '../ledger/views.js'
import type { MemberRow } from '../members/tables.js'
import type { ProgramRow } from '../programs/tables.js'
import type { ReceiptMember, TopUpRecord } from '../receipts/inputs.js'
import { receiptLinkOf } from '../receipts/links.js'
import type { TopUpCreate, TopUpResult } from './schemas.js'

/** Most a single top-up may load: one place to change it, far below bigint limits. */
export const MAX_TOP_UP_MAJOR_UNITS = 1_000_000_000n

/**
 * The amount in minor units of the program's currency. 400 VALIDATION_FAILED when it does not
 * parse in that currency ("125000.5" VND) or is not above zero and at most MAX_TOP_UP_MAJOR_UNITS.
 * Needs nothing loaded, so a top-up refuses it before its Idempotency-Key is taken.
 */
export function readTopUpAmount(program: Pick<ProgramRow, 'currency'>, text: string): bigint {
  const exp = currencyExponent(program.currency) ?? 0
  const money = moneyParser(exp, program.currency)
  const amount = money.parse(text, 'body/amount')
  money.done()
  if (amount <= 0n || amount > MAX_TOP_UP_MAJOR_UNITS * 10n ** BigInt(exp)) {
    throw validationFailed(`amount: must be positive and at most ${MAX_TOP_UP_MAJOR_UNITS} ${program.currency}`, [{ path: 'body/amount', message: 'out of range' }])
  }
  return amount
}

/** What a top-up loads before it decides. */
export interface TopUpLoaded {
  member: Pick<MemberRow, 'id' | 'phone' | 'erasedAt'> | undefined
}

export interface TopUpPlan {
  entry: EntryPlan
  /** The receipt's record but for the entry id, which the posting gives. */
  receipt: Omit<TopUpRecord, 'entryId'>
  /** Who the receipt is for (its phone is masked on it). */
  receiptMember: ReceiptMember
}

export const topUpMemberNotFound = () => new AppError(404, 'MEMBER_NOT_FOUND', 'Member not found', 'No member of this program has this id')
export const topUpMemberErased = () => new AppError(409, 'MEMBER_ERASED', 'Member erased', 'This member’s personal data was erased; no new top-ups')

/** Refuses a member that is not there (404) or erased (409); otherwise the entry and the receipt of loading `amount` at `now`. */
export function planTopUp(program: Pick<ProgramRow, 'currency'>, memberId: string, input: TopUpCreate, amount: bigint, loaded: TopUpLoaded, now: Date): TopUpPlan {
  const { member } = loaded
  if (!member) throw topUpMemberNotFound()
  if (member.erasedAt) throw topUpMemberErased()
  return {
    entry: {
      kind: 'top_up',
      effectiveAt: now,
      memberId,
      storeId: input.storeId,
      referenceType: 'top_up',
      referenceId: input.reference,
      metadata: { tender: input.tender, terminalId: input.terminalId },
      legs: transfer(tenderClearing(input.storeId, program.currency), memberStoredValue(memberId, program.currency), amount),
    },
    receipt: { amount, tender: input.tender, storeId: input.storeId, terminalId: input.terminalId, reference: input.reference, occurredAt: now },
    receiptMember: { id: member.id, phone: member.phone },
  }
}

/** The 201 answer, from what the posting, the balance read and the receipt gave. */
export function topUpAnswer(
  program: Pick<ProgramRow, 'currency'>,
  memberId: string,
  plan: TopUpPlan,
  written: { entryId: string; balances: MemberBalances; receipt: { id: string; number: string; token: string } },
  publicBaseUrl: string,
): TopUpResult {
  return {
    id: written.entryId,
    memberId,
    amount: formatMinorUnits(plan.receipt.amount, currencyExponent(program.currency) ?? 0),
    tender: plan.receipt.tender,
    storeId: plan.receipt.storeId,
    reference: plan.receipt.reference ?? null,
    createdAt: plan.receipt.occurredAt.toISOString(),
    balances: balancesView(memberId, program.currency, written.balances),
    receipt: receiptLinkOf(written.receipt, publicBaseUrl),
  }
}
