import type { Executor } from '../../db/client.js'
import { currencyExponent, formatMinorUnits, parseMinorUnits } from '../../shared/money.js'
import type { Period } from '../../shared/period.js'
import { POINTS } from '../ledger/accounts.js'
import { findRulesAt } from '../programs/repository.js'
import { readRules } from '../programs/rules.js'
import type { ProgramRow } from '../programs/tables.js'
import { assetFormatter } from './amounts.js'
import { buildLiability, isGiftCardType, liabilityGroups, MOVEMENTS, type AssetLiability, type RollForward } from './liability.js'
import { totalsByAsset, trialBalance } from './trial-balance.js'

/** Money value of one point in the rules in force at `at` (minor units and as written), or null. */
export async function pointValueAt(tx: Executor, program: ProgramRow, at: Date): Promise<{ text: string; minor: bigint } | null> {
  const stored = at >= program.rulesEffectiveFrom ? program.rules : ((await findRulesAt(tx, program.id, at))?.rules ?? program.rules)
  const text = readRules(stored).pointValue
  const minor = text === null ? undefined : parseMinorUnits(text, currencyExponent(program.currency) ?? 0)
  return text === null || minor === undefined ? null : { text, minor }
}

export async function trialBalanceReport(tx: Executor, program: ProgramRow, asOf: Date) {
  const format = assetFormatter()
  const balances = await trialBalance(tx, program.id, asOf)
  const byType = new Map<string, { asset: string; type: string; accounts: number; debit: bigint; credit: bigint; balance: bigint }>()
  for (const b of balances) {
    const key = `${b.asset}\u0000${b.type}`
    const t = byType.get(key) ?? { asset: b.asset, type: b.type, accounts: 0, debit: 0n, credit: 0n, balance: 0n }
    t.accounts += 1
    if (b.balance < 0n) t.debit -= b.balance
    else t.credit += b.balance
    t.balance += b.balance
    byType.set(key, t)
  }
  const money = <T extends { asset: string; debit: bigint; credit: bigint; balance: bigint }>(t: T) => ({
    ...t,
    debit: format(t.debit, t.asset),
    credit: format(t.credit, t.asset),
    balance: format(t.balance, t.asset),
  })
  return {
    asOf: asOf.toISOString(),
    accounts: balances.map((b) => ({
      accountId: b.accountId,
      code: b.code,
      type: b.type,
      asset: b.asset,
      memberId: b.memberId,
      storeId: b.storeId,
      debit: format(b.balance < 0n ? -b.balance : 0n, b.asset),
      credit: format(b.balance > 0n ? b.balance : 0n, b.asset),
      balance: format(b.balance, b.asset),
    })),
    byType: [...byType.values()].map(money),
    totals: [...totalsByAsset(balances).values()].sort((a, b) => (a.asset < b.asset ? -1 : 1)).map(money),
  }
}

function rollForwardView(r: RollForward, format: (v: bigint) => string) {
  return {
    opening: format(r.opening),
    ...(Object.fromEntries(MOVEMENTS.map((m) => [m, format(r[m])])) as Record<(typeof MOVEMENTS)[number], string>),
    closing: format(r.closing),
  }
}

const storesView = (a: AssetLiability, format: (v: bigint, asset: string) => string) =>
  a.byStore.map((s) => ({ storeId: s.storeId, ...rollForwardView(s, (v) => format(v, a.asset)) }))

export async function liabilityReport(tx: Executor, program: ProgramRow, period: Period) {
  const format = assetFormatter()
  const groups = await liabilityGroups(tx, program.id, period)
  const assets = buildLiability(groups.filter((g) => !isGiftCardType(g.accountType)), [POINTS, program.currency])
  const giftCards = buildLiability(groups.filter((g) => isGiftCardType(g.accountType)), [program.currency])
  const pointValue = await pointValueAt(tx, program, period.to)
  const exp = currencyExponent(program.currency) ?? 0
  return {
    from: period.from.toISOString(),
    to: period.to.toISOString(),
    currency: program.currency,
    pointValue: pointValue?.text ?? null,
    assets: assets.map((a) => ({
      asset: a.asset,
      ...rollForwardView(a, (v) => format(v, a.asset)),
      value: a.asset === POINTS && pointValue ? rollForwardView(a, (v) => formatMinorUnits(v * pointValue.minor, exp)) : null,
      byStore: storesView(a, format),
    })),
    giftCards: giftCards.map((a) => ({ asset: a.asset, ...rollForwardView(a, (v) => format(v, a.asset)), byStore: storesView(a, format) })),
  }
}
