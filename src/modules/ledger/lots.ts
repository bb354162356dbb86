import { newId } from '../../shared/ids.js'
import { zonedParts, zonedToUtc } from '../../shared/zoned-time.js'
import { allInOrder, type SqlRunner } from '../../db/pipeline.js'
import type { ProgramRules } from '../programs/rules.js'
import { accountId, memberPoints } from './accounts.js'
import type { EntryPlan } from './planner.js'

/**
 * When points earned at `earnedAt` expire: `afterDays` after the local day they were earned,
 * rounded up to the end of that day, month, quarter or year, in the program's zone. The lot is
 * usable until the returned instant (the start of the following local day). Null: never.
 */
export function lotExpiry(policy: ProgramRules['pointsExpiry'], timeZone: string, earnedAt: Date): Date | null {
  if (!policy) return null
  const local = zonedParts(earnedAt, timeZone)
  const last = new Date(Date.UTC(local.year, local.month - 1, local.day + policy.afterDays))
  let y = last.getUTCFullYear()
  let m = last.getUTCMonth() + 1
  let d = last.getUTCDate()
  if (policy.roundUpTo !== 'day') {
    if (policy.roundUpTo === 'quarter') m = Math.ceil(m / 3) * 3
    if (policy.roundUpTo === 'year') m = 12
    d = new Date(Date.UTC(y, m, 0)).getUTCDate() // last day of month m
  }
  const next = new Date(Date.UTC(y, m - 1, d + 1))
  ;[y, m, d] = [next.getUTCFullYear(), next.getUTCMonth() + 1, next.getUTCDate()]
  return zonedToUtc({ year: y, month: m, day: d, hour: 0, minute: 0 }, timeZone)
}

/** Expiry of points a return or reversal gives back after their lot expired: the program's grace period from now. */
export function restoredPointsExpiry(rules: ProgramRules, now: Date): Date | null {
  return rules.pointsExpiry ? new Date(now.getTime() + rules.pointsExpiry.restoredGraceDays * 86_400_000) : null
}

/** What an entry does to lots, per member: gross debits and credits of the points wallet (legs, not netted postings). */
function pointsFlows(plan: EntryPlan): Map<string, { debit: bigint; credit: bigint }> {
  const flows = new Map<string, { debit: bigint; credit: bigint }>()
  for (const leg of plan.legs) {
    if (leg.account.type !== 'member_points' || !leg.account.memberId) continue
    const f = flows.get(leg.account.memberId) ?? { debit: 0n, credit: 0n }
    if (leg.amount < 0n) f.debit -= leg.amount
    else f.credit += leg.amount
    flows.set(leg.account.memberId, f)
  }
  return flows
}

/**
 * Sends the lot statements of an entry right behind its ledger statement (same transaction, so
 * they see the wallet as the entry left it, and the wallet's row lock serialises them per member).
 * Debits consume lots first (the entry's preferred lots, then soonest-expiring); credits then
 * open a lot, or refill the lots an earlier entry consumed (a return). Returns when all answered.
 */
export function applyLots(runner: SqlRunner, programId: string, entryId: string, plan: EntryPlan): Promise<unknown> | undefined {
  const flows = pointsFlows(plan)
  if (flows.size === 0) return undefined
  const sent: Promise<unknown>[] = []
  for (const [memberId, flow] of flows) {
    if (flow.debit > 0n) sent.push(consume(runner, programId, entryId, memberId, flow.debit, plan.consumeLotsOf ?? null))
    if (flow.credit > 0n) {
      if (plan.restoreLotsOf) sent.push(restore(runner, programId, entryId, memberId, flow.credit, plan.restoreLotsOf, plan))
      else sent.push(open(runner, programId, entryId, memberId, flow.credit, plan.effectiveAt, plan.pointsExpireAt ?? null))
    }
  }
  return allInOrder(sent)
}

/** Takes up to `points` from the member's lots: lots of `preferEntry` first, then soonest-expiring, oldest first. */
function consume(runner: SqlRunner, programId: string, entryId: string, memberId: string, points: bigint, preferEntry: string | null) {
  return runner.run(
    `with lots as (
       select id, remaining, expires_at, source_entry_id is not distinct from $5::uuid as preferred
         from points_lots where program_id = $1::uuid and member_id = $2::uuid and remaining > 0
          for update),
     ranked as (
       select id, remaining,
              coalesce(sum(remaining) over (order by preferred desc, expires_at asc nulls last, id rows between unbounded preceding and 1 preceding), 0) as before
         from lots),
     taken as (
       update points_lots l set remaining = l.remaining - least(r.remaining, $3::bigint - r.before)
         from ranked r
        where l.program_id = $1::uuid and l.id = r.id and r.before < $3::bigint
       returning l.id, least(r.remaining, $3::bigint - r.before) as points)
     insert into lot_movements (program_id, entry_id, lot_id, kind, points)
     select $1::uuid, $4::uuid, id, 'take', -points from taken`,
    [programId, memberId, points.toString(), entryId, preferEntry],
  )
}

/** Opens a lot for credited points, no larger than what the wallet holds beyond its other lots (a credit first pays off a negative balance). */
function open(runner: SqlRunner, programId: string, entryId: string, memberId: string, points: bigint, earnedAt: Date, expiresAt: Date | null) {
  return runner.run(
    `with room as (
       select least($5::bigint, a.credits_posted - a.debits_posted
                    - coalesce((select sum(remaining) from points_lots where program_id = $1::uuid and member_id = $3::uuid), 0)) as points
         from ledger_accounts a where a.program_id = $1::uuid and a.id = $8::uuid),
     lot as (
       insert into points_lots (program_id, id, member_id, earned_at, expires_at, points, remaining, source_entry_id)
       select $1::uuid, $2::uuid, $3::uuid, $6::timestamptz, $7::timestamptz, $5::bigint, points, $4::uuid from room where points > 0
       returning id, remaining)
     insert into lot_movements (program_id, entry_id, lot_id, kind, points) select $1::uuid, $4::uuid, id, 'give', remaining from lot`,
    [programId, newId(), memberId, entryId, points.toString(), earnedAt.toISOString(), expiresAt?.toISOString() ?? null, accountId(programId, memberPoints(memberId))],
  )
}

/**
 * Gives points back to the lots `original` consumed (latest-expiring first), never more than it
 * took from each. Points whose lot has expired meanwhile go to a new lot that lives
 * `plan.pointsExpireAt` (the program's grace period): the member is not punished for a late return.
 */
async function restore(runner: SqlRunner, programId: string, entryId: string, memberId: string, points: bigint, original: string, plan: EntryPlan) {
  const [room] = await runner.run<{ room: string }>(
    `select a.credits_posted - a.debits_posted - coalesce((select sum(remaining) from points_lots where program_id = $1::uuid and member_id = $2::uuid), 0) as room
       from ledger_accounts a where a.program_id = $1::uuid and a.id = $3::uuid`,
    [programId, memberId, accountId(programId, memberPoints(memberId))],
  )
  let left = points < BigInt(room?.room ?? '0') ? points : BigInt(room?.room ?? '0')
  if (left <= 0n) return
  const consumed = await runner.run<{ lot_id: string; taken: string; expired: boolean }>(
    `select m.lot_id, -m.points - coalesce((select sum(r.points) from lot_movements r
                                             where r.program_id = m.program_id and r.restores_entry_id = m.entry_id and r.lot_id = m.lot_id), 0) as taken,
            l.expired_entry_id is not null or l.expires_at <= $4::timestamptz as expired
       from lot_movements m join points_lots l on l.program_id = m.program_id and l.id = m.lot_id
      where m.program_id = $1::uuid and m.entry_id = $2::uuid and m.kind = 'take' and l.member_id = $3::uuid
      order by l.expires_at desc nulls first, l.id desc`,
    [programId, original, memberId, plan.effectiveAt.toISOString()],
  )
  let late = 0n
  for (const c of consumed) {
    if (left <= 0n) break
    const give = BigInt(c.taken) < left ? BigInt(c.taken) : left
    if (give <= 0n) continue
    left -= give
    if (c.expired) {
      late += give
      continue
    }
    await runner.run(
      `with refill as (update points_lots set remaining = remaining + $4::bigint where program_id = $1::uuid and id = $3::uuid returning id)
       insert into lot_movements (program_id, entry_id, lot_id, kind, points, restores_entry_id) select $1::uuid, $2::uuid, id, 'give', $4::bigint, $5::uuid from refill`,
      [programId, entryId, c.lot_id, give.toString(), original],
    )
  }
  // Whatever the original entry did not take from lots (or took from lots now expired) opens a new lot.
  const fresh = late + left
  if (fresh > 0n) {
    await runner.run(
      `with lot as (
         insert into points_lots (program_id, id, member_id, earned_at, expires_at, points, remaining, source_entry_id)
         values ($1::uuid, $2::uuid, $3::uuid, $5::timestamptz, $6::timestamptz, $7::bigint, $7::bigint, $4::uuid) returning id, remaining)
       insert into lot_movements (program_id, entry_id, lot_id, kind, points, restores_entry_id) select $1::uuid, $4::uuid, id, 'give', remaining, $8::uuid from lot`,
      [programId, newId(), memberId, entryId, plan.effectiveAt.toISOString(), plan.pointsExpireAt?.toISOString() ?? null, fresh.toString(), original],
    )
  }
}
