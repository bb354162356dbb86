import { sql, type SQL } from 'drizzle-orm'
import { queryRows, type Database, type Executor } from '../../db/client.js'
import { newId } from '../../shared/ids.js'
import { readRules } from '../programs/rules.js'
import { SUBSCRIBABLE_EVENT_TYPES } from './catalog.js'
import type { ClaimedDelivery } from './deliver.js'
import { marketingRefusal } from './emit.js'
import { capReleaseTime, insideWindow, nextSendingTime } from './marketing.js'
import type { DispatchReport } from './report.js'

// The first half of the dispatcher: due events of the outbox become deliveries, one per endpoint
// that wants them, once the marketing rules allow it. The second half (deliver.ts) attempts them.
// A delivery is written claimed for its first attempt (attempts 1, leased), which the dispatcher
// makes once the fan-out commits: no update claims it (a crash in between: retried after the lease).

export { emptyReport, type DispatchReport } from './report.js'

const DAY_MS = 24 * 3_600_000

interface ClaimedEvent {
  program_id: string
  id: string
  type: string
  category: string
  member_id: string | null
  endpoint_id: string | null
  expires_at: string | Date | null
  payload: unknown
  created_at: string | Date
}

/**
 * Pure: whether an endpoint subscribed to `types` gets events of `type`. An empty list is every
 * subscribable type (webhook.test goes only to the endpoint tested). ll_event_wanted (migration
 * 0019) is the same rule in SQL, asked when an event is written.
 */
export function subscribed(types: string[] | string, type: string): boolean {
  const list = Array.isArray(types) ? types : parsePgArray(types)
  return list.length === 0 ? (SUBSCRIBABLE_EVENT_TYPES as string[]).includes(type) : list.includes(type)
}

/** text[] arrives as an array from postgres.js and PGlite; a '{a,b}' literal is read too, just in case. */
const parsePgArray = (text: string) => (text === '{}' ? [] : text.replace(/^\{|\}$/g, '').split(',').map((s) => s.replace(/^"|"$/g, '')))

/**
 * Fans one batch of due events out into deliveries, applying the marketing rules. Returns how many
 * events were claimed, and the deliveries made, each claimed for its first attempt until `leaseMs`
 * after `now`: the caller attempts them once this commits.
 */
export async function fanOutBatch(database: Database, batch: number, leaseMs: number, now: Date, report: DispatchReport, only: SQL): Promise<{ claimed: number; fresh: ClaimedDelivery[] }> {
  return database.transaction(async (tx) => {
    const fresh: ClaimedDelivery[] = []
    const claimed = await queryRows<ClaimedEvent>(
      tx,
      sql`select program_id, id, type, category, member_id, endpoint_id, expires_at, payload, created_at from events
           where status = 'pending' and available_at <= ${now.toISOString()}::timestamptz ${only}
           order by available_at, id limit ${batch} for update skip locked`,
    )
    if (claimed.length === 0) return { claimed: 0, fresh }
    const programIds = [...new Set(claimed.map((e) => e.program_id))]
    const programs = await queryRows<{ id: string; timezone: string; rules: unknown }>(
      tx,
      sql`select id, timezone, rules from programs where id in (${sql.join(programIds.map((id) => sql`${id}::uuid`), sql`, `)})`,
    )
    const endpoints = await queryRows<{ program_id: string; id: string; event_types: string[] | string; url: string; secret: string; previous_secret: string | null; previous_secret_until: string | Date | null }>(
      tx,
      // A disabled endpoint gets no delivery of what happens meanwhile, not even once enabled again.
      sql`select program_id, id, event_types, url, secret, previous_secret, previous_secret_until from webhook_endpoints
           where program_id in (${sql.join(programIds.map((id) => sql`${id}::uuid`), sql`, `)}) and deleted_at is null and enabled`,
    )
    for (const event of claimed) {
      const program = programs.find((p) => p.id === event.program_id)!
      const decision = await marketingDecision(tx, event, program, now)
      if (decision.suppress) {
        await tx.execute(sql`update events set status = 'suppressed', suppressed_reason = ${decision.suppress}
                              where program_id = ${event.program_id}::uuid and id = ${event.id}::uuid`)
        report.suppressed += 1
        continue
      }
      if (decision.postponeTo) {
        await tx.execute(sql`update events set available_at = ${decision.postponeTo.toISOString()}::timestamptz
                              where program_id = ${event.program_id}::uuid and id = ${event.id}::uuid`)
        report.postponed += 1
        continue
      }
      const targets = endpoints.filter((w) => w.program_id === event.program_id && (event.endpoint_id ? w.id === event.endpoint_id : subscribed(w.event_types, event.type)))
      if (targets.length > 0) {
        const at = sql`${now.toISOString()}::timestamptz`
        const lease = sql`${new Date(now.getTime() + leaseMs).toISOString()}::timestamptz`
        const made = await queryRows<{ id: string; endpoint_id: string }>(
          tx,
          // Created at the pass's `now`, like its first attempt: what a bulk redelivery's window reads.
          sql`insert into webhook_deliveries (program_id, id, event_id, endpoint_id, status, next_attempt_at, attempts, last_attempt_at, leased_until, created_at)
          values ${sql.join(
            targets.map((w) => sql`(${event.program_id}::uuid, ${newId()}::uuid, ${event.id}::uuid, ${w.id}::uuid, 'pending', ${at}, 1, ${at}, ${lease}, ${at})`),
            sql`, `,
          )}
          on conflict (program_id, event_id, endpoint_id) do nothing
          returning id, endpoint_id`,
        )
        for (const m of made) {
          const w = targets.find((x) => x.id === m.endpoint_id)!
          fresh.push({ program_id: event.program_id, id: m.id, attempts: 1, event_id: event.id, type: event.type, payload: event.payload, member_id: event.member_id, created_at: event.created_at, url: w.url, secret: w.secret, previous_secret: w.previous_secret, previous_secret_until: w.previous_secret_until, deleted_at: null })
        }
      }
      await tx.execute(sql`update events set status = 'dispatched', dispatched_at = ${now.toISOString()}::timestamptz, deliveries = ${targets.length}
                            where program_id = ${event.program_id}::uuid and id = ${event.id}::uuid`)
      report.dispatched += 1
    }
    return { claimed: claimed.length, fresh }
  })
}

/**
 * Marketing (Decree 91/2020): consent and Do-Not-Call checked again now (a refusal stops at
 * once), the sending window on the program's clock, at most N per member in any 24 hours. The
 * member row is locked so two instances cannot both take the last slot.
 */
async function marketingDecision(tx: Executor, event: ClaimedEvent, program: { timezone: string; rules: unknown }, now: Date): Promise<{ suppress?: string; postponeTo?: Date }> {
  if (event.expires_at && new Date(event.expires_at) <= now) return { suppress: 'expired' }
  if (event.category !== 'marketing') return {}
  const settings = readRules(program.rules).notifications.marketing
  if (settings.maxPer24Hours === 0) return { suppress: 'marketing_disabled' }
  if (!event.member_id) return { suppress: 'no_member' }
  const refusal = await marketingRefusal(tx, event.program_id, event.member_id, true)
  if (refusal) return { suppress: refusal }
  if (!insideWindow(now, program.timezone, settings)) return { postponeTo: nextSendingTime(now, program.timezone, settings) }
  const sent = await queryRows<{ dispatched_at: string | Date }>(
    tx,
    sql`select dispatched_at from events
         where program_id = ${event.program_id}::uuid and member_id = ${event.member_id}::uuid and category = 'marketing' and deliveries > 0
           and dispatched_at > ${new Date(now.getTime() - DAY_MS).toISOString()}::timestamptz
         order by dispatched_at desc limit ${settings.maxPer24Hours}`,
  )
  const release = capReleaseTime(
    sent.map((s) => new Date(s.dispatched_at)),
    settings.maxPer24Hours,
    now,
  )
  if (release) return { postponeTo: nextSendingTime(release, program.timezone, settings) }
  return {}
}
