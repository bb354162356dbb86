import { newId } from '../../shared/ids.js'
import { zonedParts, zonedToUtc } from '../../shared/zoned-time.js'
import { allInOrder, type SqlRunner } from '../../db/pipeline.js'
import type { ProgramRules } from '../programs/rules.js'
import { accountId, memberPoints } from './accounts.js'
import type { EntryPlan } from './planner.js'
import { openStep, pointsFlows } from './lot-steps.js'
import { reserveLots, takeIntoHolds, type LotShare, type LotState, type ReleasedLot, type Reservation } from './lot-plans.js'

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

/**
 * Sends the lot statements of an entry right behind its ledger statement (same transaction, so
 * they see the wallet as the entry left it, and the wallet's row lock serialises them per member).
 * Debits consume lots first (the shares the plan names, then the entry's preferred lots, then
 * soonest-expiring), free points only unless the entry may overdraw; credits then open a lot, or
 * refill the lots an earlier entry consumed (a return). Returns when all answered.
 */
export function applyLots(runner: SqlRunner, programId: string, entryId: string, plan: EntryPlan): Promise<unknown> | undefined {
  const flows = pointsFlows(plan)
  if (flows.size === 0) return undefined
  const sent: Promise<unknown>[] = []
  for (const [memberId, flow] of flows) {
    if (flow.debit > 0n) sent.push(...debit(runner, programId, entryId, memberId, flow.debit, plan))
    if (flow.credit > 0n) {
      if (plan.restoreLotsOf) sent.push(restore(runner, programId, entryId, memberId, flow.credit, plan.restoreLotsOf, plan))
      else sent.push(open(runner, programId, entryId, memberId, flow.credit, plan.effectiveAt, plan.pointsExpireAt ?? null))
    }
  }
  return allInOrder(sent)
}

function debit(runner: SqlRunner, programId: string, entryId: string, memberId: string, points: bigint, plan: EntryPlan): Promise<unknown>[] {
  if (plan.allowOverdraft) return [takeOverdraft(runner, programId, entryId, memberId, points, plan.consumeLotsOf ?? null)]
  const named = plan.takeLots ?? []
  const namedPoints = named.reduce((s, x) => s + x.points, 0n)
  if (namedPoints > points) throw new RangeError(`an entry debiting ${points} points cannot take ${namedPoints} from lots`)
  return [
    ...(named.length > 0 ? [takeShares(runner, programId, entryId, named.map((x) => ({ ...x, held: 0n })))] : []),
    ...(points > namedPoints ? [consume(runner, programId, entryId, memberId, points - namedPoints, plan.consumeLotsOf ?? null)] : []),
  ]
}

const RECORD_TAKE = `insert into lot_movements (program_id, entry_id, lot_id, kind, points)
     select $1::uuid, $2::uuid, id, 'take', -points from taken
     on conflict (program_id, entry_id, lot_id, kind) do update set points = lot_movements.points + excluded.points`

/** Takes exactly the given shares (of which `held` from the lots' reserved parts). */
function takeShares(runner: SqlRunner, programId: string, entryId: string, shares: (LotShare & { held: bigint })[]) {
  return runner.run(
    `with s as (select * from jsonb_to_recordset($3::jsonb) as s(lot_id uuid, points bigint, held bigint)),
     taken as (
       update points_lots l set remaining = l.remaining - s.points, held = l.held - s.held
         from s where l.program_id = $1::uuid and l.id = s.lot_id
       returning l.id, s.points)
     ${RECORD_TAKE}`,
    [programId, entryId, JSON.stringify(shares.map((x) => ({ lot_id: x.lotId, points: x.points.toString(), held: x.held.toString() })))],
  )
}

/** Takes up to `points` of free points from the member's lots: lots of `preferEntry` first, then soonest-expiring, oldest first (ll_lot_consume, migration 0018). */
function consume(runner: SqlRunner, programId: string, entryId: string, memberId: string, points: bigint, preferEntry: string | null) {
  return runner.run('select ll_lot_consume($1::uuid, $2::uuid, $3::uuid, $4::bigint, $5::uuid)', [programId, entryId, memberId, points.toString(), preferEntry])
}

/** A debit allowed into an overdraft: free points first, then points pending holds reserved (their reservations shrink). */
async function takeOverdraft(runner: SqlRunner, programId: string, entryId: string, memberId: string, points: bigint, preferEntry: string | null) {
  const [lots, reservations] = await allInOrder([
    runner.run<{ id: string; expires_at: Date | string | null; remaining: string; held: string; preferred: boolean }>(
      `select id, expires_at, remaining, held, source_entry_id is not distinct from $3::uuid as preferred
         from points_lots where program_id = $1::uuid and member_id = $2::uuid and remaining > 0 for update`,
      [programId, memberId, preferEntry],
    ),
    pendingReservations(runner, programId, memberId),
  ] as const)
  const { takes, cuts } = takeIntoHolds(lots.map((l) => ({ ...lotStateOf(l), preferred: l.preferred === true || String(l.preferred) === 'true' })), reservations, points)
  if (takes.length === 0) return
  await allInOrder([takeShares(runner, programId, entryId, takes), cuts.length > 0 ? cutReservations(runner, programId, cuts) : undefined])
}

function pendingReservations(runner: SqlRunner, programId: string, memberId: string): Promise<Reservation[]> {
  return runner
    .run<{ hold_id: string; lot_id: string; points: string }>(
      `select r.hold_id, r.lot_id, r.points - r.cut as points from lot_holds r
         join holds h on h.program_id = r.program_id and h.id = r.hold_id and h.status = 'pending'
         join points_lots l on l.program_id = r.program_id and l.id = r.lot_id and l.member_id = $2::uuid
        where r.program_id = $1::uuid and r.points > r.cut`,
      [programId, memberId],
    )
    .then((rows) => rows.map((r) => ({ holdId: r.hold_id, lotId: r.lot_id, points: BigInt(r.points) })))
}

function cutReservations(runner: SqlRunner, programId: string, cuts: Reservation[]) {
  return runner.run(
    `update lot_holds r set cut = r.cut + c.points
       from jsonb_to_recordset($2::jsonb) as c(hold_id uuid, lot_id uuid, points bigint)
      where r.program_id = $1::uuid and r.hold_id = c.hold_id and r.lot_id = c.lot_id`,
    [programId, JSON.stringify(cuts.map((c) => ({ hold_id: c.holdId, lot_id: c.lotId, points: c.points.toString() })))],
  )
}

function lotStateOf(row: { id: string; expires_at: Date | string | null; remaining: string; held: string }): LotState {
  return { id: row.id, expiresAt: row.expires_at === null ? null : new Date(row.expires_at), remaining: BigInt(row.remaining), held: BigInt(row.held) }
}

/** The member's lots with free points (sent at once: the caller pipelines it behind the wallet's lock). */
export function freeLots(runner: SqlRunner, programId: string, memberId: string): Promise<LotState[]> {
  return runner
    .run<{ id: string; expires_at: Date | string | null; remaining: string; held: string }>(
      'select id, expires_at, remaining, held from points_lots where program_id = $1::uuid and member_id = $2::uuid and remaining > held',
      [programId, memberId],
    )
    .then((rows) => rows.map(lotStateOf))
}

/** Reserves a points hold's share of the lots (reserveLots decides) and records it. */
export async function reserveHoldLots(runner: SqlRunner, programId: string, holdId: string, lots: LotState[], points: bigint): Promise<void> {
  const shares = reserveLots(lots, points)
  if (shares.length === 0) return
  await runner.run(
    `with s as (select * from jsonb_to_recordset($3::jsonb) as s(lot_id uuid, points bigint)),
     reserved as (update points_lots l set held = l.held + s.points from s where l.program_id = $1::uuid and l.id = s.lot_id returning l.id)
     insert into lot_holds (program_id, hold_id, lot_id, points) select $1::uuid, $2::uuid, lot_id, points from s`,
    [programId, holdId, JSON.stringify(shares.map((x) => ({ lot_id: x.lotId, points: x.points.toString() })))],
  )
}

/** Gives a resolved hold's reservation back to its lots; the lots as that leaves them (none for a hold on another asset). */
export async function releaseHoldLots(runner: SqlRunner, programId: string, holdId: string): Promise<ReleasedLot[]> {
  const rows = await runner.run<{ id: string; member_id: string; expires_at: Date | string | null; remaining: string; held: string; reserved: string }>(
    `with r as (select lot_id, points - cut as points from lot_holds where program_id = $1::uuid and hold_id = $2::uuid and points > cut)
     update points_lots l set held = l.held - r.points from r where l.program_id = $1::uuid and l.id = r.lot_id
     returning l.id, l.member_id, l.expires_at, l.remaining, l.held, r.points as reserved`,
    [programId, holdId],
  )
  return rows.map((r) => ({ ...lotStateOf(r), memberId: r.member_id, reserved: BigInt(r.reserved) }))
}

/** Opens a lot for credited points, no larger than what the wallet holds beyond its other lots (ll_lot_open, migration 0018). */
function open(runner: SqlRunner, programId: string, entryId: string, memberId: string, points: bigint, earnedAt: Date, expiresAt: Date | null) {
  const step = openStep(programId, entryId, memberId, points, earnedAt, expiresAt)
  return runner.run('select ll_lot_open($1::uuid, $2::uuid, $3::uuid, $4::uuid, $5::bigint, $6::timestamptz, $7::timestamptz, $8::uuid)', [
    programId, step.lotId, step.memberId, step.entryId, step.points, step.earnedAt, step.expiresAt, step.accountId,
  ])
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
