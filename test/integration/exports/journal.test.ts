import t from 'tap'
import { startTestApp } from '../../helpers/app.js'
import { csvObjects } from '../../helpers/csv.js'
import { Till, VND_RULES } from '../../helpers/pos.js'
import { inSnapshot } from '../../../src/db/snapshot.js'
import { journalPages, type JournalLine } from '../../../src/modules/exports/journal.js'

const ctx = await startTestApp(t)
const program = await ctx.createProgram({ rules: { ...VND_RULES, offlineWindowHours: 24 * 90 } })
const usd = await ctx.createProgram({ currency: 'USD', country: 'US', timezone: 'America/New_York' })
const till = new Till(ctx, program.token)
const member = await ctx.enrol(program.token)

// Five sales uploaded by an offline till with the same receipt time: the export must still page
// through them in a stable order (effective time, then entry id).
const sameInstant = new Date(Date.now() - 3 * 86_400_000)
sameInstant.setUTCMilliseconds(0)
for (let i = 0; i < 5; i++) {
  const res = await till.purchase(member.id, [{ sku: `SKU${i}`, quantity: 1, unitPrice: '100000' }], [{ type: 'cash', amount: '100000' }], { occurredAt: sameInstant.toISOString() })
  if (res.statusCode !== 201) throw new Error(res.body)
}
const tricky = 'Goodwill, "VIP" customer\r\nsecond line'
await ctx.call(program.token, 'POST', `/v1/members/${member.id}/points/adjustments`, { points: 7, reason: tricky }, { 'idempotency-key': `tricky-${process.pid}` })

const get = (query: string, token = program.token) => ctx.call(token, 'GET', `/v1/exports/journal?${query}`)
const allTime = `from=2000-01-01&to=${new Date(Date.now() + 86_400_000).toISOString().slice(0, 10)}`

t.test('CSV: RFC 4180 with a header row, one record per posting, decimals in major units', async (t) => {
  const res = await get(`${allTime}&format=csv`)
  t.equal(res.statusCode, 200)
  t.equal(res.headers['content-type'], 'text/csv; charset=utf-8')
  t.match(res.headers['content-disposition'], /^attachment; filename="journal-.*\.csv"$/)
  t.ok(res.body.endsWith('\r\n'), 'records end with CRLF')
  const { header, rows } = csvObjects(res.body)
  t.same(header, [
    'entry_id',
    'seq',
    'kind',
    'effective_at_utc',
    'effective_at_local',
    'recorded_at_utc',
    'account_id',
    'account_code',
    'account_type',
    'member_id',
    'asset',
    'debit',
    'credit',
    'store_id',
    'reference_type',
    'reference_id',
    'reverses_entry_id',
    'reason',
  ])
  t.equal(rows.length, 5 * 2 + 2, 'five purchases earning 10 points each (2 postings) and one adjustment')
  const purchase = rows.filter((r) => r.kind === 'purchase')
  t.same(
    purchase.slice(0, 2).map((r) => [r.account_type, r.debit, r.credit, r.store_id, r.reference_type]),
    [
      ['points_issued', '10', '', 'S1', 'purchase'],
      ['member_points', '', '10', 'S1', 'purchase'],
    ],
  )
  t.equal(purchase[0]!.effective_at_utc, sameInstant.toISOString(), 'the sale time, in UTC')
  const local = new Date(sameInstant.getTime() + 7 * 3_600_000).toISOString().replace('Z', '+07:00')
  t.equal(purchase[0]!.effective_at_local, local, 'and in Asia/Ho_Chi_Minh')
  t.equal(rows.find((r) => r.kind === 'adjustment')!.reason, tricky, 'commas, quotes and line breaks survive quoting')
  t.ok(res.body.includes('"Goodwill, ""VIP"" customer\r\nsecond line"'), 'quoted with inner quotes doubled')
})

t.test('NDJSON: one JSON object per posting, the same postings as the CSV', async (t) => {
  const res = await get(`${allTime}&format=ndjson`)
  t.equal(res.statusCode, 200)
  t.equal(res.headers['content-type'], 'application/x-ndjson; charset=utf-8')
  const lines = res.body.trimEnd().split('\n').map((l) => JSON.parse(l) as JournalLine)
  const csv = csvObjects((await get(`${allTime}&format=csv`)).body).rows
  t.same(
    lines.map((l) => [l.entryId, l.seq, l.accountCode, l.debit, l.credit]),
    csv.map((r) => [r.entry_id, Number(r.seq), r.account_code, r.debit || null, r.credit || null]),
  )
  t.equal(lines.at(-1)!.reason, tricky)
})

t.test('pages of any size give the same journal, in (effective time, entry, seq) order', async (t) => {
  const period = { from: new Date('2000-01-01T00:00:00Z'), to: new Date(Date.now() + 60_000) }
  const read = (size: number) =>
    inSnapshot(
      ctx.database,
      async (tx) => {
        const out: JournalLine[] = []
        for await (const page of journalPages(tx, program.id, 'Asia/Ho_Chi_Minh', period, size)) out.push(...page)
        return out
      },
      { timezone: 'UTC' },
    )
  const whole = await read(1000)
  t.equal(whole.length, 12)
  for (const size of [1, 2, 3, 5]) t.same(await read(size), whole, `pages of ${size} entries`)
  const keys = whole.map((l) => `${l.effectiveAt}|${l.entryId}|${String(l.seq).padStart(3, '0')}`)
  t.same(keys, [...keys].sort(), 'ordered by the keyset')
})

t.test('the period is half-open and dates are days of the program time zone', async (t) => {
  const at = sameInstant.toISOString()
  const upTo = await get(`from=2000-01-01&to=${encodeURIComponent(at)}`)
  t.equal(csvObjects(upTo.body).rows.length, 0, '`to` is exclusive: the sales at exactly `to` are not in')
  const from = await get(`from=${encodeURIComponent(at)}&to=${encodeURIComponent(new Date(sameInstant.getTime() + 1).toISOString())}`)
  t.equal(csvObjects(from.body).rows.length, 10, '`from` is inclusive')
  const day = new Date(sameInstant.getTime() + 7 * 3_600_000).toISOString().slice(0, 10)
  const sameDay = await get(`from=${day}&to=${day}`)
  t.equal(csvObjects(sameDay.body).rows.length, 10, 'from=D&to=D is the whole local day D')
})

t.test('an empty period is a header row only (CSV) or an empty body (NDJSON)', async (t) => {
  const csv = await get('from=2001-01-01&to=2001-12-31')
  t.equal(csv.statusCode, 200)
  t.same(csvObjects(csv.body).rows, [])
  const nd = await get('from=2001-01-01&to=2001-12-31&format=ndjson')
  t.equal(nd.body, '')
  const other = await get(allTime, usd.token)
  t.same(csvObjects(other.body).rows, [], 'another program sees none of these postings')
})

t.test('refusals: finance:read only, valid bounds, to after from', async (t) => {
  const pos = await ctx.createClient(program.id, ['pos'])
  const forbidden = await get(allTime, pos.token)
  t.equal(forbidden.statusCode, 403)
  t.equal(forbidden.json().code, 'FORBIDDEN')
  t.equal((await ctx.call(undefined, 'GET', `/v1/exports/journal?${allTime}`)).statusCode, 401)
  const reversed = await get('from=2025-02-01&to=2025-01-01')
  t.equal(reversed.statusCode, 400)
  t.match(reversed.json(), { code: 'VALIDATION_FAILED', errors: [{ path: 'querystring/to' }] })
  t.equal((await get('from=yesterday&to=2025-01-01')).statusCode, 400)
  t.equal((await get(`${allTime}&format=xlsx`)).statusCode, 400)
  t.equal((await get('from=2025-01-01')).statusCode, 400, 'to is required')
  t.match(reversed.headers['content-type'], /application\/problem\+json/)
})
