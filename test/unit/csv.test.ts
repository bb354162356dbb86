import t from 'tap'
import { csvField, csvRecord } from '../../src/modules/exports/csv.js'
import { parseCsv } from '../helpers/csv.js'

t.test('plain fields are written as they are', async (t) => {
  t.equal(csvField('abc'), 'abc')
  t.equal(csvField('12.34'), '12.34')
  t.equal(csvField(5n), '5')
  t.equal(csvField(0), '0')
  t.equal(csvField(''), '')
  t.equal(csvField(null), '', 'null is an empty field')
  t.equal(csvField(undefined), '')
  t.equal(csvField('Trần Thị Lan'), 'Trần Thị Lan', 'no quoting for non-ASCII text')
  t.equal(csvField(' padded '), ' padded ', 'spaces are part of the field (RFC 4180)')
})

t.test('commas, quotes, CR and LF are quoted, inner quotes doubled', async (t) => {
  t.equal(csvField('a,b'), '"a,b"')
  t.equal(csvField('say "hi"'), '"say ""hi"""')
  t.equal(csvField('"'), '""""')
  t.equal(csvField('line\nbreak'), '"line\nbreak"')
  t.equal(csvField('cr\rhere'), '"cr\rhere"')
  t.equal(csvField('=1+2'), '=1+2', 'values are not rewritten: the file re-sums to the ledger exactly')
})

t.test('a record is the fields joined by commas and ended by CRLF, and reads back', async (t) => {
  const values = ['id-1', 'Goodwill, "VIP"\r\nline 2', null, '100', '']
  const line = csvRecord(values)
  t.equal(line, 'id-1,"Goodwill, ""VIP""\r\nline 2",,100,\r\n')
  t.same(parseCsv(line + csvRecord(['x'])), [['id-1', 'Goodwill, "VIP"\r\nline 2', '', '100', ''], ['x']])
})

t.test('journal times: PostgreSQL text to ISO 8601 UTC, and to local time with its offset', async (t) => {
  const { localTimeFormatter, utcTextToIso } = await import('../../src/modules/exports/journal.js')
  t.equal(utcTextToIso('2025-06-05 03:00:00.123456+00'), '2025-06-05T03:00:00.123Z', 'microseconds truncated')
  t.equal(utcTextToIso('2025-06-05 03:00:00.5+00'), '2025-06-05T03:00:00.500Z')
  t.equal(utcTextToIso('2025-06-05 03:00:00+00'), '2025-06-05T03:00:00.000Z')
  t.equal(utcTextToIso('2025-06-05 10:00:00+07'), '2025-06-05T03:00:00.000Z', 'another session zone still reads right')
  t.equal(utcTextToIso('2025-06-05 08:30:00.25+05:30'), '2025-06-05T03:00:00.250Z')
  t.throws(() => utcTextToIso('yesterday'))
  const vn = localTimeFormatter('Asia/Ho_Chi_Minh')
  t.equal(vn('2024-12-31T17:00:00.250Z'), '2025-01-01T00:00:00.250+07:00')
  t.equal(vn('2024-12-31T17:00:59.999Z'), '2025-01-01T00:00:59.999+07:00', 'same minute, remembered')
  t.equal(vn('2024-12-31T16:59:59.999Z'), '2024-12-31T23:59:59.999+07:00')
  const ny = localTimeFormatter('America/New_York')
  t.equal(ny('2025-03-09T06:59:59.999Z'), '2025-03-09T01:59:59.999-05:00', 'just before clocks go forward')
  t.equal(ny('2025-03-09T07:00:00.000Z'), '2025-03-09T03:00:00.000-04:00', 'just after')
  t.equal(localTimeFormatter('America/St_Johns')('2025-01-15T12:00:00.000Z'), '2025-01-15T08:30:00.000-03:30', 'half-hour offsets behind UTC')
  t.equal(localTimeFormatter('Asia/Kolkata')('2025-01-15T12:00:00.000Z'), '2025-01-15T17:30:00.000+05:30')
})

t.test('a journal record is the header columns in order, quoted where needed', async (t) => {
  const { JOURNAL_CSV_COLUMNS, journalRecord } = await import('../../src/modules/exports/journal.js')
  const line = {
    entryId: '0190b3a0-0000-7000-8000-000000000001',
    seq: 2,
    kind: 'adjustment',
    effectiveAt: '2025-01-01T00:00:00.000Z',
    effectiveAtLocal: '2025-01-01T07:00:00.000+07:00',
    recordedAt: '2025-01-01T00:00:01.000Z',
    accountId: '0190b3a0-0000-7000-8000-000000000002',
    accountCode: 'store:Q1, "Lê Lợi":tender_clearing:VND',
    accountType: 'tender_clearing',
    memberId: null,
    asset: 'VND',
    debit: '125000',
    credit: null,
    storeId: 'Q1, "Lê Lợi"',
    referenceType: 'top_up',
    referenceId: 'R-1\n2',
    reversesEntryId: null,
    reason: 'Goodwill, "VIP"',
  }
  const generic = csvRecord(JOURNAL_CSV_COLUMNS.map(([, key]) => line[key]))
  t.equal(journalRecord(line, 'csv'), generic)
  t.same(parseCsv(journalRecord(line, 'csv'))[0]![JOURNAL_CSV_COLUMNS.findIndex(([h]) => h === 'store_id')], 'Q1, "Lê Lợi"')
  t.same(JSON.parse(journalRecord(line, 'ndjson')), line)
})
