import t from 'tap'
import { AppError } from '../../src/shared/errors.js'
import { checkRow, csvColumns, isRefused, readCsvRow, readNdjsonRow, type ImportProgram, type ReadRow } from '../../src/modules/imports/rows.js'

const VN: ImportProgram = { country: 'VN', timezone: 'Asia/Ho_Chi_Minh', currency: 'VND', exponent: 0 }
const USD: ImportProgram = { country: 'US', timezone: 'America/New_York', currency: 'USD', exponent: 2 }
const NOW = new Date('2026-12-03T05:00:00Z')

const header = (...fields: string[]) => ({ row: 0, line: 1, fields })
const record = (...fields: string[]) => ({ row: 1, line: 2, fields })
const refusal = (r: ReadRow) => (isRefused(r) ? r.refused : undefined)

const FULL = header('name', 'phone', 'email', 'birthday', 'external_id', 'card_number', 'sms_marketing', 'sms_marketing_at', 'email_marketing', 'email_marketing_at', 'do_not_contact', 'opening_points', 'opening_stored_value')

t.test('the header: snake_case or camelCase in any case; unknown, repeated or missing columns refuse the file', async (t) => {
  t.same(csvColumns(header('Name', 'PHONE', 'externalId', 'Card Number')).keys, ['name', 'phone', 'externalid', 'cardnumber'])
  const refusedFor = (h: ReturnType<typeof header>) => {
    try {
      csvColumns(h)
      return undefined
    } catch (err) {
      return err as AppError
    }
  }
  const unknown = refusedFor(header('name', 'phone', 'nickname'))
  t.equal(unknown?.code, 'VALIDATION_FAILED')
  t.match(unknown?.message, /unknown column "nickname"/)
  t.match(refusedFor(header('name', 'phone', 'external_id', 'externalId'))?.message, /appears twice/)
  t.match(refusedFor(header('name', 'email'))?.message, /"phone" is missing/)
})

t.test('a full CSV row: phone to E.164, booleans, consent dates (a date alone is the start of the day in the program zone), balances in minor units', async (t) => {
  const columns = csvColumns(FULL)
  const row = readCsvRow(record('Trần Thị Lan', '0912345678', 'lan@example.vn', '1990-05-01', 'C-1', 'CARD-1', 'yes', '2024-03-01', 'false', '2024-03-02T10:00:00+07:00', '0', '120', '250000'), columns, VN, NOW)
  t.notOk(isRefused(row), 'accepted')
  if (isRefused(row)) return
  t.same(row.member, {
    name: 'Trần Thị Lan',
    phone: '+84912345678',
    email: 'lan@example.vn',
    birthday: '1990-05-01',
    externalId: 'C-1',
    cardNumber: 'CARD-1',
    doNotContact: false,
    consents: [
      { purpose: 'smsMarketing', granted: true, at: new Date('2024-02-29T17:00:00Z') },
      { purpose: 'emailMarketing', granted: false, at: new Date('2024-03-02T03:00:00Z') },
    ],
  })
  t.equal(row.openingPoints, 120n)
  t.equal(row.openingStoredValue, 250000n)
  t.same([row.row, row.line], [1, 2])
})

t.test('empty cells are absent: only name and phone are needed, balances default to zero', async (t) => {
  const row = readCsvRow(record('Bao', '+84987654321', '', '', '', '', '', '', '', '', '', '', ''), csvColumns(FULL), VN, NOW)
  t.same(isRefused(row) ? row : { member: row.member, points: row.openingPoints, sv: row.openingStoredValue }, { member: { name: 'Bao', phone: '+84987654321', consents: [] }, points: 0n, sv: 0n })
})

t.test('refusals name the column as the header wrote it and say why, without the value', async (t) => {
  const columns = csvColumns(header('Name', 'Phone', 'Birthday', 'SMS_Marketing', 'Opening_Points', 'opening_stored_value'))
  const cases: [string[], string, RegExp][] = [
    [['Lan', '12345', '', '', '', ''], 'Phone', /not a valid phone number \(national numbers are read as VN\)/],
    [['Lan', '0912345678', '1990-02-30', '', '', ''], 'Birthday', /Birthday/],
    [['Lan', '0912345678', '2999-01-01', '', '', ''], 'Birthday', /from 1900-01-01 to today/],
    [['Lan', '0912345678', '', 'maybe', '', ''], 'SMS_Marketing', /true or false/],
    [['Lan', '0912345678', '', '', '1.5', ''], 'Opening_Points', /whole number/],
    [['Lan', '0912345678', '', '', '-3', ''], 'Opening_Points', /whole number/],
    [['Lan', '0912345678', '', '', '', '100.5'], 'opening_stored_value', /not a valid VND amount/],
    [['Lan', '0912345678', '', '', '', '2000000000'], 'opening_stored_value', /at most|from 0 to/],
    [['', '0912345678', '', '', '', ''], 'Name', /Name/],
    [['La\u0007n', '0912345678', '', '', '', ''], 'Name', /control character U\+0007/],
  ]
  for (const [fields, field, message] of cases) {
    const r = refusal(readCsvRow(record(...fields), columns, VN, NOW))
    t.equal(r?.code, 'VALIDATION_FAILED', fields.join(','))
    t.equal(r?.field, field, `${fields.join(',')}: the field`)
    t.match(r?.message, message, `${fields.join(',')}: ${r?.message}`)
    t.notMatch(r?.message ?? '', /12345|maybe|2000000000/, 'the message does not repeat the value')
  }
})

t.test('a consent date without the consent, or in the future, is refused', async (t) => {
  const columns = csvColumns(header('name', 'phone', 'email_marketing', 'email_marketing_at'))
  t.match(refusal(readCsvRow(record('Lan', '0912345678', '', '2024-01-01'), columns, VN, NOW))?.message, /needs the consent/)
  t.match(refusal(readCsvRow(record('Lan', '0912345678', 'yes', '2027-01-01'), columns, VN, NOW))?.message, /in the future/)
})

t.test('opening points may carry the old system’s expiry: a date lasts through that day in the program zone; past, or without points, is refused', async (t) => {
  const columns = csvColumns(header('name', 'phone', 'opening_points', 'opening_points_expire_at'))
  const row = (points: string, at: string, program = VN) => readCsvRow(record('Lan', '0912345678', points, at), columns, program, NOW)
  t.match(row('500', '2027-03-31'), { openingPoints: 500n, openingPointsExpireAt: new Date('2027-03-31T17:00:00Z') }, 'the start of 2027-04-01 in Hanoi')
  t.match(row('500', '2027-03-31', { ...USD, country: 'VN' }), { openingPointsExpireAt: new Date('2027-04-01T04:00:00Z') }, 'the start of 2027-04-01 in New York (daylight time)')
  t.match(row('500', '2026-12-31T23:59:59+07:00'), { openingPointsExpireAt: new Date('2026-12-31T16:59:59Z') }, 'an instant is itself')
  t.notOk('openingPointsExpireAt' in row('500', ''), 'an empty cell leaves it to the program rule')
  t.same(refusal(row('500', '2026-12-02')), { code: 'VALIDATION_FAILED', field: 'opening_points_expire_at', message: 'opening_points_expire_at: already past: expired points are not opened' })
  t.match(refusal(row('', '2027-03-31'))?.message, /needs opening points/)
  t.match(refusal(row('500', '31/03/2027'))?.message, /an ISO 8601 date/)
  const line = readNdjsonRow({ row: 1, line: 1, fields: [JSON.stringify({ name: 'Lan', phone: '0912345678', openingPoints: 80, openingPointsExpireAt: '2027-01-15' })] }, VN, NOW)
  t.match(line, { openingPoints: 80n, openingPointsExpireAt: new Date('2027-01-15T17:00:00Z') }, 'NDJSON reads it the same way')
})

t.test('the wrong number of fields, or a malformed record, is MALFORMED_ROW', async (t) => {
  const columns = csvColumns(header('name', 'phone'))
  t.same(refusal(readCsvRow(record('Lan', '0912345678', 'extra'), columns, VN, NOW)), { code: 'MALFORMED_ROW', field: null, message: '3 fields; the header has 2' })
  t.equal(refusal(readCsvRow({ ...record('Lan', '09"12'), malformed: 'a double quote inside an unquoted field' }, columns, VN, NOW))?.code, 'MALFORMED_ROW')
})

t.test('NDJSON lines carry the enrolment body (nested consents) and the balances; not an object is MALFORMED_ROW', async (t) => {
  const line = (text: string) => readNdjsonRow({ row: 3, line: 4, fields: [text] }, USD, NOW)
  const ok = line(JSON.stringify({ name: 'Ann', phone: '(201) 555-0123', consents: { smsMarketing: { granted: true, at: '2025-01-01T00:00:00Z' } }, openingPoints: 5, openingStoredValue: '12.34' }))
  t.notOk(isRefused(ok))
  if (!isRefused(ok)) {
    t.equal(ok.member.phone, '+12015550123')
    t.equal(ok.openingPoints, 5n)
    t.equal(ok.openingStoredValue, 1234n, 'USD in cents')
  }
  t.same(refusal(line('{"name": "Ann", "phone": ')), { code: 'MALFORMED_ROW', field: null, message: 'not valid JSON' })
  t.same(refusal(line('[1,2]')), { code: 'MALFORMED_ROW', field: null, message: 'not a JSON object' })
  t.match(refusal(line(JSON.stringify({ name: 'Ann', phone: '2015550123', referralCode: 'ABC' }))), { code: 'VALIDATION_FAILED', message: /referralCode/ }, 'an import refers nobody')
  t.match(refusal(line(JSON.stringify({ name: 'Ann', phone: '2015550123', nick: 'x' }))), { code: 'VALIDATION_FAILED', message: /nick/ }, 'unknown keys are refused, as at enrolment')
  t.match(refusal(line(JSON.stringify({ name: 'A\u0000nn', phone: '2015550123' }))), { code: 'VALIDATION_FAILED', field: 'name', message: /U\+0000/ })
})

t.test('checkRow reads the same object from either format', async (t) => {
  const columns = csvColumns(header('name', 'phone', 'external_id', 'opening_points'))
  const fromCsv = readCsvRow(record('Lan', '0912345678', 'X1', '7'), columns, VN, NOW)
  const fromJson = checkRow(record(), { name: 'Lan', phone: '0912345678', externalId: 'X1', openingPoints: '7' }, VN, NOW)
  t.same(fromCsv, fromJson)
})
