import t from 'tap'
import { startTestApp, uniqueVnMobile } from '../helpers/app.js'
import { idemKey } from '../helpers/pos.js'

const ctx = await startTestApp(t)
const program = await ctx.createProgram()
const other = await ctx.createProgram()

t.test('enrolment normalises a Vietnamese national number to E.164 and records consent', async (t) => {
  const res = await ctx.call(program.token, 'POST', '/v1/members', {
    name: 'Trần Thị Lan',
    phone: '0912 345 678',
    email: 'lan@example.vn',
    birthday: '1990-05-01',
    externalId: 'CRM-1',
    cardNumber: 'CARD-0001',
    consents: { smsMarketing: { granted: true, at: '2026-01-02T03:04:05Z' }, emailMarketing: { granted: false } },
  }, { 'idempotency-key': idemKey() })
  t.equal(res.statusCode, 201)
  const m = res.json()
  t.match(m, {
    name: 'Trần Thị Lan',
    phone: '+84912345678',
    email: 'lan@example.vn',
    birthday: '1990-05-01',
    externalId: 'CRM-1',
    cardNumber: 'CARD-0001',
    doNotContact: false,
    erasedAt: null,
  })
  t.same(m.consents.smsMarketing, { granted: true, at: '2026-01-02T03:04:05.000Z' })
  t.equal(m.consents.emailMarketing.granted, false)
  t.same((await ctx.call(program.token, 'GET', `/v1/members/${m.id}`)).json(), m, 'GET returns what POST returned')
})

t.test('a region other than Vietnam reads national numbers in its own way', async (t) => {
  const us = await ctx.createProgram({ currency: 'USD', country: 'US', timezone: 'America/Chicago' })
  const m = await ctx.enrol(us.token, { phone: '(212) 456-7890' })
  t.equal(m.phone, '+12124567890')
})

t.test('member input is validated with field-level errors', async (t) => {
  const cases: [Record<string, unknown>, string, RegExp][] = [
    [{ name: 'A', phone: '12345' }, 'too short to be a phone', /phone/],
    [{ name: 'A', phone: '0212345678' }, 'not a valid Vietnamese number', /phone/],
    [{ name: 'A', phone: 'hello world' }, 'letters', /phone/],
    [{ name: 'A', phone: uniqueVnMobile(), email: 'not-an-email' }, 'bad email', /email/],
    [{ name: 'A', phone: uniqueVnMobile(), birthday: '1990-02-30' }, 'impossible date', /birthday/],
    [{ name: 'A', phone: uniqueVnMobile(), birthday: '2999-01-01' }, 'future birthday', /birthday/],
    [{ name: 'A', phone: uniqueVnMobile(), nickname: 'x' }, 'unknown field', /nickname/],
    [{ name: 'A', phone: uniqueVnMobile(), consents: { smsMarketing: { granted: true, at: '2999-01-01T00:00:00Z' } } }, 'consent in the future', /consents/],
    [{ phone: uniqueVnMobile() }, 'missing name', /name/],
  ]
  for (const [body, why, field] of cases) {
    const res = await ctx.call(program.token, 'POST', '/v1/members', body, { 'idempotency-key': idemKey() })
    t.equal(res.statusCode, 400, why)
    t.equal(res.json().code, 'VALIDATION_FAILED', why)
    t.match(JSON.stringify(res.json().errors), field, `${why}: the error names the field`)
  }
  const count = (await ctx.call(program.token, 'GET', '/v1/members?limit=200')).json().data.length
  t.equal(count, 1, 'no rejected member was written (only the first test’s member exists)')
})

t.test('phone, externalId and cardNumber are unique within a program, not across programs', async (t) => {
  const phone = uniqueVnMobile()
  await ctx.enrol(program.token, { phone, externalId: 'X-1', cardNumber: 'C-1' })
  for (const [body, field] of [
    [{ phone: phone.replace(/^0/, '+84') }, 'phone'],
    [{ externalId: 'X-1' }, 'externalId'],
    [{ cardNumber: 'C-1' }, 'cardNumber'],
  ] as const) {
    const res = await ctx.call(program.token, 'POST', '/v1/members', { name: 'B', ...{ phone: uniqueVnMobile() }, ...body }, { 'idempotency-key': idemKey() })
    t.equal(res.statusCode, 409, field)
    t.equal(res.json().code, 'CONFLICT')
    t.equal(res.json().field, field)
  }
  const elsewhere = await ctx.call(other.token, 'POST', '/v1/members', { name: 'B', phone, externalId: 'X-1', cardNumber: 'C-1' }, { 'idempotency-key': idemKey() })
  t.equal(elsewhere.statusCode, 201, 'another program may hold the same identifiers')
})

t.test('lookup by phone (any form), externalId or cardNumber', async (t) => {
  const phone = uniqueVnMobile()
  const m = await ctx.enrol(program.token, { phone, externalId: 'LOOK-1', cardNumber: 'LOOK-C' })
  for (const query of [`phone=${phone}`, `phone=${encodeURIComponent(phone.replace(/^0/, '+84'))}`, 'externalId=LOOK-1', 'cardNumber=LOOK-C']) {
    const res = await ctx.call(program.token, 'GET', `/v1/members?${query}`)
    t.equal(res.statusCode, 200, query)
    t.same(res.json().data.map((x: { id: string }) => x.id), [m.id], query)
  }
  t.same((await ctx.call(program.token, 'GET', '/v1/members?externalId=nobody')).json(), { data: [], nextCursor: null })
  t.equal((await ctx.call(program.token, 'GET', '/v1/members?phone=abc')).statusCode, 400)
})

t.test('listing pages with a cursor without gaps or repeats', async (t) => {
  const p = await ctx.createProgram()
  const ids = []
  for (let i = 0; i < 5; i++) ids.push((await ctx.enrol(p.token)).id)
  const seen: string[] = []
  let cursor: string | null = null
  do {
    const res = await ctx.call(p.token, 'GET', `/v1/members?limit=2${cursor ? `&cursor=${cursor}` : ''}`)
    const body = res.json()
    t.ok(body.data.length <= 2)
    seen.push(...body.data.map((m: { id: string }) => m.id))
    cursor = body.nextCursor
  } while (cursor)
  t.same(seen, ids, 'every member once, in enrolment order')
})

t.test('PATCH updates fields, clears optional ones with null and keeps uniqueness', async (t) => {
  const a = await ctx.enrol(program.token, { email: 'a@example.com', cardNumber: 'P-A' })
  const b = await ctx.enrol(program.token, { cardNumber: 'P-B' })
  const res = await ctx.call(program.token, 'PATCH', `/v1/members/${a.id}`, {
    name: 'Renamed',
    email: null,
    consents: { smsMarketing: { granted: true } },
    doNotContact: true,
  })
  t.equal(res.statusCode, 200)
  t.match(res.json(), { name: 'Renamed', email: null, doNotContact: true, cardNumber: 'P-A' })
  t.equal(res.json().consents.smsMarketing.granted, true)

  const dup = await ctx.call(program.token, 'PATCH', `/v1/members/${a.id}`, { cardNumber: 'P-B' })
  t.equal(dup.statusCode, 409)
  t.equal((await ctx.call(program.token, 'GET', `/v1/members/${b.id}`)).json().cardNumber, 'P-B')
  t.equal((await ctx.call(program.token, 'PATCH', `/v1/members/${a.id}`, { phone: 'nope' })).statusCode, 400)
})

t.test('erasure removes personal data, keeps the anonymous id, and records who did it', async (t) => {
  const m = await ctx.enrol(program.token, { email: 'gone@example.com', birthday: '1985-12-24', cardNumber: 'ERASE-1', externalId: 'ERASE-X' })
  const del = await ctx.call(program.token, 'DELETE', `/v1/members/${m.id}`)
  t.equal(del.statusCode, 204)

  const after = (await ctx.call(program.token, 'GET', `/v1/members/${m.id}`)).json()
  t.match(after, { id: m.id, name: null, phone: null, email: null, birthday: null, cardNumber: null, externalId: null, doNotContact: true })
  t.ok(after.erasedAt)
  t.equal(after.consents.smsMarketing.granted, false)
  t.same((await ctx.call(program.token, 'GET', `/v1/members?phone=${m.phone}`)).json().data, [], 'the phone no longer finds anyone')

  const { queryRows } = await import('../../src/db/client.js')
  const { sql } = await import('drizzle-orm')
  const [row] = await queryRows<{ erased_by: string; name: string | null }>(ctx.database.db, sql`select erased_by, name from members where id = ${m.id}`)
  t.match(row!.erased_by, /^llc_/, 'the erasing client is recorded')

  t.equal((await ctx.call(program.token, 'DELETE', `/v1/members/${m.id}`)).statusCode, 204, 'erasing twice is not an error')
  const patch = await ctx.call(program.token, 'PATCH', `/v1/members/${m.id}`, { name: 'Back' })
  t.equal(patch.statusCode, 409)
  t.equal(patch.json().code, 'MEMBER_ERASED')
  t.equal((await ctx.enrol(program.token, { phone: m.phone })).phone, m.phone, 'the number can enrol again as a new member')
})

t.test('program isolation: a client of program A gets 404 for every member of program B', async (t) => {
  const bMember = await ctx.enrol(other.token, { externalId: 'B-ONLY', cardNumber: 'B-CARD' })
  const paths = [
    ['GET', `/v1/members/${bMember.id}`],
    ['PATCH', `/v1/members/${bMember.id}`, { name: 'Stolen' }],
    ['DELETE', `/v1/members/${bMember.id}`],
  ] as const
  for (const [method, url, body] of paths) {
    const res = await ctx.call(program.token, method, url, body)
    t.equal(res.statusCode, 404, `${method} ${url}`)
    t.equal(res.json().code, 'NOT_FOUND')
  }
  for (const q of ['externalId=B-ONLY', 'cardNumber=B-CARD', `phone=${encodeURIComponent(bMember.phone)}`]) {
    t.same((await ctx.call(program.token, 'GET', `/v1/members?${q}`)).json().data, [], `lookup ${q} finds nothing of B`)
  }
  const still = (await ctx.call(other.token, 'GET', `/v1/members/${bMember.id}`)).json()
  t.match(still, { name: 'Nguyễn Văn A', erasedAt: null }, "B's member is untouched")
})

t.test('scopes: members:read reads but cannot write; balances:read cannot read members', async (t) => {
  const reader = await ctx.createClient(program.id, ['members:read'])
  const balances = await ctx.createClient(program.id, ['balances:read'])
  const m = await ctx.enrol(program.token)
  t.equal((await ctx.call(reader.token, 'GET', `/v1/members/${m.id}`)).statusCode, 200)
  t.equal((await ctx.call(reader.token, 'PATCH', `/v1/members/${m.id}`, { name: 'x' })).statusCode, 403)
  t.equal((await ctx.call(reader.token, 'DELETE', `/v1/members/${m.id}`)).statusCode, 403)
  t.equal((await ctx.call(balances.token, 'GET', `/v1/members/${m.id}`)).statusCode, 403)
  t.equal((await ctx.call(program.token, 'GET', `/v1/members/${m.id}`)).json().name, 'Nguyễn Văn A')
})

t.test('a member born today is enrolled wherever today has begun; tomorrow everywhere is refused', async (t) => {
  const other = await ctx.createProgram()
  const aheadToday = new Date(Date.now() + 14 * 3_600_000).toISOString().slice(0, 10) // UTC+14, Kiritimati
  const res = await ctx.call(other.token, 'POST', '/v1/members', { name: 'Newborn', phone: uniqueVnMobile(), birthday: aheadToday }, { 'idempotency-key': idemKey() })
  t.equal(res.statusCode, 201, `${aheadToday} is today in UTC+14`)
  t.equal(res.json().birthday, aheadToday)
  const later = new Date(Date.now() + 38 * 3_600_000).toISOString().slice(0, 10)
  const refused = await ctx.call(other.token, 'POST', '/v1/members', { name: 'Unborn', phone: uniqueVnMobile(), birthday: later }, { 'idempotency-key': idemKey() })
  t.equal(refused.statusCode, 400, `${later} has begun nowhere`)
  t.match(refused.json().errors, [{ path: 'body/birthday' }])
})
