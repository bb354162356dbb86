import { sql } from 'drizzle-orm'
import { queryRows, type Database } from '../../db/client.js'
import type { JobContext } from '../job-contract/definition.js'
import { PreviewList, type JobPreview } from '../job-contract/preview.js'
import { accountId, memberPoints } from './accounts.js'
import { dueShares, type LotState, type LotShare } from './lot-plans.js'

export interface MemberExpiry {
  /** What moves to breakage now, lot by lot. */
  shares: LotShare[]
  points: bigint
  /** true: a pending purchase holds some of the due points; they expire when the hold ends, if still due. */
  deferred: boolean
}

/**
 * What expiring a member's due lots takes at `asOf`: the free part of every lot due by then,
 * soonest first, never more than the wallet has available and never points a pending hold reserves.
 */
export function planMemberExpiry(lots: LotState[], available: bigint, asOf: Date): MemberExpiry {
  const shares = dueShares(lots, asOf, { limit: available > 0n ? available : 0n })
  return { shares, points: shares.reduce((s, x) => s + x.points, 0n), deferred: lots.some((l) => l.held > 0n) }
}

const BATCH = 500

/** The dry run of expire-points: the same plan per member from the same rows, read without locks; nothing is written. */
export async function previewExpirePoints({ database, program, asOf }: JobContext, noticeDays: number): Promise<JobPreview> {
  const counts = { members: 0, lots: 0, points: 0, deferredByHolds: 0, noticed: 0 }
  const list = new PreviewList()
  let after = '00000000-0000-0000-0000-000000000000'
  for (;;) {
    const due = await queryRows<{ id: string; member_id: string; expires_at: Date | string; remaining: string; held: string }>(
      database.db,
      sql`select id, member_id, expires_at, remaining, held from points_lots
           where program_id = ${program.id} and remaining > 0 and expires_at <= ${asOf.toISOString()}
             and member_id in (select distinct member_id from points_lots
                                where program_id = ${program.id} and remaining > 0 and expires_at <= ${asOf.toISOString()} and member_id > ${after}
                                order by member_id limit ${BATCH})
           order by member_id`,
    )
    if (due.length === 0) break
    after = due[due.length - 1]!.member_id
    const lotsOf = new Map<string, LotState[]>()
    for (const l of due) {
      const lots = lotsOf.get(l.member_id) ?? lotsOf.set(l.member_id, []).get(l.member_id)!
      lots.push({ id: l.id, expiresAt: new Date(l.expires_at), remaining: BigInt(l.remaining), held: BigInt(l.held) })
    }
    const available = await availablePoints(database, program.id, [...lotsOf.keys()])
    for (const [memberId, lots] of lotsOf) {
      const plan = planMemberExpiry(lots, available.get(memberId) ?? 0n, asOf)
      if (plan.deferred) counts.deferredByHolds += 1
      if (plan.points <= 0n) continue
      counts.members += 1
      counts.lots += plan.shares.length
      counts.points += Number(plan.points)
      list.add({ action: 'expire', memberId, points: Number(plan.points) })
    }
  }
  const until = new Date(asOf.getTime() + noticeDays * 86_400_000)
  const [noticed] = await queryRows<{ members: number | string }>(
    database.db,
    sql`select count(distinct member_id) as members from points_lots
         where program_id = ${program.id} and remaining > 0 and expiry_notice_at is null
           and expires_at > ${asOf.toISOString()} and expires_at <= ${until.toISOString()}`,
  )
  counts.noticed = Number(noticed?.members ?? 0)
  return list.preview(counts)
}

/** Available points (posted minus held) of each member's wallet. */
async function availablePoints(database: Database, programId: string, memberIds: string[]): Promise<Map<string, bigint>> {
  const byAccount = new Map(memberIds.map((m) => [accountId(programId, memberPoints(m)), m]))
  const rows = await queryRows<{ id: string; available: string }>(
    database.db,
    sql`select id, (credits_posted - debits_posted - debits_pending)::text as available from ledger_accounts
         where program_id = ${programId} and id in (${sql.join([...byAccount.keys()].map((id) => sql`${id}::uuid`), sql`, `)})`,
  )
  return new Map(rows.map((r) => [byAccount.get(r.id)!, BigInt(r.available)]))
}
