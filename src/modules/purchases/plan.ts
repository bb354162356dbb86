// The decision of a sale, pure: from the request and what was loaded (rules in force, the member,
// their tier, the resolved coupons) it decides every refusal, the totals, the ledger entry or the
// holds wanted, and the purchase row. The sale's plan (applied.ts, authorize.ts) applies it; the quote only reads it.
import { AppError } from '../../shared/errors.js'
import { currencyExponent, moneyParser } from '../../shared/money.js'
import { isMeasured, milliOf, quantityValue } from '../../shared/quantity.js'
import { D } from '../../shared/rounding.js'
import type { ProgramRules } from '../programs/rules.js'
import type { ProgramRow } from '../programs/tables.js'
import { accountId, giftCardSettlement, giftCardWallet, memberPoints, memberStoredValue, pointsIssued, pointsRedeemed, storedValueSettlement, type AccountRef } from '../ledger/accounts.js'
import { lotExpiry } from '../ledger/lots.js'
import { transfer, type EntryPlan, type Leg } from '../ledger/planner.js'
import { couponSteps, type ResolvedCoupon } from '../coupons/discounts.js'
import { indexOfTier, type TierLevel } from '../tiers/service.js'
import { computePurchase, percentOff, type DiscountStep, type LineInput, type PurchaseTotals, type Tender, type TenderInput, cardOf } from './calculator.js'
import type { PurchaseCreate } from './schemas.js'
import type { StoredLine, StoredTender } from './stored.js'
import type { PurchaseRow } from './tables.js'
import type { ProblemCode } from '../problems/catalog.js'

const unprocessable = (code: ProblemCode, title: string, detail: string, extensions: Record<string, unknown> = {}) => new AppError(422, code, title, detail, extensions)

const FUTURE_TOLERANCE_MS = 5 * 60_000

export function exponentOf(program: Pick<ProgramRow, 'currency'>): number {
  return currencyExponent(program.currency) ?? 0
}

/** A gift card tender as sent: the card is read by its code before the sale is planned (gift-card-tenders.ts). */
export interface SaleGiftCard {
  /** Its index in `tenders`. */
  tender: number
  code: string
  pin?: string
}

/** A sale as sent, in minor units. */
export interface Sale {
  occurredAt: Date
  lines: LineInput[]
  /** A giftCard tender has its card (giftCardId) once resolved. */
  tenders: TenderInput[]
  giftCards: SaleGiftCard[]
}

/** The refusals that need nothing loaded, in the order a purchase gives them: currency, a sale in the future, money that does not parse (400). */
export function readSale(program: Pick<ProgramRow, 'currency'>, input: PurchaseCreate, now: Date): Sale {
  if (input.currency !== program.currency) {
    throw unprocessable('CURRENCY_MISMATCH', 'Wrong currency', `This program runs in ${program.currency}, not ${input.currency}`, { expected: program.currency })
  }
  const occurredAt = input.occurredAt ? new Date(input.occurredAt) : now
  if (occurredAt.getTime() > now.getTime() + FUTURE_TOLERANCE_MS) throw unprocessable('OCCURRED_AT_IN_FUTURE', 'Sale in the future', 'occurredAt is later than now')
  const money = moneyParser(exponentOf(program), program.currency)
  const lines: LineInput[] = input.lines.map((l, i) => ({
    sku: l.sku,
    name: l.name,
    // Pieces stay a whole number; a measure is kept as its exact decimal text ("0.375").
    quantity: quantityValue(milliOf(l.quantity), l.unit),
    ...(isMeasured(l.unit) ? { unit: l.unit } : {}),
    unitPrice: money.parse(l.unitPrice, `body/lines/${i}/unitPrice`),
    discount: l.discount === undefined ? 0n : money.parse(l.discount, `body/lines/${i}/discount`),
    category: l.category,
    taxRate: l.taxRate,
  }))
  const tenders: TenderInput[] = input.tenders.map((t, i) =>
    t.type === 'points' ? { type: 'points', points: BigInt(t.points) } : { type: t.type, amount: money.parse(t.amount, `body/tenders/${i}/amount`) },
  )
  money.done()
  const giftCards = input.tenders.flatMap((t, i): SaleGiftCard[] => (t.type === 'giftCard' ? [{ tender: i, code: t.code, ...(t.pin === undefined ? {} : { pin: t.pin }) }] : []))
  return { occurredAt, lines, tenders, giftCards }
}

/** Refuses a late upload older than the program's offline window (needs the rules of the sale's time). */
export function assertSaleWindow(rules: ProgramRules, occurredAt: Date, now: Date): void {
  if (now.getTime() - occurredAt.getTime() > rules.offlineWindowHours * 3_600_000) {
    throw unprocessable('OCCURRED_AT_TOO_OLD', 'Sale too old', `Sales older than ${rules.offlineWindowHours} hours cannot be posted in this program`)
  }
}

export function earnLegs(memberId: string, points: bigint): Leg[] {
  return points > 0n ? transfer(pointsIssued(), memberPoints(memberId), points) : []
}

/** Each gift card tender: the card's wallet -> its store's gift card settlement (the card's debit is guarded like a member wallet's). */
export function giftCardLegs(tenders: Tender[], storeId: string, currency: string): Leg[] {
  return tenders.flatMap((t) => (t.type === 'giftCard' && t.amount > 0n ? transfer(giftCardWallet(t.giftCardId!, currency), giftCardSettlement(storeId, currency), t.amount) : []))
}

export function spendLegs(memberId: string, storeId: string, currency: string, points: bigint, storedValue: bigint): Leg[] {
  return [
    ...(points > 0n ? transfer(memberPoints(memberId), pointsRedeemed(), points) : []),
    ...(storedValue > 0n ? transfer(memberStoredValue(memberId, currency), storedValueSettlement(storeId, currency), storedValue) : []),
  ]
}

/** What a purchase loads before it decides. */
export interface PurchaseLoaded {
  program: ProgramRow
  rules: ProgramRules
  rulesEffectiveFrom: Date
  /** Null: a sale paid with gift cards and money that names no member (schemas.ts isAnonymousSale): it earns nothing. */
  memberId: string | null
  tierCode: string | null
  coupons: ResolvedCoupon[]
}

export interface PlanContext {
  now: Date
  actor: string
  purchaseId: string
  entryId: string
}

/** A wallet a pending sale holds, in account-id order. */
export interface WantedHold {
  kind: 'points' | 'storedValue'
  ref: AccountRef
  amount: bigint
}

export interface PurchasePlan {
  totals: PurchaseTotals
  level: TierLevel | undefined
  redemptions: { coupon: ResolvedCoupon; discount: bigint }[]
  /** A captured sale's ledger entry; none when nothing moves. */
  entry: EntryPlan | undefined
  /** A pending sale's holds (empty when captured). */
  holds: WantedHold[]
  /** The purchase row; a pending sale's hold ids are added once the holds are placed. */
  row: PurchaseRow
}

/** The member's tier level, when the program has tiers and the member one of them. */
export function levelOf({ rules, tierCode }: Pick<PurchaseLoaded, 'rules' | 'tierCode'>): TierLevel | undefined {
  return rules.tiers && tierCode ? rules.tiers.levels[indexOfTier(rules.tiers, tierCode)] : undefined
}

export function tierDiscount(level: TierLevel | undefined): DiscountStep[] {
  if (!level || !D(level.discountPercent).gt(0)) return []
  return [{ type: 'tier', code: level.code, name: level.name, percent: level.discountPercent, amountOf: (base) => percentOff(base, level.discountPercent) }]
}

/** Decides the sale: refuses it (tenders, coupons' minimum spend, redemption limits...) or returns everything to write. */
export function planPurchase(loaded: PurchaseLoaded, sale: Sale, input: PurchaseCreate, ctx: PlanContext): PurchasePlan {
  const { program, rules, memberId, coupons } = loaded
  const exponent = exponentOf(program)
  const level = levelOf(loaded)
  const earnMultiplier = level?.earnMultiplier ?? '1'
  const discounts = [...tierDiscount(level), ...couponSteps(coupons, exponent)]
  const totals = computePurchase({ lines: sale.lines, tenders: sale.tenders, rules, exponent, discounts, earnMultiplier })
  const redemptions = totals.discounts.filter((d) => d.type === 'coupon').map((d) => ({ coupon: coupons.find((c) => c.code === d.code)!, discount: d.amount }))

  const pointsEarned = memberId === null ? 0n : totals.pointsEarned
  const legs = input.capture
    ? [
        ...(memberId === null ? [] : earnLegs(memberId, pointsEarned)),
        ...(memberId === null ? [] : spendLegs(memberId, input.storeId, program.currency, totals.pointsRedeemed, totals.storedValueUsed)),
        ...giftCardLegs(totals.tenders, input.storeId, program.currency),
      ]
    : []
  if (!input.capture && memberId === null) throw new RangeError('a held sale names its member')
  const entry: EntryPlan | undefined =
    legs.length > 0
      ? {
          id: ctx.entryId,
          kind: 'purchase',
          effectiveAt: sale.occurredAt,
          memberId: memberId ?? undefined,
          storeId: input.storeId,
          referenceType: 'purchase',
          referenceId: ctx.purchaseId,
          pointsExpireAt: lotExpiry(rules.pointsExpiry, program.timezone, sale.occurredAt),
          legs,
        }
      : undefined
  // Holds in account-id order, like every other multi-wallet write.
  const holds: WantedHold[] = input.capture
    ? []
    : [
        { kind: 'points' as const, ref: memberPoints(memberId!), amount: totals.pointsRedeemed },
        { kind: 'storedValue' as const, ref: memberStoredValue(memberId!, program.currency), amount: totals.storedValueUsed },
      ]
        .filter((h) => h.amount > 0n)
        .sort((a, b) => (accountId(program.id, a.ref) < accountId(program.id, b.ref) ? -1 : 1))
  const row: PurchaseRow = {
    programId: program.id,
    id: ctx.purchaseId,
    memberId,
    storeId: input.storeId,
    terminalId: input.terminalId,
    externalId: input.externalId,
    occurredAt: sale.occurredAt,
    currency: program.currency,
    status: input.capture ? 'completed' : 'pending',
    lines: totals.lines.map(
      (l): StoredLine => ({
        sku: l.sku,
        name: l.name,
        quantity: l.quantity,
        ...(l.unit ? { unit: l.unit } : {}),
        unitPrice: l.unitPrice.toString(),
        discount: l.discount.toString(),
        amount: l.amount.toString(),
        category: l.category ?? null,
        taxRate: l.taxRate ?? null,
        orderDiscount: l.orderDiscount.toString(),
        returnedQuantity: quantityValue(0n, l.unit),
        returnedAmount: '0',
      }),
    ),
    tenders: totals.tenders.map(
      (t): StoredTender => ({
        type: t.type,
        amount: t.amount.toString(),
        ...(t.points !== undefined ? { points: t.points.toString(), refundedPoints: '0' } : {}),
        refundedAmount: '0',
        ...cardOf(t),
      }),
    ),
    subtotal: totals.subtotal,
    discountTotal: totals.discountTotal,
    total: totals.total,
    moneyPaid: totals.moneyPaid,
    pointsEarned: input.capture ? pointsEarned : 0n,
    pointsRedeemed: totals.pointsRedeemed,
    storedValueUsed: totals.storedValueUsed,
    returnedTotal: 0n,
    pointsClawedBack: 0n,
    pointsDebt: 0n,
    returnMode: null,
    entryId: entry ? ctx.entryId : null,
    holds: input.capture ? {} : { authorizedTotal: totals.total.toString() },
    holdExpiresAt: input.capture ? null : new Date(ctx.now.getTime() + rules.holdMinutes * 60_000),
    invoice: input.invoice ?? null,
    discounts: totals.discounts.map((d) => ({ ...d, amount: d.amount.toString() })),
    tierCode: level?.code ?? null,
    earnMultiplier,
    rulesEffectiveFrom: loaded.rulesEffectiveFrom,
    warnings: [],
    createdAt: ctx.now,
    updatedAt: ctx.now,
    createdBy: ctx.actor,
  }
  return { totals, level, redemptions, entry, holds, row }
}
