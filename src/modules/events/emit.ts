import { sql, type SQL } from 'drizzle-orm'
import { onCommit, runStatement, type WriteTarget } from '../../db/statements.js'
import { newId } from '../../shared/ids.js'
import { readRules } from '../programs/rules.js'
import { categoryOf, type EventCategory, type EventType } from './catalog.js'
import { nextSendingTime } from './marketing.js'
import type { EventPayload } from './payloads.js'
import { nudgeDispatchers } from './signal.js'

/** The program fields events need (a programs row fits). */
export interface EventProgram {
  id: string
  timezone: string
  rules: unknown
}

/** An event of type T; its payload is typed by payloads.ts (what the OpenAPI webhooks document). */
export interface EventInput<T extends EventType = EventType> {
  type: T
  memberId?: string | null
  /** The event's data as receivers get it; a `receiptId` is expanded into the receipt and its SMS text. */
  payload: EventPayload<T>
  /** A marketing event still queued then is dropped. */
  expiresAt?: Date | null
  /** Deliver only to this endpoint (test events). */
  endpointId?: string | null
}

export interface PlannedEvent {
  id: string
  type: EventType
  category: EventCategory
  memberId: string | null
  payload: Record<string, unknown>
  availableAt: Date
  expiresAt: Date | null
  endpointId: string | null
}

/**
 * Pure: the outbox row of an event. Transactional events are due at once; marketing events
 * outside the program's sending window wait until it opens.
 */
export function planEvent<T extends EventType>(program: EventProgram, input: EventInput<T>, now: Date): PlannedEvent {
  const category = categoryOf(input.type)
  return {
    id: newId(),
    type: input.type,
    category,
    memberId: input.memberId ?? null,
    payload: input.payload,
    availableAt: category === 'marketing' ? nextSendingTime(now, program.timezone, readRules(program.rules).notifications.marketing) : now,
    expiresAt: input.expiresAt ?? null,
    endpointId: input.endpointId ?? null,
  }
}

/** An outbox row as the inserts take it (snake_case columns, timestamps as ISO strings). */
export const eventRowOf = (e: PlannedEvent) => ({
  id: e.id,
  type: e.type,
  category: e.category,
  member_id: e.memberId,
  payload: e.payload,
  available_at: e.availableAt.toISOString(),
  expires_at: e.expiresAt?.toISOString() ?? null,
  endpoint_id: e.endpointId,
})

/** The rows as a jsonb array for one `insert ... select from jsonb_to_recordset` (any number of events, one statement). */
export const eventsJson = (events: PlannedEvent[]) => JSON.stringify(events.map(eventRowOf))

/**
 * Whether the outbox keeps an event, in SQL (`e` is the event's row): a transactional event only
 * when an endpoint of the program may receive it (ll_event_wanted, migration 0019), since nothing
 * else reads the outbox; one meant for an endpoint (a test event) always. A marketing event always:
 * its record, queued or suppressed, is what the birthday job and its dry run count and what shows
 * a member without consent was not messaged; there is about one a member a year.
 */
export const eventKeptSql = (programId: string): SQL =>
  sql`(e.category = 'marketing' or e.endpoint_id is not null or ll_event_wanted(${programId}::uuid, e.type))`

/**
 * `insert into events` of planned rows, all pending, those the outbox keeps (eventKeptSql), returning
 * their ids. `extraFrom` may join a CTE so the rows depend on it (it must not add a WHERE).
 */
export function insertEventsSql(programId: string, eventsParam: SQL, extraFrom: SQL = sql``): SQL {
  return sql`insert into events (program_id, id, type, category, member_id, payload, status, available_at, expires_at, endpoint_id)
    select ${programId}::uuid, e.id, e.type, e.category, e.member_id, e.payload, 'pending', e.available_at, e.expires_at, e.endpoint_id
      from jsonb_to_recordset(${eventsParam}::jsonb)
           as e(id uuid, type text, category text, member_id uuid, payload jsonb, available_at timestamptz, expires_at timestamptz, endpoint_id uuid)
      ${extraFrom}
     where ${eventKeptSql(programId)}
    returning id`
}

export interface EmitOptions {
  /** The clock (tests inject one); default now. */
  now?: Date
}

export interface EmittedEvent {
  id: string
  type: EventType
  /**
   * suppressed: a marketing event the member did not consent to (kept for the record, never
   * delivered). unwanted: not written, no endpoint of the program subscribes to its type.
   */
  status: 'pending' | 'suppressed' | 'unwanted'
  availableAt: Date
  suppressedReason?: string
}

/**
 * Writes an event to the outbox inside the caller's transaction: it exists if and only if the
 * change it reports commits. A transactional event is a single insert, sent without waiting
 * (pipelining runners can send it along), and only if an endpoint wants it (insertEventsSql). A marketing event first checks the member's SMS
 * marketing consent and Do-Not-Call flag: without them it is recorded as suppressed and never
 * delivered; outside the sending window it waits for the window to open.
 */
export async function emitEvent<T extends EventType>(target: WriteTarget, program: EventProgram, input: EventInput<T>, options: EmitOptions = {}): Promise<EmittedEvent> {
  const planned = planEvent(program, input, options.now ?? new Date())
  if (planned.category === 'marketing') return emitMarketing(target, program, planned)
  const insert = runStatement(target, insertEventsSql(program.id, sql`${eventsJson([planned])}`))
  onCommit(target, nudgeDispatchers)
  const written = await insert
  return { id: planned.id, type: planned.type, status: written.length > 0 ? 'pending' : 'unwanted', availableAt: planned.availableAt }
}

async function emitMarketing(target: WriteTarget, program: EventProgram, planned: PlannedEvent): Promise<EmittedEvent> {
  const reason = planned.memberId ? await marketingRefusal(target, program.id, planned.memberId) : 'no_member'
  if (reason) {
    await runStatement(
      target,
      sql`insert into events (program_id, id, type, category, member_id, payload, status, available_at, expires_at, suppressed_reason)
          values (${program.id}::uuid, ${planned.id}::uuid, ${planned.type}, 'marketing', ${planned.memberId}::uuid, ${JSON.stringify(planned.payload)}::jsonb,
                  'suppressed', ${planned.availableAt.toISOString()}::timestamptz, ${planned.expiresAt?.toISOString() ?? null}::timestamptz, ${reason})`,
    )
    return { id: planned.id, type: planned.type, status: 'suppressed', availableAt: planned.availableAt, suppressedReason: reason }
  }
  await runStatement(target, insertEventsSql(program.id, sql`${eventsJson([planned])}`))
  onCommit(target, nudgeDispatchers)
  return { id: planned.id, type: planned.type, status: 'pending', availableAt: planned.availableAt }
}

/** Why a member may not get marketing now (null: they may): no consent, Do-Not-Call, erased, unknown. */
export async function marketingRefusal(target: WriteTarget, programId: string, memberId: string, lock = false): Promise<string | null> {
  const [m] = await runStatement<{ sms_marketing_consent: boolean; do_not_contact: boolean; erased_at: unknown; phone: string | null }>(
    target,
    sql`select sms_marketing_consent, do_not_contact, erased_at, phone from members
         where program_id = ${programId}::uuid and id = ${memberId}::uuid ${lock ? sql`for no key update` : sql``}`,
  )
  return marketingRefusalOf(m && { consent: m.sms_marketing_consent, doNotContact: m.do_not_contact, erased: Boolean(m.erased_at), phone: m.phone })
}

/** Pure: why a member as loaded may not get marketing now (null: they may). */
export function marketingRefusalOf(m: { consent: boolean; doNotContact: boolean; erased: boolean; phone: string | null } | undefined): string | null {
  if (!m) return 'no_member'
  if (m.erased) return 'erased'
  if (m.doNotContact) return 'do_not_contact'
  if (!m.consent) return 'no_consent'
  if (!m.phone) return 'no_phone'
  return null
}
