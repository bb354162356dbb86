import type { Executor } from '../../db/client.js'
import { runnerOf, type SqlRunner } from '../../db/pipeline.js'
import { normalizeCode } from '../../shared/codes.js'
import { AppError } from '../../shared/errors.js'

// Every member has a referral code (members.referral_code). Whose a code is, is asked at
// enrolment (members) and when a member names a referrer later (referrals), so it is answered here.

export const referralCodeNotFound = () => new AppError(422, 'REFERRAL_CODE_NOT_FOUND', 'Referral code not found', 'No member of this program has this referral code')

/** The member owning a referral code (erased members refer nobody), or 422 REFERRAL_CODE_NOT_FOUND. */
export async function referrerIdForCode(ex: Executor | SqlRunner, programId: string, code: string): Promise<string> {
  const [row] = await runnerOf(ex).run<{ id: string }>('select id from members where program_id = $1::uuid and referral_code = $2 and erased_at is null', [
    programId,
    normalizeCode(code),
  ])
  if (!row) throw referralCodeNotFound()
  return row.id
}
