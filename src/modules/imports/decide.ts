// What each row of a chunk does, pure, from the rows read and the members their keys found.
//
// The match key: a row with an external id is the member with that external id; without one, or
// when no member has it, the member with the row's phone (E.164), but only one without an external
// id of its own (a member the tills enrolled before the import is the same customer; one the old
// system gave another id is not). A row matching nobody creates a member. A key another member
// holds refuses the row (CONFLICT, with the field); a member an earlier row of the same file
// already met refuses it as DUPLICATE_IN_FILE. An update changes the fields the row gives and never
// clears one; opening balances are posted only for the members a row creates, so the same file
// twice creates nothing and posts nothing the second time.
import { PURPOSES, type ConsentPurpose, type MemberFields, type ReadRow, type RowCode } from './rows.js'
import { isRefused } from './rows.js'

/** A member a chunk's keys found, as the load read it. */
export interface KnownMember {
  id: string
  phone: string | null
  externalId: string | null
  cardNumber: string | null
  name: string | null
  email: string | null
  birthday: string | null
  doNotContact: boolean
  smsMarketingConsent: boolean
  emailMarketingConsent: boolean
  /** As the database shows it, to the microsecond: an update expects it unchanged. */
  updatedAt: string
  /** An earlier chunk of this import met this member. */
  seen: boolean
}

/** The member columns an update sets (drizzle property names). */
export interface MemberChanges {
  name?: string
  phone?: string
  email?: string
  birthday?: string
  externalId?: string
  cardNumber?: string
  doNotContact?: boolean
  smsMarketingConsent?: boolean
  smsMarketingConsentAt?: Date
  emailMarketingConsent?: boolean
  emailMarketingConsentAt?: Date
}

export interface ConsentChange {
  purpose: ConsentPurpose
  granted: boolean
  at: Date
}

interface At {
  row: number
  line: number
}

export type Decision = At &
  (
    | { status: 'created'; memberId: string; member: MemberFields; consents: ConsentChange[]; openingPoints: bigint; openingStoredValue: bigint; openingPointsExpireAt?: Date }
    | { status: 'updated'; memberId: string; changes: MemberChanges; consents: ConsentChange[]; expectUpdatedAt: string; balancesIgnored: boolean }
    | { status: 'unchanged'; memberId: string; balancesIgnored: boolean }
    | { status: 'refused'; code: RowCode; field: string | null; message: string }
  )

const KEYS = [
  ['externalId', 'external id'],
  ['phone', 'phone'],
  ['cardNumber', 'card number'],
] as const
type Key = (typeof KEYS)[number][0]
const WHAT: Record<Key, string> = Object.fromEntries(KEYS) as Record<Key, string>

/**
 * The chunk's decisions, in row order. `known` are the members holding any of the chunk's keys;
 * `newId` names each member created; `label` turns a field into the file's own name for it.
 */
export function decideChunk(rows: readonly ReadRow[], known: readonly KnownMember[], ctx: { now: Date; newId: () => string; label?: (field: string) => string }): Decision[] {
  const label = ctx.label ?? ((f: string) => f)
  const holders: Record<Key, Map<string, KnownMember>> = { externalId: new Map(), phone: new Map(), cardNumber: new Map() }
  for (const m of known) {
    if (m.externalId !== null) holders.externalId.set(m.externalId, m)
    if (m.phone !== null) holders.phone.set(m.phone, m)
    if (m.cardNumber !== null) holders.cardNumber.set(m.cardNumber, m)
  }
  // Keys and members the chunk's earlier rows took.
  const claimed: Record<Key, Set<string>> = { externalId: new Set(), phone: new Set(), cardNumber: new Set() }
  const met = new Set<string>()
  const duplicate = (r: At, key: Key): Decision => ({ row: r.row, line: r.line, status: 'refused', code: 'DUPLICATE_IN_FILE', field: label(key), message: `an earlier row of this file has the same ${WHAT[key]}` })

  return rows.map((r): Decision => {
    if (isRefused(r)) return { row: r.row, line: r.line, status: 'refused', ...r.refused }
    const m = r.member
    for (const [key] of KEYS) {
      const v = m[key]
      if (v !== undefined && claimed[key].has(v)) return duplicate(r, key)
    }
    let target = m.externalId !== undefined ? holders.externalId.get(m.externalId) : undefined
    if (!target) {
      const byPhone = holders.phone.get(m.phone)
      if (byPhone && (m.externalId === undefined || byPhone.externalId === null)) target = byPhone
    }
    if (target && (target.seen || met.has(target.id))) return duplicate(r, m.externalId !== undefined && target.externalId === m.externalId ? 'externalId' : 'phone')
    for (const [key, what] of KEYS) {
      const v = m[key]
      const holder = v === undefined ? undefined : holders[key].get(v)
      if (!holder || holder.id === target?.id) continue
      if (holder.seen || met.has(holder.id)) return duplicate(r, key)
      return { row: r.row, line: r.line, status: 'refused', code: 'CONFLICT', field: label(key), message: `another member of this program already has this ${what}` }
    }
    for (const [key] of KEYS) {
      const v = m[key]
      if (v !== undefined) claimed[key].add(v)
    }
    const balances = r.openingPoints > 0n || r.openingStoredValue > 0n
    if (!target) {
      const memberId = ctx.newId()
      met.add(memberId)
      const consents = m.consents.map((c) => ({ purpose: c.purpose, granted: c.granted, at: c.at ?? ctx.now }))
      return { row: r.row, line: r.line, status: 'created', memberId, member: m, consents, openingPoints: r.openingPoints, openingStoredValue: r.openingStoredValue, ...(r.openingPointsExpireAt ? { openingPointsExpireAt: r.openingPointsExpireAt } : {}) }
    }
    met.add(target.id)
    const { changes, consents } = changesOf(target, m, ctx.now)
    if (Object.keys(changes).length === 0) return { row: r.row, line: r.line, status: 'unchanged', memberId: target.id, balancesIgnored: balances }
    return { row: r.row, line: r.line, status: 'updated', memberId: target.id, changes, consents, expectUpdatedAt: target.updatedAt, balancesIgnored: balances }
  })
}

/**
 * What the row changes of the member: each field it gives that differs (an absent field stays as
 * it is), and each consent whose answer differs, dated as the row dates it or now. A consent the
 * row repeats keeps the date recorded first.
 */
export function changesOf(current: KnownMember, m: MemberFields, now: Date): { changes: MemberChanges; consents: ConsentChange[] } {
  const changes: MemberChanges = {}
  if (m.name !== current.name) changes.name = m.name
  if (m.phone !== current.phone) changes.phone = m.phone
  if (m.email !== undefined && m.email !== current.email) changes.email = m.email
  if (m.birthday !== undefined && m.birthday !== current.birthday) changes.birthday = m.birthday
  if (m.externalId !== undefined && m.externalId !== current.externalId) changes.externalId = m.externalId
  if (m.cardNumber !== undefined && m.cardNumber !== current.cardNumber) changes.cardNumber = m.cardNumber
  if (m.doNotContact !== undefined && m.doNotContact !== current.doNotContact) changes.doNotContact = m.doNotContact
  const consents: ConsentChange[] = []
  for (const purpose of PURPOSES) {
    const c = m.consents.find((x) => x.purpose === purpose)
    const granted = purpose === 'smsMarketing' ? current.smsMarketingConsent : current.emailMarketingConsent
    if (!c || c.granted === granted) continue
    const at = c.at ?? now
    consents.push({ purpose, granted: c.granted, at })
    if (purpose === 'smsMarketing') Object.assign(changes, { smsMarketingConsent: c.granted, smsMarketingConsentAt: at })
    else Object.assign(changes, { emailMarketingConsent: c.granted, emailMarketingConsentAt: at })
  }
  return { changes, consents }
}

/** The keys a chunk's rows look members up by, each once. */
export function chunkKeys(rows: readonly ReadRow[]): { externalIds: string[]; phones: string[]; cardNumbers: string[] } {
  const externalIds = new Set<string>()
  const phones = new Set<string>()
  const cardNumbers = new Set<string>()
  for (const r of rows) {
    if (isRefused(r)) continue
    if (r.member.externalId !== undefined) externalIds.add(r.member.externalId)
    phones.add(r.member.phone)
    if (r.member.cardNumber !== undefined) cardNumbers.add(r.member.cardNumber)
  }
  return { externalIds: [...externalIds], phones: [...phones], cardNumbers: [...cardNumbers] }
}
