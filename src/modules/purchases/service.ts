import { and, eq, sql } from 'drizzle-orm'
import { queryRows, type Executor } from '../../db/client.js'
import { allInOrder, runnerOf, type SqlRunner } from '../../db/pipeline.js'
import { AppError, notFound, pgErrorOf, validationFailed } from '../../shared/errors.js'
import { newId } from '../../shared/ids.js'
import { currencyExponent, moneyParser } from '../../shared/money.js'
import { D, roundToInteger } from '../../shared/rounding.js'
import { findRulesAt } from '../programs/repository.js'
import { readRules, type ProgramRules } from '../programs/rules.js'
import type { ProgramRow } from '../programs/tables.js'
import { normalizePhone } from '../members/phone.js'
import { accountId, memberPoints, memberStoredValue, pointsIssued, pointsRedeemed, storedValueSettlement } from '../ledger/accounts.js'
import type { Leg } from '../ledger/planner.js'
import { transfer } from '../ledger/planner.js'
import { placeHold, postEntry, resolveHold, type PostedEntry } from '../ledger/service.js'
import { lotExpiry, restoredPointsExpiry } from '../ledger/lots.js'
import { takeReserved } from '../ledger/lot-plans.js'
import { expireReleased } from '../ledger/expiry.js'
import { couponSteps } from '../coupons/discounts.js'
import { redeemCoupons, releaseCoupons, resolveCoupons } from '../coupons/service.js'
import { rewardReferral } from '../referrals/service.js'
import type { TierInput } from '../receipts/inputs.js'
import { preparePurchaseReceipt, sendReceipt } from '../receipts/record.js'
import { memberBalances, type MemberBalances } from '../ledger/reads.js'
import { announceTierChange, changeTier, findTier, indexOfTier, qualifyingIndex, thresholdOf, tierMetric, type TierChange, type TierRules } from '../tiers/service.js'
import { computePurchase, percentOff, type DiscountStep, earnedPoints, pointValueMinor, splitRefund, type LineInput, type TenderInput, type TenderType } from './calculator.js'
import type { PurchaseCreate, ReturnInput } from './schemas.js'
import { purchaseReturns, purchases, type PurchaseRow } from './tables.js'

/** How a line and a tender are kept in the purchase row (bigints as decimal strings). */
export interface StoredLine {
  sku: string
  name: string
  quantity: number
  unitPrice: string
  discount: string
  amount: string
  category: string | null
  taxRate: string | null
  /** Share of the order-level discounts; absent on purchases posted before tiers and coupons. */
  orderDiscount?: string
  returnedQuantity: number
  returnedAmount: string
}

export interface StoredDiscount {
  type: 'tier' | 'coupon'
  code: string
  name?: string
  campaignId?: string
  percent?: string
  amount: string
}

export interface StoredTender {
  type: TenderType
  amount: string
  points?: string
  refundedAmount: string
  refundedPoints?: string
}

interface StoredHolds {
  points?: { holdId: string; points: string }
  storedValue?: { holdId: string; amount: string }
  authorizedTotal?: string
}

const unprocessable = (code: string, title: string, detail: string, extensions: Record<string, unknown> = {}) => new AppError(422, code, title, detail, extensions)
const conflict = (code: string, title: string, detail: string, extensions: Record<string, unknown> = {}) => new AppError(409, code, title, detail, extensions)

const FUTURE_TOLERANCE_MS = 5 * 60_000

export function exponentOf(program: ProgramRow): number {
  return currencyExponent(program.currency) ?? 0
}

/** Rules in force when the sale happened: the current ones, or an older version for a late upload. */
async function rulesAt(ex: Executor | SqlRunner, program: ProgramRow, at: Date): Promise<{ rules: ProgramRules; effectiveFrom: Date }> {
  if (at >= program.rulesEffectiveFrom) return { rules: readRules(program.rules), effectiveFrom: program.rulesEffectiveFrom }
  const version = await findRulesAt(ex, program.id, at)
  return version ? { rules: readRules(version.rules), effectiveFrom: version.effectiveFrom } : { rules: readRules(program.rules), effectiveFrom: program.rulesEffectiveFrom }
}

interface MemberRef {
  id: string
  erased_at: unknown
  referred_by: string | null
  phone: string | null
}

/** Finds the member: by id the statement is only sent (the caller pipelines it); by phone or card it is awaited. */
function findBuyer(runner: SqlRunner, program: ProgramRow, by: { memberId?: string; phone?: string; cardNumber?: string }): Promise<MemberRef[]> {
  if (by.memberId) return runner.run<MemberRef>('select id, erased_at, referred_by, phone from members where program_id = $1::uuid and id = $2::uuid', [program.id, by.memberId])
  if (by.phone !== undefined) {
    const phone = normalizePhone(by.phone, program.country)
    if (!phone) throw validationFailed('phone: not a valid phone number', [{ path: 'body/phone', message: 'not a valid phone number' }])
    return runner.run<MemberRef>('select id, erased_at, referred_by, phone from members where program_id = $1::uuid and phone = $2', [program.id, phone])
  }
  return runner.run<MemberRef>('select id, erased_at, referred_by, phone from members where program_id = $1::uuid and card_number = $2', [program.id, by.cardNumber ?? ''])
}

function buyerOf([member]: MemberRef[]): MemberRef {
  if (!member) throw new AppError(404, 'MEMBER_NOT_FOUND', 'Member not found', 'No member of this program matches')
  if (member.erased_at) throw conflict('MEMBER_ERASED', 'Member erased', 'This member’s personal data was erased; the account takes no new purchases')
  return member
}

function earnLegs(memberId: string, points: bigint): Leg[] {
  return points > 0n ? transfer(pointsIssued(), memberPoints(memberId), points) : []
}

function spendLegs(memberId: string, storeId: string, currency: string, points: bigint, storedValue: bigint): Leg[] {
  return [
    ...(points > 0n ? transfer(memberPoints(memberId), pointsRedeemed(), points) : []),
    ...(storedValue > 0n ? transfer(memberStoredValue(memberId, currency), storedValueSettlement(storeId, currency), storedValue) : []),
  ]
}

/**
 * Posts a sale. Hot path: with a memberId and capture, every statement (member check, ledger
 * entry, purchase row, balances) is sent at once and waited for together, one round trip.
 */
export async function createPurchase(ex: Executor | SqlRunner, program: ProgramRow, input: PurchaseCreate, actor: string): Promise<{ row: PurchaseRow; balances: MemberBalances; tierChange?: TierChange; receipt: { id: string; number: string; token: string } }> {
  const runner = runnerOf(ex)
  if (input.currency !== program.currency) {
    throw unprocessable('CURRENCY_MISMATCH', 'Wrong currency', `This program runs in ${program.currency}, not ${input.currency}`, { expected: program.currency })
  }
  const now = new Date()
  const occurredAt = input.occurredAt ? new Date(input.occurredAt) : now
  if (occurredAt.getTime() > now.getTime() + FUTURE_TOLERANCE_MS) throw unprocessable('OCCURRED_AT_IN_FUTURE', 'Sale in the future', 'occurredAt is later than now')

  const exponent = exponentOf(program)
  const money = moneyParser(exponent, program.currency)
  const lines: LineInput[] = input.lines.map((l, i) => ({
    sku: l.sku,
    name: l.name,
    quantity: l.quantity,
    unitPrice: money.parse(l.unitPrice, `body/lines/${i}/unitPrice`),
    discount: l.discount === undefined ? 0n : money.parse(l.discount, `body/lines/${i}/discount`),
    category: l.category,
    taxRate: l.taxRate,
  }))
  const tenders: TenderInput[] = input.tenders.map((t, i) =>
    t.type === 'points' ? { type: 'points', points: BigInt(t.points) } : { type: t.type, amount: money.parse(t.amount, `body/tenders/${i}/amount`) },
  )
  money.done()

  const { rules, effectiveFrom } = await rulesAt(runner, program, occurredAt)
  if (now.getTime() - occurredAt.getTime() > rules.offlineWindowHours * 3_600_000) {
    throw unprocessable('OCCURRED_AT_TOO_OLD', 'Sale too old', `Sales older than ${rules.offlineWindowHours} hours cannot be posted in this program`)
  }
  const found = findBuyer(runner, program, input)
  // Without a memberId the id is only known once the lookup answers.
  const memberId = input.memberId ?? buyerOf(await found).id
  // A program with tiers reads the member's tier first (one round trip more): it sets the price and the earn rate.
  const tiers = rules.tiers
  // So do coupons: both reads go out together.
  const codes = input.couponCodes ?? []
  const [tier, coupons] = await allInOrder([
    tiers ? findTier(runner, program.id, memberId) : undefined,
    codes.length > 0 ? resolveCoupons(runner, program, { memberId, codes, at: occurredAt }) : [],
  ] as const)
  const level = tiers && tier ? tiers.levels[indexOfTier(tiers, tier.code)] : undefined
  const discounts: DiscountStep[] = []
  if (level && D(level.discountPercent).gt(0)) {
    discounts.push({ type: 'tier', code: level.code, name: level.name, percent: level.discountPercent, amountOf: (base) => percentOff(base, level.discountPercent) })
  }
  discounts.push(...couponSteps(coupons, exponent))
  const earnMultiplier = level?.earnMultiplier ?? '1'
  const totals = computePurchase({ lines, tenders, rules, exponent, discounts, earnMultiplier })
  const redemptions = totals.discounts
    .filter((d) => d.type === 'coupon')
    .map((d) => ({ coupon: coupons.find((c) => c.code === d.code)!, discount: d.amount }))
  const id = newId()

  let entry: Promise<PostedEntry> | undefined
  let holds: StoredHolds = {}
  let holdExpiresAt: Date | null = null
  const entryId = newId()
  if (input.capture) {
    const legs = [...earnLegs(memberId, totals.pointsEarned), ...spendLegs(memberId, input.storeId, program.currency, totals.pointsRedeemed, totals.storedValueUsed)]
    if (legs.length > 0) {
      entry = postEntry(
        runner,
        program.id,
        {
          id: entryId,
          kind: 'purchase',
          effectiveAt: occurredAt,
          memberId,
          storeId: input.storeId,
          referenceType: 'purchase',
          referenceId: id,
          pointsExpireAt: lotExpiry(rules.pointsExpiry, program.timezone, occurredAt),
          legs,
        },
        actor,
      )
    }
  } else {
    buyerOf(await found)
    holdExpiresAt = new Date(now.getTime() + rules.holdMinutes * 60_000)
    const reference = { type: 'purchase', id }
    // Holds in account-id order, like every other multi-wallet write.
    const wanted = [
      { kind: 'points' as const, ref: memberPoints(memberId), amount: totals.pointsRedeemed },
      { kind: 'storedValue' as const, ref: memberStoredValue(memberId, program.currency), amount: totals.storedValueUsed },
    ]
      .filter((h) => h.amount > 0n)
      .sort((a, b) => (accountId(program.id, a.ref) < accountId(program.id, b.ref) ? -1 : 1))
    for (const h of wanted) {
      const hold = await placeHold(runner, program.id, h.ref, h.amount, holdExpiresAt, reference)
      if (h.kind === 'points') holds.points = { holdId: hold.id, points: h.amount.toString() }
      else holds.storedValue = { holdId: hold.id, amount: h.amount.toString() }
    }
    holds = { ...holds, authorizedTotal: totals.total.toString() }
  }

  const row: PurchaseRow = {
    programId: program.id,
    id,
    memberId,
    storeId: input.storeId,
    terminalId: input.terminalId,
    externalId: input.externalId,
    occurredAt,
    currency: program.currency,
    status: input.capture ? 'completed' : 'pending',
    lines: totals.lines.map(
      (l): StoredLine => ({
        sku: l.sku,
        name: l.name,
        quantity: l.quantity,
        unitPrice: l.unitPrice.toString(),
        discount: l.discount.toString(),
        amount: l.amount.toString(),
        category: l.category ?? null,
        taxRate: l.taxRate ?? null,
        orderDiscount: l.orderDiscount.toString(),
        returnedQuantity: 0,
        returnedAmount: '0',
      }),
    ),
    tenders: totals.tenders.map(
      (t): StoredTender => ({
        type: t.type,
        amount: t.amount.toString(),
        ...(t.points !== undefined ? { points: t.points.toString(), refundedPoints: '0' } : {}),
        refundedAmount: '0',
      }),
    ),
    subtotal: totals.subtotal,
    discountTotal: totals.discountTotal,
    total: totals.total,
    moneyPaid: totals.moneyPaid,
    pointsEarned: input.capture ? totals.pointsEarned : 0n,
    pointsRedeemed: totals.pointsRedeemed,
    storedValueUsed: totals.storedValueUsed,
    returnedTotal: 0n,
    pointsClawedBack: 0n,
    pointsDebt: 0n,
    returnMode: null,
    entryId: entry ? entryId : null,
    holds,
    holdExpiresAt,
    invoice: input.invoice ?? null,
    discounts: totals.discounts.map((d) => ({ ...d, amount: d.amount.toString() })),
    tierCode: level?.code ?? null,
    earnMultiplier,
    rulesEffectiveFrom: effectiveFrom,
    warnings: [],
    createdAt: now,
    updatedAt: now,
    createdBy: actor,
  }
  const inserted = insertPurchase(runner, row).catch((err: unknown) => {
    if (pgErrorOf(err).constraint === 'purchases_program_store_external_key') {
      throw conflict('DUPLICATE_PURCHASE', 'Duplicate receipt number', `Store ${input.storeId} already posted receipt ${input.externalId}; retry with the same Idempotency-Key to get the original response`)
    }
    throw err
  })
  // After the ledger entry: wallets, then coupon rows, the one lock order of every path.
  const redeemed = redemptions.length > 0 ? redeemCoupons(runner, program, { purchaseId: id, memberId, redemptions }) : undefined
  const balances = memberBalances(runner, program.id, memberId, program.currency)
  const metric = tiers && input.capture ? tierMetric(runner, program, tiers, memberId, now > occurredAt ? now : occurredAt) : undefined
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
    tier: tiers && measured !== undefined ? tierProgress(tiers, tierChange?.to ?? tier?.code ?? null, measured, exponent) : null,
  })
  sendReceipt(runner, receipt)
  return { row, balances: balancesAfter, tierChange, receipt: { id: receipt.id, number: receipt.number, token: receipt.token } }
}

/** The tier line of a receipt: the tier after the sale and what is still needed for the next. */
function tierProgress(tiers: TierRules, code: string | null, metric: bigint, exponent: number): TierInput | null {
  const index = indexOfTier(tiers, code)
  if (index < 0) return null
  const next = tiers.levels[index + 1]
  const needed = next ? thresholdOf(tiers, next, exponent) - metric : 0n
  return {
    name: tiers.levels[index]!.name,
    next: next ? { name: next.name, remaining: needed > 0n ? needed : 0n, unit: tiers.metric === 'spend' ? 'money' : 'points' } : null,
  }
}

async function upgradeIfQualified(runner: SqlRunner, program: ProgramRow, tiers: TierRules, memberId: string, current: string | null, metric: bigint, at: Date, purchaseId: string) {
  const reached = qualifyingIndex(tiers, metric, exponentOf(program))
  if (reached <= indexOfTier(tiers, current)) return undefined
  const change = await changeTier(runner, program, tiers, { memberId, fromCode: current, toIndex: reached, reason: 'upgrade', metric, at, purchaseId })
  if (change) await announceTierChange(runner, program, tiers, change)
  return change
}

function insertPurchase(runner: SqlRunner, r: PurchaseRow) {
  return runner.run(
    `insert into purchases (program_id, id, member_id, store_id, terminal_id, external_id, occurred_at, currency, status, lines, tenders,
                            subtotal, discount_total, total, money_paid, points_earned, points_redeemed, stored_value_used,
                            returned_total, points_clawed_back, points_debt, return_mode, entry_id, holds, hold_expires_at, invoice,
                            rules_effective_from, warnings, created_at, updated_at, created_by, discounts, tier_code, earn_multiplier)
     values ($1::uuid, $2::uuid, $3::uuid, $4, $5, $6, $7::timestamptz, $8, $9, $10::jsonb, $11::jsonb,
             $12::bigint, $13::bigint, $14::bigint, $15::bigint, $16::bigint, $17::bigint, $18::bigint,
             $19::bigint, $20::bigint, $21::bigint, $22, $23::uuid, $24::jsonb, $25::timestamptz, $26::jsonb,
             $27::timestamptz, $28::jsonb, $29::timestamptz, $30::timestamptz, $31, $32::jsonb, $33, $34)`,
    [
      r.programId, r.id, r.memberId, r.storeId, r.terminalId, r.externalId, r.occurredAt.toISOString(), r.currency, r.status,
      JSON.stringify(r.lines), JSON.stringify(r.tenders),
      String(r.subtotal), String(r.discountTotal), String(r.total), String(r.moneyPaid), String(r.pointsEarned), String(r.pointsRedeemed), String(r.storedValueUsed),
      String(r.returnedTotal), String(r.pointsClawedBack), String(r.pointsDebt), r.returnMode, r.entryId, JSON.stringify(r.holds),
      r.holdExpiresAt?.toISOString() ?? null, r.invoice === null ? null : JSON.stringify(r.invoice),
      r.rulesEffectiveFrom.toISOString(), JSON.stringify(r.warnings), r.createdAt.toISOString(), r.updatedAt.toISOString(), r.createdBy,
      JSON.stringify(r.discounts), r.tierCode, r.earnMultiplier,
    ],
  )
}

/** Locks the purchase row: captures, voids and returns of one purchase run one at a time. */
async function lockPurchase(tx: Executor, programId: string, purchaseId: string): Promise<PurchaseRow> {
  const [row] = await tx
    .select()
    .from(purchases)
    .where(and(eq(purchases.programId, programId), eq(purchases.id, purchaseId)))
    .for('update')
  if (!row) throw notFound('Purchase')
  return row
}

/** Ends the purchase's holds; held points go back to their lots, and what is past due at `asOf` expires at once. */
async function releaseHolds(tx: Executor, programId: string, row: PurchaseRow, status: 'voided' | 'expired', asOf: Date, actor: string): Promise<void> {
  const holds = row.holds as StoredHolds
  for (const h of [holds.points?.holdId, holds.storedValue?.holdId].filter((x): x is string => !!x).sort()) {
    await expireReleased(tx, programId, await resolveHold(tx, programId, h, status), [], asOf, actor)
  }
}

export async function voidPurchase(tx: Executor, program: ProgramRow, purchaseId: string, reason: string | undefined): Promise<PurchaseRow> {
  const row = await lockPurchase(tx, program.id, purchaseId)
  if (row.status !== 'pending') throw conflict('PURCHASE_NOT_PENDING', 'Not pending', `The purchase is ${row.status}; only a pending purchase can be voided (use a return)`)
  await releaseHolds(tx, program.id, row, 'voided', new Date(), 'purchase:void')
  await releaseCoupons(runnerOf(tx), program.id, row.id)
  const warnings = reason ? [...(row.warnings as object[]), { code: 'VOIDED', message: reason }] : row.warnings
  const [updated] = await tx
    .update(purchases)
    .set({ status: 'voided', warnings, updatedAt: new Date() })
    .where(and(eq(purchases.programId, program.id), eq(purchases.id, purchaseId)))
    .returning()
  return updated!
}

/** Voids one pending purchase whose hold deadline passed; false when it was resolved meanwhile. */
export async function expirePurchase(tx: Executor, programId: string, purchaseId: string, asOf: Date): Promise<boolean> {
  const row = await lockPurchase(tx, programId, purchaseId)
  if (row.status !== 'pending' || !row.holdExpiresAt || row.holdExpiresAt > asOf) return false
  await releaseHolds(tx, programId, row, 'expired', asOf, 'job:void-expired-holds')
  await releaseCoupons(runnerOf(tx), programId, row.id)
  await tx
    .update(purchases)
    .set({ status: 'voided', warnings: [...(row.warnings as object[]), { code: 'HOLD_EXPIRED', message: 'not captured before its deadline' }], updatedAt: new Date() })
    .where(and(eq(purchases.programId, programId), eq(purchases.id, purchaseId)))
  return true
}

export async function capturePurchase(
  tx: Executor,
  program: ProgramRow,
  purchaseId: string,
  amountText: string | undefined,
  actor: string,
): Promise<{ row: PurchaseRow; tierChange?: TierChange }> {
  const row = await lockPurchase(tx, program.id, purchaseId)
  if (row.status !== 'pending') throw conflict('PURCHASE_NOT_PENDING', 'Not pending', `The purchase is ${row.status}; only a pending purchase can be captured`)
  const now = new Date()
  if (row.holdExpiresAt && row.holdExpiresAt <= now) throw conflict('HOLD_EXPIRED', 'Hold expired', 'The authorisation expired before capture; post a new purchase')
  const exponent = exponentOf(program)
  const money = moneyParser(exponent, program.currency)
  const amount = amountText === undefined ? row.total : money.parse(amountText, 'body/amount')
  money.done()
  if (amount <= 0n || amount > row.total) throw unprocessable('CAPTURE_EXCEEDS_AUTHORISED', 'Bad capture amount', `Capture between 0 and the authorised ${row.total} minor units`)

  const { rules } = await rulesAt(tx, program, row.occurredAt)
  const pv = pointValueMinor(rules, exponent)
  const tenders = row.tenders as StoredTender[]
  // The part not captured is released from the tenders in proportion, like a return.
  const released = splitRefund(
    row.total - amount,
    tenders.map((t) => ({ type: t.type, amount: BigInt(t.amount), points: t.points === undefined ? undefined : BigInt(t.points) })),
    pv,
  )
  const captured: StoredTender[] = tenders.map((t, i) => {
    const rel = released[i]!
    return {
      type: t.type,
      amount: (BigInt(t.amount) - rel.amount).toString(),
      ...(t.points !== undefined ? { points: (BigInt(t.points) - (rel.points ?? 0n)).toString(), refundedPoints: '0' } : {}),
      refundedAmount: '0',
    }
  })
  const capturedTotal = captured.reduce((s, t) => s + BigInt(t.amount), 0n)
  const pointsCaptured = captured.reduce((s, t) => s + BigInt(t.points ?? '0'), 0n)
  const svCaptured = captured.filter((t) => t.type === 'storedValue').reduce((s, t) => s + BigInt(t.amount), 0n)
  const moneyPaid = capturedTotal - pointsCaptured * (pv ?? 0n)
  const lines = row.lines as StoredLine[]
  const earned = earnedPoints(
    lines.map((l) => ({ amount: BigInt(l.amount), category: l.category ?? undefined })),
    moneyPaid,
    row.total,
    rules,
    exponent,
    row.earnMultiplier,
  )

  const holds = row.holds as StoredHolds
  const resolutions = [
    holds.points ? { holdId: holds.points.holdId, amount: pointsCaptured } : undefined,
    holds.storedValue ? { holdId: holds.storedValue.holdId, amount: svCaptured } : undefined,
  ]
    .filter((x): x is { holdId: string; amount: bigint } => !!x)
    .sort((a, b) => (a.holdId < b.holdId ? -1 : 1))
  const resolved = []
  for (const r of resolutions) resolved.push(await resolveHold(tx, program.id, r.holdId, 'posted', r.amount))
  // The captured points come out of the lots the hold reserved; the rest goes back to them.
  const pointsHold = resolved.find((h) => h.id === holds.points?.holdId)
  const takeLots = pointsHold ? takeReserved(pointsHold.lots, pointsCaptured) : undefined

  const legs = [...earnLegs(row.memberId, earned), ...spendLegs(row.memberId, row.storeId, program.currency, pointsCaptured, svCaptured)]
  let postedEntry: string | null = null
  if (legs.length > 0) {
    postedEntry = (
      await postEntry(
        tx,
        program.id,
        {
          kind: 'capture',
          effectiveAt: now,
          memberId: row.memberId,
          storeId: row.storeId,
          referenceType: 'purchase',
          referenceId: row.id,
          pointsExpireAt: lotExpiry(rules.pointsExpiry, program.timezone, now),
          takeLots,
          legs,
        },
        actor,
      )
    ).entryId
  }
  if (pointsHold) await expireReleased(tx, program.id, pointsHold, takeLots ?? [], now, actor)
  const [updated] = await tx
    .update(purchases)
    .set({
      status: 'completed',
      total: capturedTotal,
      tenders: captured,
      moneyPaid,
      pointsEarned: earned,
      pointsRedeemed: pointsCaptured,
      storedValueUsed: svCaptured,
      entryId: postedEntry,
      holdExpiresAt: null,
      // A partial capture no longer matches the lines: such a purchase is returned by amount.
      returnMode: capturedTotal < row.total ? 'amount' : null,
      updatedAt: new Date(),
    })
    .where(and(eq(purchases.programId, program.id), eq(purchases.id, purchaseId)))
    .returning()
  // A captured sale counts towards the member's tier like any other.
  let tierChange: TierChange | undefined
  if (rules.tiers) {
    const current = await findTier(tx, program.id, row.memberId)
    const metric = await tierMetric(tx, program, rules.tiers, row.memberId, now)
    tierChange = await upgradeIfQualified(runnerOf(tx), program, rules.tiers, row.memberId, current?.code ?? null, metric, now, row.id)
  }
  if (rules.referral) await rewardReferral(runnerOf(tx), program, rules, { refereeId: row.memberId, purchaseId: row.id, at: now })
  return { row: updated!, tierChange }
}

export interface ReturnResult {
  id: string
  purchaseId: string
  memberId: string
  /** The purchase as it was before this return (its receipt describes the return against it). */
  before: PurchaseRow
  reason: string | null
  amount: bigint
  refunds: { type: TenderType; amount: bigint; points?: bigint }[]
  pointsClawedBack: bigint
  pointsDebt: bigint
  entryId: string | null
  createdAt: Date
}

/** The value of the first `q` units of a line: whole lines exact, parts rounded down, the last unit takes the rest. */
const lineValueOf = (line: StoredLine, q: number) =>
  q >= line.quantity ? BigInt(line.amount) : (BigInt(line.amount) * BigInt(q)) / BigInt(line.quantity)

export async function returnPurchase(tx: Executor, program: ProgramRow, purchaseId: string, input: ReturnInput, actor: string): Promise<ReturnResult> {
  const now = new Date()
  const row = await lockPurchase(tx, program.id, purchaseId)
  if (row.status !== 'completed') throw conflict('PURCHASE_NOT_COMPLETED', 'Not completed', `The purchase is ${row.status}; only completed purchases take returns`)
  const mode = input.lines ? 'lines' : 'amount'
  if (row.returnMode && row.returnMode !== mode) {
    throw unprocessable('RETURN_MODE_MISMATCH', 'Return the same way', `This purchase is returned by ${row.returnMode}; keep returning it that way`)
  }
  const exponent = exponentOf(program)
  const lines = (row.lines as StoredLine[]).map((l) => ({ ...l }))
  const remainingTotal = row.total - row.returnedTotal

  let refund: bigint
  if (input.lines) {
    refund = 0n
    for (const [i, r] of input.lines.entries()) {
      const index = r.line !== undefined ? r.line - 1 : lines.findIndex((l) => l.sku === r.sku)
      const matches = r.sku !== undefined ? lines.filter((l) => l.sku === r.sku).length : 1
      if (r.sku !== undefined && matches > 1) throw validationFailed(`sku ${r.sku} is on several lines; give the line number`, [{ path: `body/lines/${i}`, message: 'ambiguous sku' }])
      const line = lines[index]
      if (!line) throw unprocessable('RETURN_LINE_NOT_IN_PURCHASE', 'Not in the purchase', `line ${i + 1} is not part of this purchase`, { line: i + 1 })
      const after = line.returnedQuantity + r.quantity
      if (after > line.quantity) {
        throw unprocessable('RETURN_EXCEEDS_PURCHASE', 'More than was bought', `${line.sku}: ${line.quantity} bought, ${line.returnedQuantity} already returned`, {
          sku: line.sku,
          returnable: line.quantity - line.returnedQuantity,
        })
      }
      const value = lineValueOf(line, after) - lineValueOf(line, line.returnedQuantity)
      line.returnedQuantity = after
      line.returnedAmount = (BigInt(line.returnedAmount) + value).toString()
      refund += value
    }
  } else {
    const money = moneyParser(exponent, program.currency)
    refund = money.parse(input.amount!, 'body/amount')
    money.done()
    if (refund <= 0n) throw validationFailed('amount: must be greater than zero', [{ path: 'body/amount', message: 'must be greater than zero' }])
    if (refund > remainingTotal) {
      throw unprocessable('RETURN_EXCEEDS_PURCHASE', 'More than was bought', `At most ${remainingTotal} minor units remain returnable`, { returnable: remainingTotal.toString() })
    }
  }

  const { rules } = await rulesAt(tx, program, row.occurredAt)
  const pv = pointValueMinor(rules, exponent)
  const tenders = (row.tenders as StoredTender[]).map((t) => ({ ...t }))
  const parts = splitRefund(
    refund,
    tenders.map((t) => ({
      type: t.type,
      amount: BigInt(t.amount) - BigInt(t.refundedAmount),
      points: t.points === undefined ? undefined : BigInt(t.points) - BigInt(t.refundedPoints ?? '0'),
    })),
    pv,
  )
  tenders.forEach((t, i) => {
    t.refundedAmount = (BigInt(t.refundedAmount) + parts[i]!.amount).toString()
    if (t.points !== undefined) t.refundedPoints = (BigInt(t.refundedPoints ?? '0') + (parts[i]!.points ?? 0n)).toString()
  })
  const refunded = parts.reduce((s, p) => s + p.amount, 0n)
  const returnedTotal = row.returnedTotal + refunded
  const keptTotal = row.total - returnedTotal > 0n ? row.total - returnedTotal : 0n

  // Earned points that should remain after this return; the difference is clawed back.
  let earnedShouldBe: bigint
  if (keptTotal === 0n) earnedShouldBe = 0n
  else if (mode === 'lines') {
    const moneyRefunded = tenders.filter((t) => t.type !== 'points').reduce((s, t) => s + BigInt(t.refundedAmount), 0n)
    earnedShouldBe = earnedPoints(
      lines.map((l) => ({ amount: BigInt(l.amount) - BigInt(l.returnedAmount), category: l.category ?? undefined })),
      row.moneyPaid - moneyRefunded,
      keptTotal,
      rules,
      exponent,
      row.earnMultiplier,
    )
  } else {
    earnedShouldBe = roundToInteger(D(row.pointsEarned.toString()).times(keptTotal.toString()).div(row.total.toString()), 'down')
  }
  const stillCredited = row.pointsEarned - row.pointsClawedBack - row.pointsDebt
  const clawTarget = stillCredited - earnedShouldBe > 0n ? stillCredited - earnedShouldBe : 0n

  const pointsBack = parts.reduce((s, p) => s + (p.points ?? 0n), 0n)
  const svBack = parts.filter((p) => p.type === 'storedValue').reduce((s, p) => s + p.amount, 0n)
  let claw = clawTarget
  let debt = 0n
  const overdraft = rules.clawbackPolicy === 'negative_balance'
  if (clawTarget > 0n && !overdraft) {
    // Clamp: take what the member has (after the points given back), owe the rest. Both wallets are
    // locked now, in account-id order like every posting, so the read stays true until the write.
    const pointsWallet = accountId(program.id, memberPoints(row.memberId))
    const wallets = await queryRows<{ id: string; available: string }>(
      tx,
      sql`select id, credits_posted - debits_posted - debits_pending as available from ledger_accounts
           where program_id = ${program.id} and id in (${pointsWallet}, ${accountId(program.id, memberStoredValue(row.memberId, program.currency))})
           order by id for update`,
    )
    const wallet = wallets.find((w) => w.id === pointsWallet)
    const available = (wallet ? BigInt(wallet.available) : 0n) + pointsBack
    claw = available <= 0n ? 0n : clawTarget < available ? clawTarget : available
    debt = clawTarget - claw
  }

  const legs: Leg[] = [
    ...(pointsBack > 0n ? transfer(pointsRedeemed(), memberPoints(row.memberId), pointsBack) : []),
    ...(svBack > 0n ? transfer(storedValueSettlement(row.storeId, program.currency), memberStoredValue(row.memberId, program.currency), svBack) : []),
    ...(claw > 0n ? transfer(memberPoints(row.memberId), pointsIssued(), claw) : []),
  ]
  const id = newId()
  let entryId: string | null = null
  if (legs.length > 0) {
    entryId = (
      await postEntry(
        tx,
        program.id,
        {
          kind: 'return',
          effectiveAt: now,
          // The clawback takes the points this purchase earned first; points it redeemed go back to the lots they came from.
          consumeLotsOf: row.entryId ?? undefined,
          restoreLotsOf: row.entryId ?? undefined,
          pointsExpireAt: restoredPointsExpiry(rules, now),
          memberId: row.memberId,
          storeId: row.storeId,
          reason: input.reason,
          referenceType: 'purchase_return',
          referenceId: id,
          allowOverdraft: overdraft,
          metadata: { purchaseId: row.id },
          legs,
        },
        actor,
      )
    ).entryId
  }

  const createdAt = new Date()
  const refunds = parts.map((p) => ({ type: p.type, amount: p.amount.toString(), ...(p.points !== undefined ? { points: p.points.toString() } : {}) }))
  await tx.insert(purchaseReturns).values({
    programId: program.id,
    id,
    purchaseId: row.id,
    lines: input.lines ?? null,
    amount: refunded,
    refunds,
    pointsClawedBack: claw,
    pointsDebt: debt,
    entryId,
    reason: input.reason ?? null,
    createdAt,
    createdBy: actor,
  })
  await tx
    .update(purchases)
    .set({
      lines,
      tenders,
      returnedTotal,
      pointsClawedBack: row.pointsClawedBack + claw,
      pointsDebt: row.pointsDebt + debt,
      returnMode: mode,
      updatedAt: createdAt,
    })
    .where(and(eq(purchases.programId, program.id), eq(purchases.id, row.id)))
  // A fully returned purchase gives its coupons back (uses, member limits, budget).
  if (returnedTotal >= row.total) await releaseCoupons(runnerOf(tx), program.id, row.id)
  return { id, purchaseId: row.id, memberId: row.memberId, before: row, reason: input.reason ?? null, amount: refunded, refunds: parts, pointsClawedBack: claw, pointsDebt: debt, entryId, createdAt }
}

