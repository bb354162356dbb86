// Referrals: every member has a referral code (members.referral_code); a member enrolled with
// one, or naming one before any purchase, is referred by its owner; the referred member's first
// purchase rewards both, once.
import type { Executor } from '../../db/client.js'
import { runnerOf } from '../../db/pipeline.js'
import { AppError } from '../../shared/errors.js'
import { referralCodeNotFound, referrerIdForCode } from '../members/referral-code.js'
import type { ProgramRow } from '../programs/tables.js'

export const referralErrors = {
  codeNotFound: referralCodeNotFound,
  selfReferral: () => new AppError(422, 'SELF_REFERRAL', 'Self-referral', 'A member cannot be referred by themselves'),
  loop: () => new AppError(422, 'REFERRAL_LOOP', 'Referral loop', 'The referrer was referred, directly or through others, by this member'),
  alreadyReferred: () => new AppError(409, 'ALREADY_REFERRED', 'Already referred', 'This member already has a referrer'),
  tooLate: () => new AppError(409, 'REFERRAL_TOO_LATE', 'Too late to name a referrer', 'This member has already made a purchase; a referrer can only be named before the first one'),
  memberNotFound: () => new AppError(404, 'MEMBER_NOT_FOUND', 'Member not found', 'No member of this program has this id'),
  memberErased: () => new AppError(409, 'MEMBER_ERASED', 'Member erased', 'This member’s personal data was erased; the record can no longer change'),
}

/**
 * Names the referrer of a member who has not purchased yet. Refuses an unknown code (422
 * REFERRAL_CODE_NOT_FOUND), the member's own code (422 SELF_REFERRAL), a referrer referred by
 * this member directly or through a chain (422 REFERRAL_LOOP), a member already referred by
 * someone else (409 ALREADY_REFERRED; naming the same referrer again answers as the first time)
 * and a member with a purchase that is not voided (409 REFERRAL_TOO_LATE). Links are made one
 * at a time per program (an advisory lock), so two concurrent links cannot close a loop. Runs in the
 * caller's transaction: the idempotent one of POST /v1/members/{memberId}/referrer.
 */
export async function nameReferrer(tx: Executor, program: Pick<ProgramRow, 'id'>, memberId: string, code: string): Promise<{ memberId: string; referredBy: string }> {
  const runner = runnerOf(tx)
  await runner.run(`select pg_advisory_xact_lock(hashtextextended('referrals:' || $1, 0))`, [program.id])
  const [member] = await runner.run<{ referred_by: string | null; erased: boolean }>(
    'select referred_by, erased_at is not null as erased from members where program_id = $1::uuid and id = $2::uuid for update',
    [program.id, memberId],
  )
  if (!member) throw referralErrors.memberNotFound()
  if (member.erased) throw referralErrors.memberErased()
  const referrerId = await referrerIdForCode(runner, program.id, code)
  if (referrerId === memberId) throw referralErrors.selfReferral()
  if (member.referred_by === referrerId) return { memberId, referredBy: referrerId }
  if (member.referred_by !== null) throw referralErrors.alreadyReferred()
  const [purchased] = await runner.run(`select 1 from purchases where program_id = $1::uuid and member_id = $2::uuid and status <> 'voided' limit 1`, [program.id, memberId])
  if (purchased) throw referralErrors.tooLate()
  // Walks up from the referrer; links never form a loop, so the walk ends (the depth cap is a guard).
  const [loop] = await runner.run<{ found: boolean }>(
    `with recursive chain (id, depth) as (
       select referred_by, 1 from members where program_id = $1::uuid and id = $2::uuid and referred_by is not null
       union all
       select m.referred_by, c.depth + 1 from chain c join members m on m.program_id = $1::uuid and m.id = c.id
        where m.referred_by is not null and c.depth < 10000)
     select exists (select 1 from chain where id = $3::uuid) as found`,
    [program.id, referrerId, memberId],
  )
  if (loop?.found) throw referralErrors.loop()
  await runner.run('update members set referred_by = $3::uuid, updated_at = now() where program_id = $1::uuid and id = $2::uuid', [program.id, memberId, referrerId])
  return { memberId, referredBy: referrerId }
}
