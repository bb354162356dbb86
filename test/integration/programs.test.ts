import t from 'tap'
import { startTestApp } from '../helpers/app.js'
import { idemKey } from '../helpers/pos.js'

const ctx = await startTestApp(t)
const admin = await ctx.adminToken()

t.test('the admin creates a program; currency decides the exponent, zone and region default to Vietnam', async (t) => {
  const res = await ctx.call(admin, 'POST', '/v1/programs', { name: 'Phở 24', currency: 'VND' }, { 'idempotency-key': idemKey() })
  t.equal(res.statusCode, 201)
  const p = res.json()
  t.match(p, { name: 'Phở 24', currency: 'VND', currencyExponent: 0, timezone: 'Asia/Ho_Chi_Minh', country: 'VN', rules: {} })

  const usd = await ctx.call(admin, 'POST', '/v1/programs', { name: 'Diner', currency: 'USD', timezone: 'America/New_York', country: 'US' }, { 'idempotency-key': idemKey() })
  t.equal(usd.statusCode, 201)
  t.match(usd.json(), { currencyExponent: 2, timezone: 'America/New_York', country: 'US' })

  const got = await ctx.call(admin, 'GET', `/v1/programs/${p.id}`)
  t.same(got.json(), p)
})

t.test('a time zone reads back as it was given, in its IANA spelling', async (t) => {
  for (const [given, shown] of <[string, string][]>[
    ['Asia/Ho_Chi_Minh', 'Asia/Ho_Chi_Minh'], // ICU alone calls it Asia/Saigon
    ['Europe/Kyiv', 'Europe/Kyiv'], // ICU alone calls it Europe/Kiev
    ['Asia/Saigon', 'Asia/Saigon'], // an IANA link is kept as the caller chose it
    ['asia/bangkok', 'Asia/Bangkok'], // only the letter case is corrected
    ['utc', 'UTC'],
  ]) {
    const res = await ctx.call(admin, 'POST', '/v1/programs', { name: 'Zone', currency: 'VND', timezone: given }, { 'idempotency-key': idemKey() })
    t.equal(res.statusCode, 201, given)
    t.equal(res.json().timezone, shown, `${given} is created as ${shown}`)
    const got = await ctx.call(admin, 'GET', `/v1/programs/${res.json().id}`)
    t.equal(got.json().timezone, shown, `${given} reads back as ${shown}`)
    const patched = await ctx.call(admin, 'PATCH', `/v1/programs/${res.json().id}`, { timezone: given })
    t.equal(patched.json().timezone, shown, `${given} is patched as ${shown}`)
  }
})

t.test('program input is validated', async (t) => {
  const cases: [Record<string, unknown>, string][] = [
    [{ name: 'x', currency: 'XYZ' }, 'unknown currency'],
    [{ name: 'x', currency: 'vnd' }, 'lower-case currency'],
    [{ name: 'x', currency: 'VND', timezone: 'Mars/Olympus' }, 'unknown zone'],
    [{ name: 'x', currency: 'VND', country: 'ZZ' }, 'unknown region'],
    [{ name: '', currency: 'VND' }, 'empty name'],
    [{ currency: 'VND' }, 'missing name'],
    [{ name: 'x', currency: 'VND', colour: 'red' }, 'unknown field'],
  ]
  for (const [body, why] of cases) {
    const res = await ctx.call(admin, 'POST', '/v1/programs', body, { 'idempotency-key': idemKey() })
    t.equal(res.statusCode, 400, why)
    t.equal(res.json().code, 'VALIDATION_FAILED', why)
    t.ok(res.json().errors.length > 0, `${why}: names the field`)
  }
})

t.test('PATCH changes name, zone and region; the currency is fixed', async (t) => {
  const p = await ctx.createProgram()
  const res = await ctx.call(admin, 'PATCH', `/v1/programs/${p.id}`, { name: 'Renamed', timezone: 'Asia/Bangkok' })
  t.equal(res.statusCode, 200)
  t.match(res.json(), { name: 'Renamed', timezone: 'Asia/Bangkok', currency: 'VND' })
  const currency = await ctx.call(admin, 'PATCH', `/v1/programs/${p.id}`, { currency: 'USD' })
  t.equal(currency.statusCode, 400)
  t.match(currency.json().detail, /currency/)
})

t.test('a program:manage client manages its own program and cannot see another', async (t) => {
  const a = await ctx.createProgram()
  const b = await ctx.createProgram()
  t.equal((await ctx.call(a.token, 'GET', `/v1/programs/${a.id}`)).statusCode, 200)
  t.equal((await ctx.call(a.token, 'PATCH', `/v1/programs/${a.id}`, { name: 'Mine' })).statusCode, 200)

  for (const [method, url, body] of [
    ['GET', `/v1/programs/${b.id}`],
    ['PATCH', `/v1/programs/${b.id}`, { name: 'Hijacked' }],
    ['GET', `/v1/programs/${b.id}/clients`],
    ['POST', `/v1/programs/${b.id}/clients`, { name: 'x', scopes: ['pos'] }],
  ] as const) {
    const res = await ctx.call(a.token, method, url, body, { 'idempotency-key': idemKey() })
    t.equal(res.statusCode, 404, `${method} ${url}`)
  }
  t.equal((await ctx.call(admin, 'GET', `/v1/programs/${b.id}`)).json().name, 'Test program', 'program B is unchanged')
  t.equal((await ctx.call(a.token, 'GET', '/v1/programs')).statusCode, 403, 'only the admin lists programs')
})

t.test('clients: the secret is shown once, scopes are checked, revocation is idempotent and program-bound', async (t) => {
  const a = await ctx.createProgram()
  const b = await ctx.createProgram()
  const created = await ctx.call(a.token, 'POST', `/v1/programs/${a.id}/clients`, { name: 'Till 3', scopes: ['pos', 'pos'] }, { 'idempotency-key': idemKey() })
  t.equal(created.statusCode, 201)
  const client = created.json()
  t.match(client.clientSecret, /^lls_/)
  t.same(client.scopes, ['pos'], 'duplicates collapse')

  const list = (await ctx.call(a.token, 'GET', `/v1/programs/${a.id}/clients`)).json()
  t.notOk(JSON.stringify(list).includes(client.clientSecret), 'the list never shows the secret')

  const adminScope = await ctx.call(a.token, 'POST', `/v1/programs/${a.id}/clients`, { name: 'x', scopes: ['admin'] }, { 'idempotency-key': idemKey() })
  t.equal(adminScope.statusCode, 400, 'no program client can hold admin')

  t.equal((await ctx.call(b.token, 'DELETE', `/v1/programs/${b.id}/clients/${client.clientId}`)).statusCode, 404, "another program cannot revoke A's client")
  t.equal((await ctx.call(a.token, 'DELETE', `/v1/programs/${a.id}/clients/${client.clientId}`)).statusCode, 204)
  t.equal((await ctx.call(a.token, 'DELETE', `/v1/programs/${a.id}/clients/${client.clientId}`)).statusCode, 204, 'revoking twice is fine')
  t.equal((await ctx.call(a.token, 'DELETE', `/v1/programs/${a.id}/clients/llc_nope`)).statusCode, 404)
})

t.test('programs list pages with a cursor', async (t) => {
  for (let i = 0; i < 3; i++) await ctx.createProgram({ name: `Paged ${i}` })
  const first = (await ctx.call(admin, 'GET', '/v1/programs?limit=2')).json()
  t.equal(first.data.length, 2)
  t.ok(first.nextCursor)
  const second = (await ctx.call(admin, 'GET', `/v1/programs?limit=2&cursor=${first.nextCursor}`)).json()
  t.ok(second.data.length >= 1)
  t.notOk(second.data.some((p: { id: string }) => first.data.some((q: { id: string }) => q.id === p.id)), 'pages do not overlap')
  const bad = await ctx.call(admin, 'GET', '/v1/programs?cursor=bm90LWEtdXVpZA')
  t.equal(bad.statusCode, 400)
})
