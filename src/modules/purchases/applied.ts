// A captured sale by member id in at most two round trips: the load (sale-load.ts: the coupons,
// and for a program with tiers or a referral rule the member's tier, metric and referral state;
// nothing for a plain sale) -> the pure plan (plan.ts, sale-steps.ts, coupons/redeem-plan.ts) ->
// one PlanData -> the group-commit executor (src/db/apply.ts), which writes the entries, lots,
// purchase, coupon redemptions, reward, tier change, receipt, events and idempotency record in one
// statement. A plan the database finds out of date (LL300) is loaded and planned again.
// A sale by phone or card comes here by member id once its member is read (post.ts, buyer.ts).
import type { Database } from '../../db/client.js'
import { appliedFresh, filled, PlanError, type EntryStep, type Fill, type LotStep, type PlanData } from '../../db/apply.js'
import { AppError, pgErrorOf } from '../../shared/errors.js'
import { newId } from '../../shared/ids.js'
import type { ProgramRules } from '../programs/rules.js'
import type { ProgramRow } from '../programs/tables.js'
import { memberWallets } from '../ledger/accounts.js'
import { entryStep } from '../ledger/entry-step.js'
import { insufficientFunds } from '../ledger/errors.js'
import { lotSteps } from '../ledger/lot-steps.js'
import type { EntryPlan } from '../ledger/planner.js'
import { rememberAccounts } from '../ledger/repository.js'
import { couponLimitRefusal, couponRedeemSteps, type CouponLimits, type Redemption } from '../coupons/redeem-plan.js'
import { checkedCodes, resolvedCoupons } from '../coupons/resolve.js'
import { nudgeDispatchers } from '../events/signal.js'
import { receiptLinkOf } from '../receipts/links.js'
import { saleReceiptSteps } from '../receipts/plan-steps.js'
import { giftCardTenders, type GiftCardTenders } from './gift-card-tenders.js'
import { exponentOf, planPurchase, type Sale } from './plan.js'
import { loadSaleState } from './sale-load.js'
import { racedAsStale, tierAndReferralSteps } from './sale-steps.js'
import type { PurchaseCreate } from './schemas.js'
import { purchaseRowJson } from './stored.js'
import { purchaseView } from './views.js'

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
  const codes = checkedCodes(s.input.couponCodes ?? [])
  return appliedFresh(async () => {
    // The metric is measured as of this load: a sale of the member that made this plan stale is in it.
    const [state, cards] = await Promise.all([
      loadSaleState(database.db, s.program, s.rules, s.input.memberId, { codes, occurredAt: s.sale.occurredAt, now: new Date(Math.max(Date.now(), s.now.getTime())) }),
      giftCardTenders(database, s.program, s.sale, s.now),
    ])
    const coupons = resolvedCoupons(codes, state.coupons.rows, s.input.memberId)
    return applySale(database, { ...s, sale: cards.sale }, { ...state, coupons }, state.coupons.limits, cards)
  })
}

type Loaded = Omit<Awaited<ReturnType<typeof loadSaleState>>, 'coupons'> & { coupons: ReturnType<typeof resolvedCoupons> }

async function applySale(database: Database, s: AppliedSale, loaded: Loaded, limits: CouponLimits[], cards: GiftCardTenders): Promise<{ status: number; body: unknown }> {
  const { program, input, now } = s
  const memberId = input.memberId
  const purchaseId = newId()
  const tierCode = loaded.tier?.current?.code ?? null
  const plan = planPurchase({ program, rules: s.rules, rulesEffectiveFrom: s.rulesEffectiveFrom, memberId, tierCode, coupons: loaded.coupons }, s.sale, input, { now, actor: s.actor, purchaseId, entryId: newId() })
  const more = tierAndReferralSteps({ program, rules: s.rules, memberId, state: loaded }, { purchaseId, occurredAt: s.sale.occurredAt, total: plan.row.total, pointsEarned: plan.row.pointsEarned }, now)
  const entries = [...(plan.entry ? [{ plan: plan.entry, actor: s.actor }] : []), ...more.entries.map((e) => ({ plan: e, actor: 'referral' }))]
  const steps = entries.map((e) => ({ ...entryStep(program.id, e.plan, e.actor), plan: e.plan }))
  const receipt = saleReceiptSteps(program, { ...plan.row, memberId }, s.rules.notifications, now, more.tierLine)
  const answer = { ...purchaseView(program, plan.row), balances: null, receipt: receiptLinkOf(receipt.receipt, s.baseUrl) }
  const data: PlanData = {
    program: program.id,
    member: { id: memberId, refuseErased: true },
    // The gift cards' rows and wallets first, in card-id order (gift-card-tenders.ts), then the member's rows.
    locks: [...cards.locks, ...more.locks],
    entries: steps.map((e): EntryStep => e.step),
    lots: steps.flatMap((e): LotStep[] => lotsOf(program.id, e.entryId, e.plan)),
    purchases: [purchaseRowJson(plan.row)],
    rows: [...couponRedeemSteps(program.id, { purchaseId, memberId, now }, plan.redemptions), ...more.rows, ...cards.rows],
    wallets: memberWallets(program, memberId, exponentOf(program)),
    receipts: receipt.receipts,
    events: [...more.events.map((row) => ({ row })), ...receipt.events],
    unusual: receipt.unusual,
    idempotency: { ...s.idempotency, status: 201, body: answer, fills: ANSWER_FILLS },
  }
  let applied
  try {
    applied = await database.apply(data)
  } catch (err) {
    throw refusalOf(err, input, plan.redemptions, limits)
  }
  for (const e of steps) rememberAccounts(program.id, e.accountIds)
  if (applied.events.length > 0) nudgeDispatchers()
  return { status: 201, body: filled(answer, ANSWER_FILLS, applied.facts) }
}

const lotsOf = (programId: string, entryId: string, plan: EntryPlan): LotStep[] => lotSteps(programId, entryId, plan) ?? []

const ANSWER_FILLS: Fill[] = [{ path: ['balances'], fact: 'balances' }]

/** A plan's refusal as the API answers it; anything else (the group lost, a deadline) as it came. */
export function refusalOf(err: unknown, input: PurchaseCreate, redemptions: Redemption[] = [], limits: CouponLimits[] = []): unknown {
  if (!(err instanceof PlanError)) return err
  const pg = pgErrorOf(err)
  if (pg.code === 'LL100') return insufficientFunds(/insufficient_funds:(\S+)/.exec(err.message)?.[1] ?? 'POINTS')
  if (pg.code === 'LL201') return new AppError(404, 'MEMBER_NOT_FOUND', 'Member not found', 'No member of this program matches')
  if (pg.code === 'LL202') return new AppError(409, 'MEMBER_ERASED', 'Member erased', 'This member’s personal data was erased; the account takes no new purchases')
  if (pg.constraint === 'purchases_program_store_external_key') {
    return new AppError(409, 'DUPLICATE_PURCHASE', 'Duplicate receipt number', `Store ${input.storeId} already posted receipt ${input.externalId}; retry with the same Idempotency-Key to get the original response`)
  }
  return racedAsStale(pg.constraint) ?? couponLimitRefusal(pg.constraint, redemptions, limits) ?? err
}
