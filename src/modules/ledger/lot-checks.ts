import { sql } from 'drizzle-orm'
import { queryRows, type Executor } from '../../db/client.js'

export interface Discrepancy {
  check: string
  detail: string
}

/**
 * What the points lots promise, recomputed: they hold exactly the positive balance of every
 * points wallet, each lot equals the sum of its movements, each lot's held part is what pending
 * holds reserve of it (never more than it has), and each pending points hold reserved lots for
 * its whole amount when placed. Expiring or spending held points breaks the third; a hold placed
 * without reserving, the fourth.
 */
export async function verifyLots(ex: Executor, programId: string): Promise<Discrepancy[]> {
  const found: Discrepancy[] = []
  const add = (check: string, rows: Record<string, unknown>[], describe: (r: Record<string, unknown>) => string) => {
    for (const r of rows) found.push({ check, detail: describe(r) })
  }
  add(
    'points_lots',
    await queryRows(
      ex,
      sql`select a.code, (a.credits_posted - a.debits_posted)::text as balance, coalesce(l.remaining, 0)::text as lots
            from ledger_accounts a
            left join (select member_id, sum(remaining) as remaining from points_lots where program_id = ${programId} group by member_id) l
              on l.member_id = a.member_id
           where a.program_id = ${programId} and a.type = 'member_points'
             and greatest(a.credits_posted - a.debits_posted, 0) <> coalesce(l.remaining, 0)
           limit 100`,
    ),
    (r) => `${r.code}: balance ${r.balance}, lots hold ${r.lots}`,
  )
  add(
    'lot_movements',
    await queryRows(
      ex,
      sql`select l.id, l.remaining::text as remaining, coalesce(sum(m.points), 0)::text as moved
            from points_lots l left join lot_movements m on m.program_id = l.program_id and m.lot_id = l.id
           where l.program_id = ${programId}
           group by l.program_id, l.id
          having l.remaining <> coalesce(sum(m.points), 0) or l.remaining < 0
           limit 100`,
    ),
    (r) => `lot ${r.id}: remaining ${r.remaining}, movements sum to ${r.moved}`,
  )
  add(
    'lots_held',
    await queryRows(
      ex,
      sql`select l.id, l.remaining::text as remaining, l.held::text as held, coalesce(r.points, 0)::text as reserved
            from points_lots l
            left join (select r.lot_id, sum(r.points - r.cut) as points from lot_holds r
                         join holds h on h.program_id = r.program_id and h.id = r.hold_id and h.status = 'pending'
                        where r.program_id = ${programId} group by r.lot_id) r on r.lot_id = l.id
           where l.program_id = ${programId} and (l.held <> coalesce(r.points, 0) or l.held < 0 or l.held > l.remaining)
           limit 100`,
    ),
    (r) => `lot ${r.id}: ${r.held} of ${r.remaining} points held, pending holds reserve ${r.reserved}`,
  )
  add(
    'holds_backed_by_lots',
    await queryRows(
      ex,
      sql`select h.id, h.amount::text as amount, coalesce(sum(r.points), 0)::text as reserved
            from holds h
            join ledger_accounts a on a.program_id = h.program_id and a.id = h.account_id and a.type = 'member_points'
            left join lot_holds r on r.program_id = h.program_id and r.hold_id = h.id
           where h.program_id = ${programId} and h.status = 'pending'
           group by h.program_id, h.id
          having coalesce(sum(r.points), 0) <> h.amount
           limit 100`,
    ),
    (r) => `hold ${r.id} of ${r.amount} points reserved ${r.reserved} of lots`,
  )
  return found
}
