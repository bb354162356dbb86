// Referrals: every member has a referral code (members.referral_code); a member enrolled with
// one, or naming one before any purchase, is referred by its owner; the referred member's first
// purchase rewards both, once.
import { and, eq, sql } from 'drizzle-orm'
import { queryRows, type Executor } from '../../db/client.js'
import { AppError } from '../../shared/errors.js'
import { referralCodeNotFound, referrerIdForCode } from '../members/referral-code.js'
import type { ProgramRow } from '../programs/tables.js'
import { members } from '../members/tables.js'

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
  await tx.execute(sql`select pg_advisory_xact_lock(hashtextextended('referrals:' || ${program.id}, 0))`)
  const [member] = await tx
    .select({ referred_by: members.referredBy, erased: sql<boolean>`${members.erasedAt} is not null` })
    .from(members)
    .where(and(eq(members.programId, program.id), eq(members.id, memberId)))
    .for('update')
  if (!member) throw referralErrors.memberNotFound()
  if (member.erased) throw referralErrors.memberErased()
  const referrerId = await referrerIdForCode(tx, program.id, code)
  if (referrerId === memberId) throw referralErrors.selfReferral()
  if (member.referred_by === referrerId) return { memberId, referredBy: referrerId }
  if (member.referred_by !== null) throw referralErrors.alreadyReferred()
  // The purchases table by name: referrals is below purchases (a first purchase rewards the referral).
  const [purchased] = await queryRows(tx, sql`select 1 from purchases where program_id = ${program.id}::uuid and member_id = ${memberId}::uuid and status <> 'voided' limit 1`)
  if (purchased) throw referralErrors.tooLate()
  // Walks up from the referrer; links never form a loop, so the walk ends (the depth cap is a guard).
  // A template: the builder cannot say a recursive CTE.
  const [loop] = await queryRows<{ found: boolean }>(
    tx,
    sql`with recursive chain (id, depth) as (
       select referred_by, 1 from members where program_id = ${program.id}::uuid and id = ${referrerId}::uuid and referred_by is not null
       union all
       select m.referred_by, c.depth + 1 from chain c join members m on m.program_id = ${program.id}::uuid and m.id = c.id
        where m.referred_by is not null and c.depth < 10000)
     select exists (select 1 from chain where id = ${memberId}::uuid) as found`,
  )
  if (loop?.found) throw referralErrors.loop()
  await tx
    .update(members)
    .set({ referredBy: referrerId, updatedAt: new Date() })
    .where(and(eq(members.programId, program.id), eq(members.id, memberId)))
  return { memberId, referredBy: referrerId }
}
