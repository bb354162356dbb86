import { sql } from 'drizzle-orm'
import { queryRows, type Database } from '../../db/client.js'
import { localDate } from '../../shared/period.js'
import type { JobDefinition } from '../jobs/definition.js'
import type { ProgramRow } from '../programs/tables.js'
import { accountId, memberPoints, pointsBreakage } from './accounts.js'
import { planMemberExpiry, previewExpirePoints } from './expiry-plan.js'
import { transfer } from './planner.js'
import { postEntry } from './service.js'
import { emitPointsExpiringSoon } from '../events/care.js'

const ZERO_UUID = '00000000-0000-0000-0000-000000000000'

/**
 * Expires every lot due by `asOf`: per member, one breakage entry (member points -> breakage) for
 * what is left of the due lots, in one transaction with marking them expired. Lots are consumed
 * soonest-expiring first, so the entry takes exactly the due lots. Points held by a pending
 * purchase are not expired under it: they stay, and expire on the first run after the hold ends.
 * Exactly once: a rerun finds nothing left in the due lots.
 */
export async function expirePoints(database: Database, program: ProgramRow, asOf: Date) {
  const counts = { members: 0, lots: 0, points: 0, deferredByHolds: 0 }
  let after = ZERO_UUID
  for (;;) {
    const members = await queryRows<{ member_id: string }>(
      database.db,
      sql`select distinct member_id from points_lots
           where program_id = ${program.id} and remaining > 0 and expires_at <= ${asOf.toISOString()} and member_id > ${after}
           order by member_id limit 200`,
    )
    if (members.length === 0) return counts
    after = members[members.length - 1]!.member_id
    for (const { member_id: memberId } of members) {
      await database.transaction(async (tx) => {
        const wallet = accountId(program.id, memberPoints(memberId))
        const [account] = await queryRows<{ available: string }>(
          tx,
          sql`select credits_posted - debits_posted - debits_pending as available from ledger_accounts
               where program_id = ${program.id} and id = ${wallet} for update`,
        )
        const due = await queryRows<{ id: string; remaining: string }>(
          tx,
          sql`select id, remaining from points_lots
               where program_id = ${program.id} and member_id = ${memberId} and remaining > 0 and expires_at <= ${asOf.toISOString()}
               order by expires_at, id for update`,
        )
        const { take, deferred } = planMemberExpiry(BigInt(account?.available ?? '0'), due.reduce((s, l) => s + BigInt(l.remaining), 0n))
        if (deferred) counts.deferredByHolds += 1
        if (take <= 0n) return
        const posted = await postEntry(
          tx,
          program.id,
          {
            kind: 'expiry',
            effectiveAt: asOf,
            memberId,
            reason: 'points expired',
            referenceType: 'points_expiry',
            referenceId: `${memberId}:${localDate(asOf, program.timezone)}`,
            legs: transfer(memberPoints(memberId), pointsBreakage(), take),
          },
          'job:expire-points',
        )
        await tx.execute(sql`
          update points_lots set expired_entry_id = ${posted.entryId}
           where program_id = ${program.id} and member_id = ${memberId} and remaining = 0 and expired_entry_id is null
             and expires_at <= ${asOf.toISOString()}`)
        counts.members += 1
        counts.lots += due.length
        counts.points += Number(take)
      })
    }
  }
}

/** How far ahead members are told their points will expire. */
export const EXPIRY_NOTICE_DAYS = 30

/**
 * Tells each member once about lots that expire within EXPIRY_NOTICE_DAYS of `asOf`: one
 * points.expiringSoon event per member and run (points and the earliest date), each lot noticed once.
 */
export async function noticeExpiringPoints(database: Database, program: ProgramRow, asOf: Date) {
  const until = new Date(asOf.getTime() + EXPIRY_NOTICE_DAYS * 86_400_000)
  const members = await queryRows<{ member_id: string }>(
    database.db,
    sql`select distinct member_id from points_lots
         where program_id = ${program.id} and remaining > 0 and expiry_notice_at is null
           and expires_at > ${asOf.toISOString()} and expires_at <= ${until.toISOString()}`,
  )
  let noticed = 0
  for (const { member_id: memberId } of members) {
    await database.transaction(async (tx) => {
      const [lots] = await queryRows<{ points: string | null; first: Date | string | null }>(
        tx,
        sql`with noticed as (
              update points_lots set expiry_notice_at = ${asOf.toISOString()}
               where program_id = ${program.id} and member_id = ${memberId} and remaining > 0 and expiry_notice_at is null
                 and expires_at > ${asOf.toISOString()} and expires_at <= ${until.toISOString()}
              returning remaining, expires_at)
            select sum(remaining)::text as points, min(expires_at) as first from noticed`,
      )
      if (!lots?.points || !lots.first) return
      await emitPointsExpiringSoon(tx, program, { memberId, points: BigInt(lots.points), expiresAt: new Date(lots.first) }, { now: asOf })
      noticed += 1
    })
  }
  return noticed
}

export const expirePointsJob: JobDefinition = {
  name: 'expire-points',
  description: `Posts breakage for points lots past their expiry date, once per lot; tells members about points expiring within ${EXPIRY_NOTICE_DAYS} days, once per lot`,
  daily: true,
  run: async ({ database, program, asOf }) => {
    const counts = await expirePoints(database, program, asOf)
    return { ...counts, noticed: await noticeExpiringPoints(database, program, asOf) }
  },
  preview: (ctx) => previewExpirePoints(ctx, EXPIRY_NOTICE_DAYS),
}
