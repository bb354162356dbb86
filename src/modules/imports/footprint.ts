// Whether a chunk planned on a load made while the chunk before it was still being written is
// right once that chunk has committed, pure. The import loads and plans chunk n+1 while chunk n
// is applied, so that the database is never idle between chunks; the plan stands when chunk n
// could not have changed what chunk n+1 decided: chunk n writes only members its rows or its load
// named by a key (created, updated, or marked met by this import), so chunk n+1 is unaffected
// when none of its keys, and none of the members it found, is one of those. Otherwise it is loaded
// and planned again after chunk n (files rarely repeat a key across 500 rows).
import type { Decision, KnownMember } from './decide.js'
import { isRefused, type ReadRow } from './rows.js'

export interface Footprint {
  /** `e:`, `p:`, `c:` and the external id, phone or card number: every key the chunk's rows name or its loaded members hold. */
  keys: Set<string>
  /** Members the chunk created, updated or found unchanged. */
  touched: Set<string>
  /** Members the chunk's load found. */
  found: Set<string>
}

const keyed = (out: Set<string>, m: { externalId?: string | null; phone?: string | null; cardNumber?: string | null }) => {
  if (m.externalId) out.add(`e:${m.externalId}`)
  if (m.phone) out.add(`p:${m.phone}`)
  if (m.cardNumber) out.add(`c:${m.cardNumber}`)
}

export function footprintOf(rows: readonly ReadRow[], known: readonly KnownMember[], decisions: readonly Decision[]): Footprint {
  const keys = new Set<string>()
  for (const r of rows) if (!isRefused(r)) keyed(keys, r.member)
  for (const m of known) keyed(keys, m)
  const touched = new Set<string>()
  for (const d of decisions) if (d.status !== 'refused') touched.add(d.memberId)
  return { keys, touched, found: new Set(known.map((m) => m.id)) }
}

/** Whether `next`, planned before `previous` committed, decided on nothing `previous` wrote. */
export function plannedIndependently(previous: Footprint, next: Footprint): boolean {
  for (const k of next.keys) if (previous.keys.has(k)) return false
  for (const id of next.found) if (previous.touched.has(id)) return false
  return true
}
