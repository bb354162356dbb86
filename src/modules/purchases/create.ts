// Posting a sale as one pipelined transaction: load, plan (plan.ts), apply. With sales as plans
// only held sales with coupons or tiers come here (by member id: a sale by phone or card has had
// its member read, post.ts); SALES_AS_PLANS=false sends every sale here, captured or held, by id,
// phone or card (the way back).
import { allInOrder, runnerOf, type SqlRunner } from '../../db/pipeline.js'
import type { Executor } from '../../db/client.js'
import { AppError, pgErrorOf } from '../../shared/errors.js'
import { newId } from '../../shared/ids.js'
import type { ProgramRow } from '../programs/tables.js'
import { placeHold, postEntry } from '../ledger/service.js'
import { memberBalances, type MemberBalances } from '../ledger/reads.js'
import { redeemCoupons, resolveCoupons } from '../coupons/service.js'
import { rewardReferral } from '../referrals/service.js'
import { preparePurchaseReceipt, sendReceipt } from '../receipts/record.js'
import { announceTierChange, changeTier, findTier, indexOfTier, qualifyingIndex, tierMetric, type TierChange, type TierRules } from '../tiers/service.js'
import { tierProgress } from '../tiers/upgrade-plan.js'
import { buyerOf } from './buyer.js'
import { loadSale } from './load.js'
import { exponentOf, planPurchase } from './plan.js'
import type { PurchaseCreate } from './schemas.js'
import { purchaseRowJson, type StoredHolds } from './stored.js'
import type { PurchaseRow } from './tables.js'

/**
 * Posts a sale. Hot path: with a memberId and capture, every statement (member check, ledger
 * entry, purchase row, balances) is sent at once and waited for together, one round trip.
 */
export async function createPurchase(ex: Executor | SqlRunner, program: ProgramRow, input: PurchaseCreate, actor: string): Promise<{ row: PurchaseRow; balances: MemberBalances; tierChange?: TierChange; receipt: { id: string; number: string; token: string } }> {
  const runner = runnerOf(ex)
  const now = new Date()
  const { sale, rules, effectiveFrom, found, memberId } = await loadSale(runner, program, input, now)
  // A program with tiers reads the member's tier first (one round trip more): it sets the price and the earn rate.
  const tiers = rules.tiers
  // So do coupons: both reads go out together.
  const codes = input.couponCodes ?? []
  const [tier, coupons] = await allInOrder([
    tiers ? findTier(runner, program.id, memberId) : undefined,
    codes.length > 0 ? resolveCoupons(runner, program, { memberId, codes, at: sale.occurredAt }) : [],
  ] as const)
  const id = newId()
  const plan = planPurchase({ program, rules, rulesEffectiveFrom: effectiveFrom, memberId, tierCode: tier?.code ?? null, coupons }, sale, input, { now, actor, purchaseId: id, entryId: newId() })
  const entry = plan.entry ? postEntry(runner, program.id, plan.entry, actor) : undefined
  let row = plan.row
  if (!input.capture) {
    buyerOf(await found)
    const placed: StoredHolds = {}
    for (const h of plan.holds) {
      const hold = await placeHold(runner, program.id, h.ref, h.amount, row.holdExpiresAt!, { type: 'purchase', id })
      if (h.kind === 'points') placed.points = { holdId: hold.id, points: h.amount.toString() }
      else placed.storedValue = { holdId: hold.id, amount: h.amount.toString() }
    }
    row = { ...row, holds: { ...placed, ...(row.holds as StoredHolds) } }
  }

  const inserted = insertPurchase(runner, row).catch((err: unknown) => {
    if (pgErrorOf(err).constraint === 'purchases_program_store_external_key') {
      throw new AppError(409, 'DUPLICATE_PURCHASE', 'Duplicate receipt number', `Store ${input.storeId} already posted receipt ${input.externalId}; retry with the same Idempotency-Key to get the original response`)
    }
    throw err
  })
  // After the ledger entry: wallets, then coupon rows, the one lock order of every path.
  const redeemed = plan.redemptions.length > 0 ? redeemCoupons(runner, program, { purchaseId: id, memberId, redemptions: plan.redemptions }) : undefined
  const balances = memberBalances(runner, program.id, memberId, program.currency)
  const metric = tiers && input.capture ? tierMetric(runner, program, tiers, memberId, now > sale.occurredAt ? now : sale.occurredAt) : undefined
  const [buyer, , , , balancesAfter, measured] = await allInOrder([found.then(buyerOf), entry, inserted, redeemed, balances, metric] as const)
  // A referred member's first completed purchase rewards both (once: rewardReferral checks).
  if (input.capture && buyer.referred_by && rules.referral) await rewardReferral(runner, program, rules, { refereeId: memberId, purchaseId: id, at: now })
  // The purchase that crosses a threshold earned at the old rate; the member is upgraded from now on.
  const tierChange = tiers && measured !== undefined ? await upgradeIfQualified(runner, program, tiers, memberId, tier?.code ?? null, measured, now, id) : undefined
  // The receipt and its events (purchase.completed, storedValue.low, purchase.unusual) leave with COMMIT.
  const receipt = preparePurchaseReceipt(program, row, {
    member: { id: memberId, phone: buyer.phone },
    balances: balancesAfter,
    notifications: rules.notifications,
    now,
    tier: tiers && measured !== undefined ? tierProgress(tiers, tierChange?.to ?? tier?.code ?? null, measured, exponentOf(program)) : null,
  })
  sendReceipt(runner, receipt)
  return { row, balances: balancesAfter, tierChange, receipt: { id: receipt.id, number: receipt.number, token: receipt.token } }
}

export async function upgradeIfQualified(runner: SqlRunner, program: ProgramRow, tiers: TierRules, memberId: string, current: string | null, metric: bigint, at: Date, purchaseId: string) {
  const reached = qualifyingIndex(tiers, metric, exponentOf(program))
  if (reached <= indexOfTier(tiers, current)) return undefined
  const change = await changeTier(runner, program, tiers, { memberId, fromCode: current, toIndex: reached, reason: 'upgrade', metric, at, purchaseId })
  if (change) await announceTierChange(runner, program, tiers, change)
  return change
}

/** The row through jsonb_populate_recordset, as ll_apply inserts it: one column list, the table's. */
function insertPurchase(runner: SqlRunner, r: PurchaseRow) {
  return runner.run('insert into purchases select * from jsonb_populate_recordset(null::purchases, $1::jsonb)', [JSON.stringify([purchaseRowJson(r)])])
}
