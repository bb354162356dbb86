// A plain sale (member by id, captured, no tiers, coupons or referral rule) in
// one database round trip: load (the program is cached; a late upload reads its rules) -> the
// pure plan (plan.ts) -> one PlanData -> the group-commit executor (src/db/apply.ts), which writes
// the entry, lots, purchase, receipt, events and idempotency record in one statement. Every other
// sale takes the pipelined path (create.ts).
import type { Database } from '../../db/client.js'
import { filled, PlanError, type Fill, type PlanData } from '../../db/apply.js'
import { AppError, pgErrorOf } from '../../shared/errors.js'
import { newId } from '../../shared/ids.js'
import type { ProgramRules } from '../programs/rules.js'
import type { ProgramRow } from '../programs/tables.js'
import { memberWallets } from '../ledger/accounts.js'
import { entryStep } from '../ledger/entry-step.js'
import { insufficientFunds } from '../ledger/errors.js'
import { lotSteps } from '../ledger/lot-steps.js'
import { rememberAccounts } from '../ledger/repository.js'
import { nudgeDispatchers } from '../events/signal.js'
import { receiptLinkOf } from '../receipts/links.js'
import { saleReceiptSteps } from '../receipts/plan-steps.js'
import { exponentOf, planPurchase, type Sale } from './plan.js'
import type { PurchaseCreate } from './schemas.js'
import { purchaseRowJson } from './stored.js'
import { purchaseView } from './views.js'

/** The sales this path takes; the others need reads or writes that depend on what the database holds (tier, coupons, referral, the member's history). */
export function appliesInOne(rules: ProgramRules, input: PurchaseCreate): input is PurchaseCreate & { memberId: string } {
  return input.memberId !== undefined && input.capture && !rules.tiers && (input.couponCodes ?? []).length === 0 && !rules.referral
}

export interface AppliedSale {
  program: ProgramRow
  rules: ProgramRules
  rulesEffectiveFrom: Date
  sale: Sale
  input: PurchaseCreate & { memberId: string }
  actor: string
  baseUrl: string
  idempotency: { key: string; hash: string }
  now: Date
}

/** Posts the sale; answers as POST /v1/purchases does (201 and its body), or throws its refusal. */
export async function postAppliedSale(database: Database, s: AppliedSale): Promise<{ status: number; body: unknown }> {
  const { program, input, now } = s
  const memberId = input.memberId
  const purchaseId = newId()
  const plan = planPurchase({ program, rules: s.rules, rulesEffectiveFrom: s.rulesEffectiveFrom, memberId, tierCode: null, coupons: [] }, s.sale, input, { now, actor: s.actor, purchaseId, entryId: newId() })
  const entry = plan.entry ? entryStep(program.id, plan.entry, s.actor) : undefined
  const receipt = saleReceiptSteps(program, plan.row, s.rules.notifications, now)
  const answer = { ...purchaseView(program, plan.row), balances: null, receipt: receiptLinkOf(receipt.receipt, s.baseUrl) }
  const data: PlanData = {
    program: program.id,
    member: { id: memberId, refuseErased: true },
    entries: entry ? [entry.step] : [],
    lots: plan.entry ? (lotSteps(program.id, plan.entry.id!, plan.entry) ?? []) : [],
    purchases: [purchaseRowJson(plan.row)],
    wallets: memberWallets(program, memberId, exponentOf(program)),
    receipts: receipt.receipts,
    events: receipt.events,
    unusual: receipt.unusual,
    idempotency: { ...s.idempotency, status: 201, body: answer, fills: ANSWER_FILLS },
  }
  let applied
  try {
    applied = await database.apply(data)
  } catch (err) {
    throw refusalOf(err, input)
  }
  if (entry) rememberAccounts(program.id, entry.accountIds)
  if (applied.events.length > 0) nudgeDispatchers()
  return { status: 201, body: filled(answer, ANSWER_FILLS, applied.facts) }
}

const ANSWER_FILLS: Fill[] = [{ path: ['balances'], fact: 'balances' }]

/** A plan's refusal as the API answers it; anything else (the group lost, a deadline) as it came. */
function refusalOf(err: unknown, input: PurchaseCreate): unknown {
  if (!(err instanceof PlanError)) return err
  const pg = pgErrorOf(err)
  if (pg.code === 'LL100') return insufficientFunds(/insufficient_funds:(\S+)/.exec(err.message)?.[1] ?? 'POINTS')
  if (pg.code === 'LL201') return new AppError(404, 'MEMBER_NOT_FOUND', 'Member not found', 'No member of this program matches')
  if (pg.code === 'LL202') return new AppError(409, 'MEMBER_ERASED', 'Member erased', 'This member’s personal data was erased; the account takes no new purchases')
  if (pg.constraint === 'purchases_program_store_external_key') {
    return new AppError(409, 'DUPLICATE_PURCHASE', 'Duplicate receipt number', `Store ${input.storeId} already posted receipt ${input.externalId}; retry with the same Idempotency-Key to get the original response`)
  }
  return err
}
