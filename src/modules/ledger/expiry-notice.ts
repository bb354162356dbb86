// Telling members their points expire soon, as plans (src/db/apply.ts): per member, the lots
// expiring within EXPIRY_NOTICE_DAYS marked noticed, each by a row update guarded by what the load
// saw (not yet noticed, still holding those points), and one points.expiringSoon event with their
// points and the earliest date. A concurrent run, or a sale that took from a lot since the load,
// makes the plan stale and that member is loaded again: each lot noticed once, one event a run.
import { and, asc, eq, gt, inArray, isNull, lte } from 'drizzle-orm'
import { appliedFresh, type PlanData } from '../../db/apply.js'
import type { Database } from '../../db/client.js'
import { forEachInFlight } from '../../shared/in-flight.js'
import { pointsExpiringSoonInput } from '../events/care.js'
import { eventRowOf, planEvent, type EventProgram } from '../events/emit.js'
import { nudgeDispatchers } from '../events/signal.js'
import type { ProgramRow } from '../programs/tables.js'
import { currencyExponent } from '../../shared/money.js'
import { memberWallets } from './accounts.js'
import { pointsLots } from './tables.js'

/** How far ahead members are told their points will expire. */
export const EXPIRY_NOTICE_DAYS = 30

const PAGE = 500
const MEMBERS_IN_FLIGHT = 32

/** A lot to tell about, as the load saw it. */
export interface NoticeLot {
  id: string
  remaining: bigint
  expiresAt: Date
}

/**
 * Pure: the notice plan of one member's lots expiring soon (undefined for none): each lot marked
 * noticed at `asOf` only while not noticed and holding `remaining` (else stale), and the event.
 */
export function noticePlan(program: EventProgram & { currency: string }, memberId: string, lots: NoticeLot[], asOf: Date): PlanData | undefined {
  if (lots.length === 0) return undefined
  const points = lots.reduce((s, l) => s + l.remaining, 0n)
  const first = lots.reduce((a, l) => (l.expiresAt < a ? l.expiresAt : a), lots[0]!.expiresAt)
  const event = planEvent(program, pointsExpiringSoonInput({ memberId, points, expiresAt: first }), asOf)
  return {
    program: program.id,
    // Named so the executor's groups order this plan by its member (their one lock order); the
    // wallets are locked before the lots, as a sale locks them, so the two never wait in a cycle.
    member: { id: memberId, refuseErased: false },
    wallets: memberWallets(program, memberId, currencyExponent(program.currency) ?? 0),
    rows: lots.map((l) => ({
      op: 'update' as const,
      table: 'points_lots',
      key: { id: l.id },
      set: { expiry_notice_at: asOf.toISOString() },
      expect: { expiry_notice_at: null, remaining: l.remaining.toString() },
    })),
    events: [{ row: { program_id: program.id, ...eventRowOf(event) } }],
  }
}

const noticeable = (programId: string, asOf: Date, until: Date) =>
  and(eq(pointsLots.programId, programId), gt(pointsLots.remaining, 0n), isNull(pointsLots.expiryNoticeAt), gt(pointsLots.expiresAt, asOf), lte(pointsLots.expiresAt, until))

/** The lots to tell each member about, read without locks (the plan guards them). */
async function loadNoticeLots(database: Database, programId: string, asOf: Date, until: Date, memberIds: string[]): Promise<Map<string, NoticeLot[]>> {
  const out = new Map<string, NoticeLot[]>(memberIds.map((m) => [m, []]))
  const rows = await database.db
    .select({ id: pointsLots.id, memberId: pointsLots.memberId, remaining: pointsLots.remaining, expiresAt: pointsLots.expiresAt })
    .from(pointsLots)
    .where(and(noticeable(programId, asOf, until), inArray(pointsLots.memberId, memberIds)))
  for (const r of rows) out.get(r.memberId)!.push({ id: r.id, remaining: BigInt(r.remaining), expiresAt: new Date(r.expiresAt!) })
  return out
}

/**
 * Tells each member once about lots that expire within EXPIRY_NOTICE_DAYS of `asOf`: one
 * points.expiringSoon event per member and run (points and the earliest date), each lot noticed
 * once. A page of members is loaded together, their plans applied many at once (bounded).
 */
export async function noticeExpiringPoints(database: Database, program: ProgramRow, asOf: Date): Promise<number> {
  const until = new Date(asOf.getTime() + EXPIRY_NOTICE_DAYS * 86_400_000)
  let noticed = 0
  let after = '00000000-0000-0000-0000-000000000000'
  for (;;) {
    const members = (
      await database.db
        .selectDistinct({ memberId: pointsLots.memberId })
        .from(pointsLots)
        .where(and(noticeable(program.id, asOf, until), gt(pointsLots.memberId, after)))
        .orderBy(asc(pointsLots.memberId))
        .limit(PAGE)
    ).map((r) => r.memberId)
    if (members.length === 0) return noticed
    after = members[members.length - 1]!
    const loaded = await loadNoticeLots(database, program.id, asOf, until, members)
    await forEachInFlight(members, MEMBERS_IN_FLIGHT, async (memberId) => {
      let first = loaded.get(memberId)
      const told = await appliedFresh(async () => {
        const lots = first ?? (await loadNoticeLots(database, program.id, asOf, until, [memberId])).get(memberId)!
        first = undefined
        const plan = noticePlan(program, memberId, lots, asOf)
        if (!plan) return false
        const applied = await database.apply(plan)
        if (applied.events.length > 0) nudgeDispatchers()
        return true
      }, 10)
      if (told) noticed += 1
    })
  }
}
