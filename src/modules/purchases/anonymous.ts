// A captured sale that names no member (schemas.ts isAnonymousSale): paid with gift cards and money
// alone, it earns nothing and its receipt names nobody. The gift cards are read by code with their
// PINs checked (gift-card-tenders.ts), the plan is decided as any sale's (plan.ts), and applied in
// one statement: the cards' rows and wallets locked at the version read, the entry (each card ->
// the store's gift card settlement), the purchase, the PINs' writes, the receipt and the
// idempotency record. No member, wallets, tier, coupon, referral or event.
import type { Database } from '../../db/client.js'
import { appliedFresh } from '../../db/apply.js'
import { newId } from '../../shared/ids.js'
import { entryStep } from '../ledger/entry-step.js'
import { rememberAccounts } from '../ledger/repository.js'
import type { ProgramRules } from '../programs/rules.js'
import type { ProgramRow } from '../programs/tables.js'
import { receiptLinkOf } from '../receipts/links.js'
import { anonymousSaleReceiptSteps } from '../receipts/plan-steps.js'
import { refusalOf } from './applied.js'
import { giftCardTenders } from './gift-card-tenders.js'
import { planPurchase, type Sale } from './plan.js'
import type { PurchaseCreate } from './schemas.js'
import { purchaseRowJson } from './stored.js'
import { purchaseView } from './views.js'

export interface AnonymousSale {
  program: ProgramRow
  rules: ProgramRules
  rulesEffectiveFrom: Date
  sale: Sale
  input: PurchaseCreate
  actor: string
  baseUrl: string
  idempotency: { key: string; hash: string }
  now: Date
}

/** Posts the sale; answers as POST /v1/purchases does (201, `memberId` and `balances` null), or throws its refusal. */
export function postAnonymousSale(database: Database, s: AnonymousSale): Promise<{ status: number; body: unknown }> {
  const { program, now } = s
  return appliedFresh(async () => {
    const cards = await giftCardTenders(database, program, s.sale, now)
    const purchaseId = newId()
    const plan = planPurchase({ program, rules: s.rules, rulesEffectiveFrom: s.rulesEffectiveFrom, memberId: null, tierCode: null, coupons: [] }, cards.sale, s.input, {
      now,
      actor: s.actor,
      purchaseId,
      entryId: newId(),
    })
    const entry = plan.entry ? entryStep(program.id, plan.entry, s.actor) : undefined
    const receipt = anonymousSaleReceiptSteps(program, plan.row, now)
    const answer = { ...purchaseView(program, plan.row), balances: null, receipt: receiptLinkOf(receipt.receipt, s.baseUrl) }
    try {
      await database.apply({
        program: program.id,
        locks: cards.locks,
        entries: entry ? [entry.step] : [],
        purchases: [purchaseRowJson(plan.row)],
        rows: cards.rows,
        receipts: receipt.receipts,
        idempotency: { ...s.idempotency, status: 201, body: answer },
      })
    } catch (err) {
      throw refusalOf(err, s.input)
    }
    if (entry) rememberAccounts(program.id, entry.accountIds)
    return { status: 201, body: answer }
  })
}
