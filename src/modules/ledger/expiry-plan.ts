import { sql } from 'drizzle-orm'
import { queryRows, type Database } from '../../db/client.js'
import type { JobContext } from '../jobs/definition.js'
import { PreviewList, type JobPreview } from '../jobs/preview.js'
import { accountId, memberPoints } from './accounts.js'

export interface MemberExpiry {
  /** Points to move to breakage now. */
  take: bigint
  /** true: a pending purchase holds some of the due points; they expire on the first run after the hold ends. */
  deferred: boolean
}

/** What expiring a member's due lots takes: all that is left of them, but never points a pending purchase holds. */
export function planMemberExpiry(available: bigint, due: bigint): MemberExpiry {
  const take = due < available ? due : available > 0n ? available : 0n
  return { take, deferred: take < due }
}

const BATCH = 500

/** The dry run of expire-points: the same plan per member from the same rows, read without locks; nothing is written. */
export async function previewExpirePoints({ database, program, asOf }: JobContext, noticeDays: number): Promise<JobPreview> {
  const counts = { members: 0, lots: 0, points: 0, deferredByHolds: 0, noticed: 0 }
  const list = new PreviewList()
  let after = '00000000-0000-0000-0000-000000000000'
  for (;;) {
    const due = await queryRows<{ member_id: string; due: string; lots: number | string }>(
      database.db,
      sql`select member_id, sum(remaining)::text as due, count(*) as lots from points_lots
           where program_id = ${program.id} and remaining > 0 and expires_at <= ${asOf.toISOString()} and member_id > ${after}
           group by member_id order by member_id limit ${BATCH}`,
    )
    if (due.length === 0) break
    after = due[due.length - 1]!.member_id
    const available = await availablePoints(database, program.id, due.map((d) => d.member_id))
    for (const row of due) {
      const plan = planMemberExpiry(available.get(row.member_id) ?? 0n, BigInt(row.due))
      if (plan.deferred) counts.deferredByHolds += 1
      if (plan.take <= 0n) continue
      counts.members += 1
      counts.lots += Number(row.lots)
      counts.points += Number(plan.take)
      list.add({ action: 'expire', memberId: row.member_id, points: Number(plan.take) })
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
