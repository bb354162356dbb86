// What a purchase reads before it decides: the rules of the sale's time and the member.
import { and, eq } from 'drizzle-orm'
import type { Executor } from '../../db/client.js'
import { members } from '../members/tables.js'
import { findRulesAt } from '../programs/repository.js'
import { readRules, type ProgramRules } from '../programs/rules.js'
import type { ProgramRow } from '../programs/tables.js'
import { buyerKey, buyerOf } from './buyer.js'
import { assertSaleWindow, readSale } from './plan.js'
import type { PurchaseCreate } from './schemas.js'

/** Rules in force when the sale happened: the current ones, or an older version for a late upload. */
export async function rulesAt(ex: Executor, program: ProgramRow, at: Date): Promise<{ rules: ProgramRules; effectiveFrom: Date }> {
  if (at >= program.rulesEffectiveFrom) return { rules: readRules(program.rules), effectiveFrom: program.rulesEffectiveFrom }
  const version = await findRulesAt(ex, program.id, at)
  return version ? { rules: readRules(version.rules), effectiveFrom: version.effectiveFrom } : { rules: readRules(program.rules), effectiveFrom: program.rulesEffectiveFrom }
}

export interface MemberRef {
  id: string
  erased_at: unknown
  referred_by: string | null
  phone: string | null
}

const memberRef = { id: members.id, erased_at: members.erasedAt, referred_by: members.referredBy, phone: members.phone }

/** Finds the member (the quote): by id, phone or card number. */
export function findBuyer(ex: Executor, program: ProgramRow, by: { memberId?: string; phone?: string; cardNumber?: string }): Promise<MemberRef[]> {
  const select = (where: ReturnType<typeof eq>) => ex.select(memberRef).from(members).where(and(eq(members.programId, program.id), where))
  if (by.memberId) return select(eq(members.id, by.memberId))
  const key = buyerKey(program, by)
  return select('phone' in key ? eq(members.phone, key.phone) : eq(members.cardNumber, key.cardNumber))
}

/**
 * The first reads of a sale, refusing what needs nothing more: the sale as sent, the rules of its
 * time, the member lookup (not awaited when by id: the caller reads the rest beside it) and the member id.
 */
export async function loadSale(ex: Executor, program: ProgramRow, input: PurchaseCreate, now: Date) {
  const sale = readSale(program, input, now)
  const { rules, effectiveFrom } = await rulesAt(ex, program, sale.occurredAt)
  assertSaleWindow(rules, sale.occurredAt, now)
  const found = findBuyer(ex, program, input)
  // Without a memberId the id is only known once the lookup answers.
  const memberId = input.memberId ?? buyerOf(await found).id
  return { sale, rules, effectiveFrom, found, memberId }
}
