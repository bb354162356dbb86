import { sql, type SQL } from 'drizzle-orm'
import { parseMinorUnits } from '../../shared/money.js'
import { eventsJson, insertEventsSql, type PlannedEvent } from '../events/emit.js'
import type { NotificationRules } from '../events/settings.js'
import { exponentOf } from './format.js'
import type { ReceiptIdentity, ReceiptProgram } from './inputs.js'
import type { ReceiptDocument, ReceiptKind } from './schemas.js'

/** The program fields receipts and events need: a programs row fits. */
export interface RecordProgram extends ReceiptProgram {
  rules: unknown
}

const SALE_RECEIPT_KINDS: Record<ReceiptKind, SQL | null> = {
  purchase: null,
  capture: sql`'purchase'`,
  void: sql`'purchase'`,
  // A return points at the capture of a held sale, else the sale itself.
  return: sql`'capture', 'purchase'`,
  top_up: null,
}

export interface ReceiptRowInput {
  program: RecordProgram
  kind: ReceiptKind
  sourceId: string
  memberId: string
  purchaseId: string | null
  entryId: string | null
  ident: ReceiptIdentity & { token: string }
  document: ReceiptDocument
}

/** Minor units as the API's decimal string, in SQL (numeric, no float). */
function formatMinorSql(expr: SQL, currency: string): SQL {
  const exp = exponentOf(currency)
  return exp === 0 ? sql`(${expr})::numeric(38,0)::text` : sql`((${expr})::numeric / ${sql.raw(String(10 ** exp))})::numeric(38,${sql.raw(String(exp))})::text`
}

export interface UnusualCheck {
  /** The id the purchase.unusual event gets if the check finds the purchase unusual. */
  eventId: string
  memberId: string
  purchaseId: string
  total: bigint
  held: boolean
  settings: NotificationRules['unusualPurchase']
}

/**
 * One statement: the receipt, the events that go with it and, when asked, the unusual-purchase
 * check (the member's average over their latest purchases, in SQL), so a pipelining caller pays
 * no extra round trip. The original receipt (of a capture, void or return) is found in SQL too.
 * Events no endpoint wants are not written (insertEventsSql); `written` lists the ids that were.
 */
export function receiptStatementSql(r: ReceiptRowInput, events: PlannedEvent[], unusual?: UnusualCheck): SQL {
  const originalKinds = SALE_RECEIPT_KINDS[r.kind]
  const original = originalKinds && r.purchaseId
    ? sql`(select id from receipts where program_id = ${r.program.id}::uuid and purchase_id = ${r.purchaseId}::uuid and kind in (${originalKinds})
            order by kind = 'capture' desc, id desc limit 1)`
    : sql`null::uuid`
  const programId = r.program.id
  const parts: SQL[] = [
    sql`with r as (
      insert into receipts (program_id, id, number, kind, source_id, member_id, purchase_id, entry_id, original_receipt_id, public_token, issued_at, document)
      values (${programId}::uuid, ${r.ident.id}::uuid, ${r.ident.number}, ${r.kind}, ${r.sourceId}, ${r.memberId}::uuid, ${r.purchaseId}::uuid, ${r.entryId}::uuid,
              ${original}, ${r.ident.token}, ${r.ident.issuedAt.toISOString()}::timestamptz, ${JSON.stringify(r.document)}::jsonb)
      returning id)`,
    sql`, ev as (${insertEventsSql(programId, sql`${eventsJson(events)}`, sql`, r`)})`,
  ]
  if (unusual) {
    const s = unusual.settings
    const { currency } = r.program
    const exp = exponentOf(currency)
    const above = s.above === null ? null : (parseMinorUnits(s.above, exp)?.toString() ?? null)
    const total = sql`${unusual.total.toString()}::numeric`
    const overLimit = sql`(${above}::numeric is not null and ${total} > ${above}::numeric)`
    const overAverage = sql`(h.n >= ${s.minPurchases}::int and h.n > 0 and ${s.timesAverage}::numeric is not null and ${total} * h.n > ${s.timesAverage}::numeric * h.s)`
    const payload = { memberId: unusual.memberId, purchaseId: unusual.purchaseId, currency, total: '', receiptId: r.ident.id, held: unusual.held }
    parts.push(sql`, u as (
      insert into events (program_id, id, type, category, member_id, payload, status, available_at)
      select ${programId}::uuid, ${unusual.eventId}::uuid, 'purchase.unusual', 'transactional', ${unusual.memberId}::uuid,
             ${JSON.stringify(payload)}::jsonb || jsonb_build_object(
               'total', ${formatMinorSql(total, currency)},
               'reasons', to_jsonb(array_remove(array[case when ${overLimit} then 'above_limit' end, case when ${overAverage} then 'above_average' end], null)),
               'memberAverage', case when h.n >= ${s.minPurchases}::int and h.n > 0 then ${formatMinorSql(sql`round(h.s / h.n)`, currency)} end),
             'pending', ${r.ident.issuedAt.toISOString()}::timestamptz
        from r, (select count(*)::numeric as n, coalesce(sum(total), 0)::numeric as s from (
                   select total from purchases
                    where program_id = ${programId}::uuid and member_id = ${unusual.memberId}::uuid and status = 'completed' and id <> ${unusual.purchaseId}::uuid
                    order by id desc limit ${s.lookback}::int) recent) h
       where (${overLimit} or ${overAverage}) and ll_event_wanted(${programId}::uuid, 'purchase.unusual')
      returning 1)`)
  }
  parts.push(sql` select (select id from r) as receipt_id, (select coalesce(string_agg(id::text, ','), '') from ev) as written${unusual ? sql`, (select count(*) from u)::int as unusual` : sql`, 0 as unusual`}`)
  return sql.join(parts, sql``)
}
