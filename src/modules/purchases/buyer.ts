// The member a sale names by phone or card number, read once (one round trip, no lock) before the
// sale is posted as the same sale by member id would be (applied.ts, authorize.ts). The refusals
// are the quote's too (load.ts findBuyer uses buyerKey and buyerOf): a phone that is not a valid number (400),
// nobody with that phone or card (404), an erased member (409). Phone and card number are unique
// in a program (members_program_phone_key, members_program_card_number_key): one row at most.
import { and, eq } from 'drizzle-orm'
import type { Executor } from '../../db/client.js'
import { AppError, validationFailed } from '../../shared/errors.js'
import { normalizePhone } from '../members/phone.js'
import { members } from '../members/tables.js'
import type { ProgramRow } from '../programs/tables.js'
import type { PurchaseCreate } from './schemas.js'

/** How a sale names its member, other than by id: the E.164 phone, or the card number as sent. */
export type BuyerKey = { phone: string } | { cardNumber: string }

/** Pure: the key a member is looked up by; a phone read in the program's country, refused (400) when it is not a valid number. */
export function buyerKey(program: Pick<ProgramRow, 'country'>, by: { phone?: string; cardNumber?: string }): BuyerKey {
  if (by.phone === undefined) return { cardNumber: by.cardNumber ?? '' }
  const phone = normalizePhone(by.phone, program.country)
  if (!phone) throw validationFailed('phone: not a valid phone number', [{ path: 'body/phone', message: 'not a valid phone number' }])
  return { phone }
}

/** The member found, or the refusal: none (404), erased (409). */
export function buyerOf<M extends { erased_at: unknown }>([member]: M[]): M {
  if (!member) throw new AppError(404, 'MEMBER_NOT_FOUND', 'Member not found', 'No member of this program matches')
  if (member.erased_at) throw new AppError(409, 'MEMBER_ERASED', 'Member erased', 'This member’s personal data was erased; the account takes no new purchases')
  return member
}

/** Pure: the sale as the same sale by member id (phone and card number left out). */
export function byMemberId(sale: PurchaseCreate, memberId: string): PurchaseCreate & { memberId: string } {
  const { phone: _phone, cardNumber: _card, ...rest } = sale
  return { ...rest, memberId }
}

/** The id of the member `by` names, or its refusal. */
export async function resolveBuyer(db: Executor, program: Pick<ProgramRow, 'id' | 'country'>, by: { phone?: string; cardNumber?: string }): Promise<string> {
  const key = buyerKey(program, by)
  const found = await db
    .select({ id: members.id, erased_at: members.erasedAt })
    .from(members)
    .where(and(eq(members.programId, program.id), 'phone' in key ? eq(members.phone, key.phone) : eq(members.cardNumber, key.cardNumber)))
  return buyerOf(found).id
}
