// What a purchase reads before it decides: the rules of the sale's time and the member.
import type { Executor } from '../../db/client.js'
import type { SqlRunner } from '../../db/pipeline.js'
import { findRulesAt } from '../programs/repository.js'
import { readRules, type ProgramRules } from '../programs/rules.js'
import type { ProgramRow } from '../programs/tables.js'
import { buyerKey, buyerOf } from './buyer.js'
import { assertSaleWindow, readSale } from './plan.js'
import type { PurchaseCreate } from './schemas.js'

/** Rules in force when the sale happened: the current ones, or an older version for a late upload. */
export async function rulesAt(ex: Executor | SqlRunner, program: ProgramRow, at: Date): Promise<{ rules: ProgramRules; effectiveFrom: Date }> {
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

/** Finds the member (pipelined transaction, quote): by id the statement is only sent (the caller pipelines it); by phone or card it is awaited. */
export function findBuyer(runner: SqlRunner, program: ProgramRow, by: { memberId?: string; phone?: string; cardNumber?: string }): Promise<MemberRef[]> {
  if (by.memberId) return runner.run<MemberRef>('select id, erased_at, referred_by, phone from members where program_id = $1::uuid and id = $2::uuid', [program.id, by.memberId])
  const key = buyerKey(program, by)
  if ('phone' in key) return runner.run<MemberRef>('select id, erased_at, referred_by, phone from members where program_id = $1::uuid and phone = $2', [program.id, key.phone])
  return runner.run<MemberRef>('select id, erased_at, referred_by, phone from members where program_id = $1::uuid and card_number = $2', [program.id, key.cardNumber])
}

/**
 * The first reads of a sale, refusing what needs nothing more: the sale as sent, the rules of its
 * time, the member lookup (sent, not awaited when by id) and the member id.
 */
export async function loadSale(runner: SqlRunner, program: ProgramRow, input: PurchaseCreate, now: Date) {
  const sale = readSale(program, input, now)
  const { rules, effectiveFrom } = await rulesAt(runner, program, sale.occurredAt)
  assertSaleWindow(rules, sale.occurredAt, now)
  const found = findBuyer(runner, program, input)
  // Without a memberId the id is only known once the lookup answers.
  const memberId = input.memberId ?? buyerOf(await found).id
  return { sale, rules, effectiveFrom, found, memberId }
}
