// One record of an import file to a member row, checked as an enrolment is (the same zod schema,
// the same refused text, the phone read in the program's region), pure. A CSV row is first made
// into the object an NDJSON line carries, so both formats meet one validation.
import { z } from 'zod'
import { invalidFields, validationFailed, type FieldProblem } from '../../shared/errors.js'
import { readAmount } from '../../shared/money.js'
import { unstorableTextIn } from '../../shared/text.js'
import { zonedToUtc } from '../../shared/zoned-time.js'
import { memberCreateSchema } from '../members/schemas.js'
import { normalizePhone } from '../members/phone.js'
import { MAX_TOP_UP_MAJOR_UNITS } from '../stored-value/top-up-plan.js'
import type { FileRecord } from './records.js'

export type ImportFormat = 'csv' | 'ndjson'

/** Why a row was refused: the codes of the API where they mean the same, two of the import's own. */
export const ROW_CODES = ['VALIDATION_FAILED', 'CONFLICT', 'DUPLICATE_IN_FILE', 'MALFORMED_ROW'] as const
export type RowCode = (typeof ROW_CODES)[number]

/** The most points one member may open with: the bound of a points adjustment. */
export const MAX_OPENING_POINTS = 1_000_000_000

export type ConsentPurpose = 'smsMarketing' | 'emailMarketing'
export const PURPOSES: readonly ConsentPurpose[] = ['smsMarketing', 'emailMarketing']

/** A member row as the file gave it, checked; absent fields were empty cells or missing keys. */
export interface MemberFields {
  name: string
  /** E.164. */
  phone: string
  email?: string
  birthday?: string
  externalId?: string
  cardNumber?: string
  doNotContact?: boolean
  consents: { purpose: ConsentPurpose; granted: boolean; at?: Date }[]
}

export interface ValidRow {
  row: number
  line: number
  member: MemberFields
  openingPoints: bigint
  /** Minor units of the program's currency. */
  openingStoredValue: bigint
  /** When the opening points expire, when the file says (else the program's rule decides). */
  openingPointsExpireAt?: Date
}

export interface RefusedRow {
  row: number
  line: number
  refused: { code: RowCode; field: string | null; message: string }
}

export type ReadRow = ValidRow | RefusedRow

export const isRefused = (r: ReadRow): r is RefusedRow => 'refused' in r

export interface ImportProgram {
  country: string
  timezone: string
  currency: string
  exponent: number
}

const WHOLE_POINTS = 'a whole number of points'
const openingPointsSchema = z
  .union([z.number(), z.string()], { error: WHOLE_POINTS })
  .transform((v) => (typeof v === 'number' ? v : /^[0-9]{1,10}$/.test(v.trim()) ? Number(v.trim()) : Number.NaN))
  .pipe(z.number({ error: WHOLE_POINTS }).int(WHOLE_POINTS).min(0, WHOLE_POINTS).max(MAX_OPENING_POINTS, `at most ${MAX_OPENING_POINTS.toLocaleString('en')} points`))
  .optional()

/** A row of the file: the enrolment's fields (no referral code: an import refers nobody) and the opening balances. */
export const importRowSchema = memberCreateSchema
  .omit({ referralCode: true })
  .extend({
    openingPoints: openingPointsSchema.describe('Points the member brings from the old system (whole, 0 to 1,000,000,000)'),
    openingStoredValue: z.string().optional().describe('Stored value the member brings, a decimal string in the program currency'),
    openingPointsExpireAt: z
      .union([z.iso.date(), z.iso.datetime({ offset: true })], { error: 'an ISO 8601 date (YYYY-MM-DD) or an instant with its offset' })
      .optional()
      .describe('When the opening points expire, as the old system says: a date (the points last through that day in the program time zone) or an instant; default the program rule'),
  })
  .strict()

/** CSV columns: the header names them in snake_case or camelCase, any case; each maps to a path of the NDJSON object. */
const COLUMNS: Record<string, string[]> = {
  name: ['name'],
  phone: ['phone'],
  email: ['email'],
  birthday: ['birthday'],
  externalid: ['externalId'],
  cardnumber: ['cardNumber'],
  smsmarketing: ['consents', 'smsMarketing', 'granted'],
  smsmarketingat: ['consents', 'smsMarketing', 'at'],
  emailmarketing: ['consents', 'emailMarketing', 'granted'],
  emailmarketingat: ['consents', 'emailMarketing', 'at'],
  donotcontact: ['doNotContact'],
  openingpoints: ['openingPoints'],
  openingstoredvalue: ['openingStoredValue'],
  openingpointsexpireat: ['openingPointsExpireAt'],
}
const BOOLEAN_COLUMNS = new Set(['smsmarketing', 'emailmarketing', 'donotcontact'])
const REQUIRED_COLUMNS = ['name', 'phone']

/** The CSV columns of a file, in header order, with the names as the header wrote them (the rows' refusals name them). */
export interface CsvColumns {
  keys: string[]
  labels: Map<string, string>
}

const columnKey = (name: string) => name.trim().toLowerCase().replace(/[\s_-]/g, '')

/** Reads the header: every column known, none twice, name and phone present; else 400 VALIDATION_FAILED naming each problem. */
export function csvColumns(header: FileRecord): CsvColumns {
  const problems: FieldProblem[] = []
  if (header.malformed) problems.push({ path: 'body/header', message: header.malformed })
  const keys = header.fields.map(columnKey)
  const labels = new Map<string, string>()
  keys.forEach((key, i) => {
    const label = header.fields[i]!.trim()
    if (!(key in COLUMNS)) problems.push({ path: 'body/header', message: `unknown column "${label}" (known: ${Object.keys(COLUMNS).join(', ')}, in snake_case or camelCase)` })
    else if (labels.has(COLUMNS[key]!.join('/'))) problems.push({ path: 'body/header', message: `column "${label}" appears twice` })
    else labels.set(COLUMNS[key]!.join('/'), label)
  })
  for (const required of REQUIRED_COLUMNS) if (!keys.includes(required)) problems.push({ path: 'body/header', message: `the column "${required}" is missing` })
  if (problems.length > 0) throw invalidFields(problems.slice(0, 10))
  return { keys, labels }
}

const TRUE = new Set(['true', 'yes', 'y', '1'])
const FALSE = new Set(['false', 'no', 'n', '0'])
const DATE_ONLY = /^(\d{4})-(\d{2})-(\d{2})$/

/** A CSV record as the object an NDJSON line would carry; empty cells are absent. Problems of the cells' own form (a boolean) are returned beside it. */
export function csvObject(record: FileRecord, columns: CsvColumns, program: ImportProgram): { value: Record<string, unknown>; problems: FieldProblem[] } {
  const value: Record<string, unknown> = {}
  const problems: FieldProblem[] = []
  columns.keys.forEach((key, i) => {
    const cell = record.fields[i]!
    if (cell.trim() === '') return
    const path = COLUMNS[key]!
    let v: unknown = cell
    if (BOOLEAN_COLUMNS.has(key)) {
      const word = cell.trim().toLowerCase()
      if (TRUE.has(word)) v = true
      else if (FALSE.has(word)) v = false
      else problems.push({ path: path.join('/'), message: 'must be true or false (yes/no, 1/0)' })
    } else if (path[2] === 'at') {
      // A date alone is the start of that day in the program's time zone.
      const d = DATE_ONLY.exec(cell.trim())
      if (d) v = zonedToUtc({ year: Number(d[1]), month: Number(d[2]), day: Number(d[3]), hour: 0, minute: 0 }, program.timezone).toISOString()
    }
    let node = value
    for (const part of path.slice(0, -1)) node = (node[part] ??= {}) as Record<string, unknown>
    node[path[path.length - 1]!] = v
  })
  // A consent's date without whether it was given says nothing.
  for (const purpose of PURPOSES) {
    const c = (value.consents as Record<string, Record<string, unknown>> | undefined)?.[purpose]
    if (c && c.granted === undefined && !problems.some((p) => p.path.startsWith(`consents/${purpose}`))) {
      problems.push({ path: `consents/${purpose}/granted`, message: 'a consent date needs the consent (true or false) beside it' })
    }
  }
  return { value, problems }
}

const refusedRow = (record: FileRecord, code: RowCode, field: string | null, message: string): RefusedRow => ({ row: record.row, line: record.line, refused: { code, field, message } })

/** The refusal of a row for these problems: the first one's field, every message (up to three). */
function invalid(record: FileRecord, problems: FieldProblem[], label: (path: string) => string): RefusedRow {
  const shown = problems.slice(0, 3).map((p) => `${label(p.path)}: ${p.message}`)
  return refusedRow(record, 'VALIDATION_FAILED', label(problems[0]!.path), shown.join('; ') + (problems.length > 3 ? `; and ${problems.length - 3} more` : ''))
}

/** Consents given or withdrawn in the future (beyond five minutes of clock skew) are refused, as at enrolment. */
const SKEW_MS = 5 * 60_000

/**
 * The row of a record: refused with its reason, or the member's fields checked and the opening
 * balances in minor units. `raw` is the record's object (csvObject, or the parsed NDJSON line).
 */
export function checkRow(record: FileRecord, raw: unknown, program: ImportProgram, now: Date, label: (path: string) => string = (p) => p): ReadRow {
  const text = unstorableTextIn(raw, 'row').map((p) => ({ ...p, path: p.path.replace(/^row\/?/, '') }))
  if (text.length > 0) return invalid(record, text, label)
  const parsed = importRowSchema.safeParse(raw)
  if (!parsed.success) return invalid(record, parsed.error.issues.map((i) => ({ path: i.path.map(String).join('/') || 'row', message: i.message })), label)
  const input = parsed.data
  const problems: FieldProblem[] = []
  const phone = normalizePhone(input.phone, program.country)
  if (!phone) problems.push({ path: 'phone', message: `not a valid phone number (national numbers are read as ${program.country})` })
  let openingStoredValue = 0n
  if (input.openingStoredValue !== undefined) {
    const read = readAmount(input.openingStoredValue.trim(), program.exponent, program.currency)
    if ('problem' in read) problems.push({ path: 'openingStoredValue', message: read.problem })
    else if (read.value < 0n || read.value > MAX_TOP_UP_MAJOR_UNITS * 10n ** BigInt(program.exponent)) {
      problems.push({ path: 'openingStoredValue', message: `must be from 0 to ${MAX_TOP_UP_MAJOR_UNITS} ${program.currency}` })
    } else openingStoredValue = read.value
  }
  const consents: MemberFields['consents'] = []
  for (const purpose of PURPOSES) {
    const c = input.consents?.[purpose]
    if (!c) continue
    const at = c.at === undefined ? undefined : new Date(c.at)
    if (at && at.getTime() > now.getTime() + SKEW_MS) problems.push({ path: `consents/${purpose}/at`, message: 'in the future' })
    consents.push({ purpose, granted: c.granted, ...(at ? { at } : {}) })
  }
  const openingPoints = BigInt(input.openingPoints ?? 0)
  let openingPointsExpireAt: Date | undefined
  if (input.openingPointsExpireAt !== undefined) {
    openingPointsExpireAt = pointsExpiryOf(input.openingPointsExpireAt, program.timezone)
    if (openingPoints === 0n) problems.push({ path: 'openingPointsExpireAt', message: 'an expiry needs opening points beside it' })
    else if (openingPointsExpireAt.getTime() <= now.getTime()) problems.push({ path: 'openingPointsExpireAt', message: 'already past: expired points are not opened' })
  }
  if (problems.length > 0) return invalid(record, problems, label)
  const member: MemberFields = { name: input.name, phone: phone!, consents }
  if (input.email !== undefined) member.email = input.email
  if (input.birthday !== undefined) member.birthday = input.birthday
  if (input.externalId !== undefined) member.externalId = input.externalId
  if (input.cardNumber !== undefined) member.cardNumber = input.cardNumber
  if (input.doNotContact !== undefined) member.doNotContact = input.doNotContact
  return { row: record.row, line: record.line, member, openingPoints, openingStoredValue, ...(openingPointsExpireAt ? { openingPointsExpireAt } : {}) }
}

/** When points given as lasting through a date expire: the start of the next day in the program's time zone; an instant is itself. */
export function pointsExpiryOf(value: string, timeZone: string): Date {
  const d = DATE_ONLY.exec(value)
  if (!d) return new Date(value)
  const next = new Date(Date.UTC(Number(d[1]), Number(d[2]) - 1, Number(d[3]) + 1))
  return zonedToUtc({ year: next.getUTCFullYear(), month: next.getUTCMonth() + 1, day: next.getUTCDate(), hour: 0, minute: 0 }, timeZone)
}

/** A CSV data record as a row: its shape first (malformed, the wrong number of fields), then checkRow. */
export function readCsvRow(record: FileRecord, columns: CsvColumns, program: ImportProgram, now: Date): ReadRow {
  if (record.malformed) return refusedRow(record, 'MALFORMED_ROW', null, record.malformed)
  if (record.fields.length !== columns.keys.length) return refusedRow(record, 'MALFORMED_ROW', null, `${record.fields.length} fields; the header has ${columns.keys.length}`)
  const label = (path: string) => columns.labels.get(path) ?? path
  const { value, problems } = csvObject(record, columns, program)
  if (problems.length > 0) return invalid(record, problems, label)
  return checkRow(record, value, program, now, label)
}

/** An NDJSON line as a row: a JSON object (else MALFORMED_ROW; the parser's message is not kept, it may quote the line), then checkRow. */
export function readNdjsonRow(record: FileRecord, program: ImportProgram, now: Date): ReadRow {
  let raw: unknown
  try {
    raw = JSON.parse(record.fields[0]!)
  } catch {
    return refusedRow(record, 'MALFORMED_ROW', null, 'not valid JSON')
  }
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) return refusedRow(record, 'MALFORMED_ROW', null, 'not a JSON object')
  return checkRow(record, raw, program, now)
}

/** The header refused before any row: the file names no usable columns. */
export const emptyFile = () => validationFailed('the file has no header row', [{ path: 'body', message: 'empty' }])
