import { and, eq, isNull } from 'drizzle-orm'
import type { Executor } from '../../db/client.js'
import { normalizeCode } from '../../shared/codes.js'
import { AppError } from '../../shared/errors.js'
import { members } from './tables.js'

// Every member has a referral code (members.referral_code). Whose a code is, is asked at
// enrolment (members) and when a member names a referrer later (referrals), so it is answered here.

export const referralCodeNotFound = () => new AppError(422, 'REFERRAL_CODE_NOT_FOUND', 'Referral code not found', 'No member of this program has this referral code')

/** The member owning a referral code (erased members refer nobody), or 422 REFERRAL_CODE_NOT_FOUND. */
export async function referrerIdForCode(ex: Executor, programId: string, code: string): Promise<string> {
  const [row] = await ex
    .select({ id: members.id })
    .from(members)
    .where(and(eq(members.programId, programId), eq(members.referralCode, normalizeCode(code)), isNull(members.erasedAt)))
  if (!row) throw referralCodeNotFound()
  return row.id
}
