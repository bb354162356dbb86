// Member imports (POST /v1/members/imports) as a retailer moving from another system uses them:
// a clean CSV and an NDJSON file, the same file twice, a file with bad rows in the middle, the
// balances and the finance reports after, and another program that cannot see any of it.
import t from 'tap'
import { Readable } from 'node:stream'
import { setTimeout as sleep } from 'node:timers/promises'
import { sql } from 'drizzle-orm'
import { buildApp } from '../../../src/app.js'
import { queryRows } from '../../../src/db/client.js'
import { startTestApp, testConfig } from '../../helpers/app.js'
import { idemKey, VND_RULES } from '../../helpers/pos.js'

const ctx = await startTestApp(t)
const program = await ctx.createProgram({ rules: { ...VND_RULES, pointsExpiry: { afterDays: 365, roundUpTo: 'month' } } })
const other = await ctx.createProgram({ rules: VND_RULES })
const start = new Date(Date.now() - 1000).toISOString()

const post = (body: string, type = 'text/csv', key = idemKey('import'), token = program.token) =>
  ctx.call(token, 'POST', '/v1/members/imports', body, { 'content-type': type, 'idempotency-key': key })
const get = (url: string, token = program.token) => ctx.call(token, 'GET', url)
const count = async (table: string) => Number((await queryRows<{ n: string }>(ctx.database.db, sql`select count(*)::text as n from ${sql.identifier(table)} where program_id = ${program.id}`))[0]!.n)
const memberBy = async (query: string) => (await get(`/v1/members?${query}`)).json().data[0]
const balances = async (memberId: string) => (await get(`/v1/members/${memberId}/balances`)).json()
const refusedRows = async (importId: string) => {
  const rows = []
  for (let cursor: string | null = ''; cursor !== null; ) {
    const page: { data: { row: number; code: string; field: string | null; message: string }[]; nextCursor: string | null } = (await get(`/v1/member-imports/${importId}/rows?status=refused&limit=2${cursor ? `&cursor=${cursor}` : ''}`)).json()
    rows.push(...page.data)
    cursor = page.nextCursor
  }
  return rows
}

let seq = 0
/** A fresh valid Viettel number in national form (0981xxxxxx), unique in this file. */
const phone = () => `0981${String(++seq).padStart(6, '0')}`

const CLEAN = [
  'name,phone,email,birthday,external_id,card_number,sms_marketing,sms_marketing_at,email_marketing,do_not_contact,opening_points,opening_stored_value',
  `"Trần Thị Lan, VIP",${phone()},lan@example.vn,1990-05-01,C-001,CARD-001,yes,2024-03-01,no,false,1200,250000`,
  `"Nguyễn ""Bảo""\r\nVăn",${phone()},,,C-002,,,,,,,`,
  `Lê Minh,${phone()},minh@example.vn,,C-003,,true,2023-06-15T09:30:00+07:00,,,0,100000`,
].join('\r\n')

t.test('a clean CSV creates its members with their consents and opening balances', async (t) => {
  const key = idemKey('clean')
  const res = await post(CLEAN, 'text/csv; charset=utf-8', key)
  t.equal(res.statusCode, 201, res.body)
  const body = res.json()
  t.match(body, { status: 'completed', format: 'csv', rows: 3, created: 3, updated: 0, unchanged: 0, refused: 0, openingBalances: { points: '1200', storedValue: '350000', currency: 'VND' }, problem: null })
  t.equal(res.headers.location, `/v1/member-imports/${body.id}`, 'Location names the import')
  t.same((await get(`/v1/member-imports/${body.id}`)).json(), body, 'GET shows what POST answered')

  const lan = await memberBy('externalId=C-001')
  t.match(lan, { name: 'Trần Thị Lan, VIP', phone: '+84981000001', email: 'lan@example.vn', birthday: '1990-05-01', cardNumber: 'CARD-001', doNotContact: false })
  t.same(lan.consents, { smsMarketing: { granted: true, at: '2024-02-29T17:00:00.000Z' }, emailMarketing: { granted: false, at: lan.consents.emailMarketing.at } }, 'the SMS consent dated the start of 2024-03-01 in Hanoi')
  t.equal((await memberBy('externalId=C-002')).name, 'Nguyễn "Bảo"\r\nVăn', 'a quoted field keeps its quotes and line break')
  const lanBalances = await balances(lan.id)
  t.match(lanBalances, { points: { balance: 1200, available: 1200 }, storedValue: { balance: '250000', available: '250000' } })
  const minh = await memberBy('externalId=C-003')
  t.match(await balances(minh.id), { points: { balance: 0 }, storedValue: { balance: '100000' } })
  const activity = (await get(`/v1/members/${lan.id}/activity`)).json().data
  t.match(activity, [{ kind: 'opening_balance', points: 1200, storedValue: '250000' }], 'the member’s history starts with the opening balance')

  const replay = await post(CLEAN, 'text/csv; charset=utf-8', key)
  t.equal(replay.statusCode, 201)
  t.equal(replay.headers['idempotent-replayed'], 'true', 'the same key replays the answer')
  t.same(replay.json(), body)
  const reused = await post(CLEAN.replace('Lê Minh', 'Lê Minh Hoàng'), 'text/csv', key)
  t.equal(reused.statusCode, 422, 'the key with another file is refused')
  t.equal(reused.json().code, 'IDEMPOTENCY_KEY_REUSED')
})

t.test('the same file under a new key creates nothing and posts nothing: its rows are unchanged', async (t) => {
  const entries = await count('journal_entries')
  const members = await count('members')
  const lan = await memberBy('externalId=C-001')
  const before = await balances(lan.id)
  const res = await post(CLEAN)
  t.equal(res.statusCode, 201)
  t.match(res.json(), { rows: 3, created: 0, updated: 0, unchanged: 3, refused: 0, openingBalances: { points: '0', storedValue: '0' } })
  t.equal(await count('members'), members, 'no new member')
  t.equal(await count('journal_entries'), entries, 'no new entry')
  t.same(await balances(lan.id), before, 'the balances did not change')
  const rows = (await get(`/v1/member-imports/${res.json().id}/rows`)).json().data
  t.match(rows[0], { row: 1, line: 2, status: 'unchanged', memberId: lan.id, message: 'opening balances not posted: the member was already there' })
})

t.test('an NDJSON file; a member enrolled at the till is matched by phone and takes the external id; a change updates it', async (t) => {
  const tillPhone = phone()
  const enrolled = await ctx.enrol(program.token, { phone: tillPhone, name: 'Phạm Hoa' })
  const newPhone = phone()
  const lines = [
    JSON.stringify({ name: 'Phạm Hoa', phone: tillPhone, externalId: 'C-100', openingPoints: 50 }),
    '',
    JSON.stringify({ name: 'Đỗ Quân', phone: newPhone, externalId: 'C-101', consents: { emailMarketing: { granted: true } }, openingPoints: '7', openingStoredValue: '5000' }),
    JSON.stringify({ name: 'Trần Thị Lan', phone: '0981000001', externalId: 'C-001' }),
  ].join('\n')
  const res = await post(lines, 'application/x-ndjson')
  t.equal(res.statusCode, 201, res.body)
  t.match(res.json(), { format: 'ndjson', rows: 3, created: 1, updated: 2, unchanged: 0, refused: 0, openingBalances: { points: '7', storedValue: '5000' } })
  const hoa = await memberBy('externalId=C-100')
  t.equal(hoa.id, enrolled.id, 'the till’s member, now with the old system’s id')
  t.match(await balances(hoa.id), { points: { balance: 0 } }, 'an update posts no balance')
  t.equal((await memberBy('externalId=C-001')).name, 'Trần Thị Lan', 'the name changed')
  const quan = await memberBy('externalId=C-101')
  t.equal(quan.consents.emailMarketing.granted, true)
  t.match(await balances(quan.id), { points: { balance: 7 }, storedValue: { balance: '5000' } })
  const rows = (await get(`/v1/member-imports/${res.json().id}/rows`)).json().data
  t.same(rows.map((r: { row: number; line: number; status: string }) => [r.row, r.line, r.status]), [[1, 1, 'updated'], [2, 3, 'created'], [3, 4, 'updated']], 'rows count records, lines count the file’s lines')
})

t.test('bad rows in the middle are refused with their reasons; the others are created, in chunks of 500', async (t) => {
  const rows = ['name,phone,birthday,external_id,opening_points']
  const dupPhone = phone()
  const bad = new Map<number, string>([
    [3, `Bad Phone,12345,,B-3,10`],
    [250, `Bad Birthday,${phone()},1990-02-30,B-250,10`],
    [501, `Dup Phone,${dupPhone},,B-501,10`],
    [502, `Bell\u0007,${phone()},,B-502,10`],
    [700, `Dup External,${phone()},,B-10,10`],
    [701, `"Stray"quote,${phone()},,B-701,10`],
    [702, `Too,many,fields,,,`],
    [703, `Taken,0981000001,,B-703,10`],
  ])
  for (let i = 1; i <= 800; i++) rows.push(bad.get(i) ?? `Member ${i},${i === 10 ? dupPhone : phone()},1985-01-0${(i % 9) + 1},B-${i},10`)
  const res = await post(rows.join('\n') + '\n')
  t.equal(res.statusCode, 201, res.body)
  t.match(res.json(), { status: 'completed', rows: 800, created: 792, refused: 8, openingBalances: { points: String(792 * 10) } })
  const refused = await refusedRows(res.json().id)
  t.same(
    refused.map((r: { row: number; code: string; field: string | null }) => [r.row, r.code, r.field]),
    [
      [3, 'VALIDATION_FAILED', 'phone'],
      [250, 'VALIDATION_FAILED', 'birthday'],
      [501, 'DUPLICATE_IN_FILE', 'phone'],
      [502, 'VALIDATION_FAILED', 'name'],
      [700, 'DUPLICATE_IN_FILE', 'external_id'],
      [701, 'MALFORMED_ROW', null],
      [702, 'MALFORMED_ROW', null],
      [703, 'CONFLICT', 'phone'],
    ],
    'each refused row with its reason, paged two at a time',
  )
  t.match(refused[3]!.message, /control character U\+0007/)
  t.match(refused[6]!.message, /6 fields; the header has 5/)
  t.notOk(await memberBy('externalId=B-250'), 'a refused row created nothing')
  t.ok(await memberBy('externalId=B-800'), 'the rows after the bad ones were created')
})

t.test('the opening balances are their own line of the roll-forward and accounts of the trial balance; the ledger verifies clean', async (t) => {
  const roll = (await get(`/v1/exports/liability?from=${start}&to=${new Date(Date.now() + 1000).toISOString()}`)).json()
  const points = roll.assets.find((a: { asset: string }) => a.asset === 'POINTS')
  const vnd = roll.assets.find((a: { asset: string }) => a.asset === 'VND')
  t.match(points, { imported: String(1200 + 7 + 792 * 10), issued: '0', closing: String(1200 + 7 + 792 * 10) })
  t.match(vnd, { imported: String(350000 + 5000), issued: '0', closing: String(355000) })
  const trial = (await get('/v1/exports/trial-balance')).json()
  t.match(
    trial.byType.filter((b: { type: string }) => b.type === 'opening_balance'),
    [
      { asset: 'POINTS', accounts: 1, debit: String(1200 + 7 + 7920), balance: String(-(1200 + 7 + 7920)) },
      { asset: 'VND', accounts: 1, debit: '355000' },
    ],
  )
  t.same(trial.totals.map((x: { balance: string }) => x.balance), ['0', '0'], 'the ledger sums to zero')
  const verify = (await get('/v1/ledger/verify')).json()
  t.equal(verify.ok, true, JSON.stringify(verify.discrepancies))
})

t.test('files the import cannot take', async (t) => {
  const noPhone = await post('name,email\r\nLan,lan@example.vn\r\n')
  t.equal(noPhone.statusCode, 400)
  t.match(noPhone.json(), { code: 'VALIDATION_FAILED', errors: [{ path: 'body/header', message: /"phone" is missing/ }] })
  t.match(noPhone.json().importId, /^[0-9a-f-]{36}$/, 'the refusal names the import it stopped')
  const json = await ctx.call(program.token, 'POST', '/v1/members/imports', { name: 'Lan' }, { 'idempotency-key': idemKey() })
  t.equal(json.statusCode, 415)
  t.equal(json.json().code, 'UNSUPPORTED_MEDIA_TYPE')
  const latin1 = await post('name,phone\r\nLan,0912345678\r\n', 'text/csv; charset=iso-8859-1')
  t.equal(latin1.statusCode, 415, 'a charset other than UTF-8 is refused')
  const plain = await post('name,phone\r\n', 'text/plain')
  t.equal(plain.statusCode, 415)
  const bytes = Buffer.concat([Buffer.from(`name,phone\r\nLan,${phone()}\r\nTr`), Buffer.from([0xe2, 0x6e]), Buffer.from(',0912000000\r\n')])
  const notUtf8 = await ctx.inject({ method: 'POST', url: '/v1/members/imports', payload: bytes, headers: { authorization: `Bearer ${program.token}`, 'content-type': 'text/csv', 'idempotency-key': idemKey() } })
  t.equal(notUtf8.statusCode, 400)
  t.match(notUtf8.json(), { code: 'IMPORT_MALFORMED', detail: /not UTF-8/ })
  const stopped = (await get(`/v1/member-imports/${notUtf8.json().importId}`)).json()
  t.match(stopped, { status: 'failed', problem: { code: 'IMPORT_MALFORMED' } })
  const huge = await ctx.inject({ method: 'POST', url: '/v1/members/imports', payload: 'name,phone\r\n', headers: { authorization: `Bearer ${program.token}`, 'content-type': 'text/csv', 'content-length': String(300 * 1024 * 1024), 'idempotency-key': idemKey() } })
  t.equal(huge.statusCode, 413, 'a Content-Length over 200 MB is refused before a byte is read')
  t.equal(huge.json().code, 'IMPORT_TOO_LARGE')
  const enrolKey = idemKey('enrol')
  t.equal((await ctx.call(program.token, 'POST', '/v1/members', { name: 'Key Holder', phone: phone() }, { 'idempotency-key': enrolKey })).statusCode, 201)
  const taken = await post(`name,phone\r\nLan,${phone()}\r\n`, 'text/csv', enrolKey)
  t.equal(taken.statusCode, 422, 'a key another operation answered is not an import’s')
  t.equal(taken.json().code, 'IDEMPOTENCY_KEY_REUSED')
  const pos = await ctx.createClient(program.id, ['pos'])
  t.equal((await post(CLEAN, 'text/csv', idemKey(), pos.token)).statusCode, 403, 'a till cannot import')
})

t.test('another program sees no import of this one', async (t) => {
  const res = await post(`name,phone\r\nOnly Mine,${phone()}\r\n`)
  const id = res.json().id
  t.equal((await get(`/v1/member-imports/${id}`, other.token)).statusCode, 404)
  t.equal((await get(`/v1/member-imports/${id}/rows`, other.token)).statusCode, 404)
  t.equal((await get(`/v1/members?phone=${encodeURIComponent('+84981000001')}`, other.token)).json().data.length, 0, 'nor its members')
})

t.test('an upload that breaks off is resumed by the same request with the same key, after the last chunk written', async (t) => {
  const lines = ['name,phone,external_id,opening_points']
  for (let i = 1; i <= 800; i++) lines.push(`Resumed ${i},${phone()},R-${i},1`)
  const file = lines.join('\r\n') + '\r\n'
  const key = idemKey('resume')
  const progress = async () =>
    (await queryRows<{ id: string; status: string; rows_read: number }>(ctx.database.db, sql`select id, status, rows_read from member_imports where program_id = ${program.id} and idempotency_key = ${key}`))[0]
  // The client's connection drops after 649 rows, once the service has written the first chunk (it waits
  // for more rows to fill the second). The broken request has no answer: it goes through an app whose
  // answers the contract check does not record (the test double of a socket closed mid-upload answers 200).
  const broken = new Readable({ read() {} }).on('error', () => undefined)
  broken.push(file.slice(0, file.indexOf('Resumed 650,')))
  const dropped = (async () => {
    for (let i = 0; i < 500 && (await progress())?.rows_read !== 500; i++) await sleep(20)
    broken.destroy(new Error('connection reset by peer'))
  })()
  const unchecked = await buildApp(testConfig(), { database: ctx.database })
  t.teardown(() => unchecked.close())
  const lost = await unchecked
    .inject({ method: 'POST', url: '/v1/members/imports', payload: broken, headers: { authorization: `Bearer ${program.token}`, 'content-type': 'text/csv', 'idempotency-key': key } })
    .then(() => 'answered', (err: Error) => err.message)
  t.equal(lost, 'connection reset by peer', 'the client saw its connection drop')
  await dropped
  // The service notices the drop when it reads on, after the client has gone.
  for (let i = 0; i < 500 && (await progress())?.status === 'running'; i++) await sleep(20)
  const record = await progress()
  t.match(record, { status: 'interrupted', rows_read: 500 }, 'the first chunk was written; the rows after it were not')
  t.match((await get(`/v1/member-imports/${record!.id}`)).json(), { status: 'interrupted', rows: 500, created: 500 })

  const again = await post(file, 'text/csv', key)
  t.equal(again.statusCode, 201, again.body)
  t.match(again.json(), { id: record!.id, status: 'completed', rows: 800, created: 800, refused: 0, openingBalances: { points: '800' } }, 'every row once, as if never interrupted')
  const replay = await post(file, 'text/csv', key)
  t.equal(replay.headers['idempotent-replayed'], 'true')
  t.same(replay.json(), again.json())
})

t.test('a key whose import is still running answers 409; one its request abandoned is taken over', async (t) => {
  const running = idemKey('running')
  const abandoned = idemKey('abandoned')
  const insert = (key: string, updatedAt: string) =>
    queryRows(
      ctx.database.db,
      sql`insert into member_imports (program_id, id, idempotency_key, format, status, runner, created_by, updated_at)
          values (${program.id}, gen_random_uuid(), ${key}, 'csv', 'running', gen_random_uuid(), 'elsewhere', ${updatedAt}::timestamptz)`,
    )
  await insert(running, new Date().toISOString())
  await insert(abandoned, new Date(Date.now() - 5 * 60_000).toISOString())
  const file = `name,phone\r\nLater,${phone()}\r\n`
  const busy = await post(file, 'text/csv', running)
  t.equal(busy.statusCode, 409)
  t.match(busy.json(), { code: 'IDEMPOTENCY_CONFLICT', importId: /^[0-9a-f-]{36}$/ })
  const taken = await post(file, 'text/csv', abandoned)
  t.equal(taken.statusCode, 201, taken.body)
  t.match(taken.json(), { status: 'completed', created: 1 })
  const other = await post(file, 'application/x-ndjson', abandoned)
  t.equal(other.statusCode, 422, 'the key of a CSV import sent with an NDJSON file is another request')
})

t.test('opening points keep the expiry the old system gave them; without one, the program rule decides', async (t) => {
  const shop = await ctx.createProgram({ rules: { ...VND_RULES, pointsExpiry: { afterDays: 365, roundUpTo: 'month' } } })
  const soon = new Date(Date.now() + 10 * 86_400_000)
  const file = ['name,phone,external_id,opening_points,opening_points_expire_at', `An,${phone()},E-1,300,${soon.toISOString()}`, `Bình,${phone()},E-2,200,`].join('\n')
  const res = await post(file, 'text/csv', idemKey('expiry'), shop.token)
  t.match(res.json(), { status: 'completed', created: 2, refused: 0, openingBalances: { points: '500' } }, res.body)
  const balancesOf = async (externalId: string) => {
    const m = (await get(`/v1/members?externalId=${externalId}`, shop.token)).json().data[0]
    return (await get(`/v1/members/${m.id}/balances`, shop.token)).json()
  }
  t.same((await balancesOf('E-1')).pointsExpiring, [{ expiresAt: soon.toISOString(), points: 300 }], 'shown among the points expiring within 30 days')
  t.same((await balancesOf('E-2')).pointsExpiring, [], 'a year away by the program rule')
  await ctx.assertLedgerClean(t, shop.token)
})
