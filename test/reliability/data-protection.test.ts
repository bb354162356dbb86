import t from 'tap'
import { Writable } from 'node:stream'
import { buildCheckedApp } from '../helpers/contract-hooks.js'
import { openTestDatabase, testConfig, TestApp, startTestApp } from '../helpers/app.js'
import { rowsContaining } from '../helpers/fingerprint.js'
import { documentOf, operationsOf, urlOf } from '../helpers/openapi-requests.js'
import { idemKey, Till, VND_RULES } from '../helpers/pos.js'

// Personal data never reaches the logs, erasure removes it from every row that copied it, and
// secrets and private keys are never returned after the response that created them.

t.test('personal data never appears in the logs, even at trace level and in a failed query', async (t) => {
  const lines: string[] = []
  const stream = new Writable({
    write(chunk, _enc, done) {
      lines.push(String(chunk))
      done()
    },
  })
  const database = await openTestDatabase()
  const app = await buildCheckedApp(t, testConfig({ logLevel: 'trace' }), { database, logStream: stream })
  await app.ready()
  t.teardown(async () => {
    await app.close()
    await database.close()
  })
  const ctx = new TestApp(app, database)
  const program = await ctx.createProgram({ rules: VND_RULES })
  const till = new Till(ctx, program.token)
  const pii = { name: 'Phạm Thị Hồng Nhung', phone: '0912345671', e164: '+84912345671', email: 'nhung.pham@example.vn', birthday: '1991-02-03', card: 'LOYAL-778899', external: 'CRM-5566' }
  const enrolled = await ctx.call(program.token, 'POST', '/v1/members', { name: pii.name, phone: pii.phone, email: pii.email, birthday: pii.birthday, cardNumber: pii.card, externalId: pii.external, consents: { smsMarketing: { granted: true } } }, { 'idempotency-key': idemKey() })
  t.equal(enrolled.statusCode, 201)
  const id = enrolled.json().id
  await ctx.call(program.token, 'GET', `/v1/members?phone=${encodeURIComponent(pii.phone)}`)
  await ctx.call(program.token, 'GET', `/v1/members?cardNumber=${pii.card}`)
  await ctx.call(program.token, 'PATCH', `/v1/members/${id}`, { email: `new.${pii.email}` })
  t.equal((await ctx.call(program.token, 'POST', '/v1/members', { name: pii.name, phone: pii.phone }, { 'idempotency-key': idemKey() })).statusCode, 409, 'a duplicate phone is refused')
  await ctx.call(program.token, 'POST', '/v1/members', { name: pii.name, phone: `${pii.phone}999999`, email: 'not-an-email' }, { 'idempotency-key': idemKey() })
  await ctx.call(program.token, 'POST', '/v1/purchases', { phone: pii.phone, storeId: 'S1', terminalId: 'T1', externalId: 'PII-1', currency: 'VND', lines: [{ sku: 'A', name: 'A', quantity: 1, unitPrice: '100000' }], tenders: [{ type: 'cash', amount: '100000' }] }, { 'idempotency-key': idemKey() })
  await till.topUp(id, '50000')
  await ctx.inject({ method: 'POST', url: '/v1/members', payload: { name: pii.name, phone: pii.phone }, headers: { authorization: `Bearer ${program.token}`, 'idempotency-key': idemKey(), cookie: `session=${pii.email}` } })
  // A query that fails with the personal data in its parameters: the database goes away mid-request.
  await database.close()
  const failed = await ctx.call(program.token, 'POST', '/v1/members', { name: `${pii.name} II`, phone: '0912345672', email: `two.${pii.email}` }, { 'idempotency-key': idemKey() })
  t.ok(failed.statusCode >= 500, `a failing enrolment answers ${failed.statusCode}`)

  const log = lines.join('')
  // A line per request answered (plugins/request-log.ts), business events, the failure: the check below reads real logs.
  t.ok(lines.length > 12, `${lines.length} log lines were written`)
  t.match(log, /"msg":"request completed"/, 'the requests were logged')
  t.match(log, /"level":50/, 'the failure was logged as an error')
  t.match(log, /"err":\{/, 'with the error')
  for (const [what, value] of Object.entries({ ...pii, phoneDigits: pii.e164.slice(1), email2: `two.${pii.email}`, phone2: '0912345672', name2: `${pii.name} II` })) {
    t.notOk(log.includes(value), `the ${what} is not in the logs`)
  }
})

t.test('erasure removes the personal data from every row of the program that holds it', async (t) => {
  const ctx = await startTestApp(t)
  const program = await ctx.createProgram({ rules: VND_RULES })
  const till = new Till(ctx, program.token)
  const pii = { name: 'Đỗ Văn Quang', phone: '0987111222', e164: '+84987111222', email: 'quang.do@example.vn', birthday: '1985-12-24', card: 'ERASE-CARD-42', external: 'ERASE-EXT-42' }
  const res = await ctx.call(program.token, 'POST', '/v1/members', { name: pii.name, phone: pii.phone, email: pii.email, birthday: pii.birthday, cardNumber: pii.card, externalId: pii.external, consents: { smsMarketing: { granted: true }, emailMarketing: { granted: true } } }, { 'idempotency-key': idemKey() })
  const member = res.json()
  await till.topUp(member.id, '200000')
  // Purchases found by phone and by card copy whatever the purchase and receipt modules copy.
  for (const by of [{ phone: pii.phone }, { cardNumber: pii.card }, { memberId: member.id }]) {
    const p = await ctx.call(program.token, 'POST', '/v1/purchases', { ...by, storeId: 'S1', terminalId: 'T1', externalId: idemKey('erase'), currency: 'VND', lines: [{ sku: 'A', name: 'A', quantity: 1, unitPrice: '100000' }], tenders: [{ type: 'storedValue', amount: '50000' }, { type: 'cash', amount: '50000' }] }, { 'idempotency-key': idemKey() })
    t.equal(p.statusCode, 201, `purchase by ${Object.keys(by)[0]}`)
  }
  const needles = [pii.name, pii.e164, pii.email, pii.birthday, pii.card, pii.external]
  t.ok((await rowsContaining(ctx.database, [program.id], needles)).length > 0, 'before erasure the data is found (the scan works)')

  t.equal((await ctx.call(program.token, 'DELETE', `/v1/members/${member.id}`)).statusCode, 204)
  const left = await rowsContaining(ctx.database, [program.id], needles)
  t.same(left, [], 'no row of any table still holds the name, phone, email, birthday, card or external id')
  const after = (await ctx.call(program.token, 'GET', `/v1/members/${member.id}`)).json()
  t.same([after.name, after.phone, after.email, after.birthday, after.cardNumber, after.externalId], [null, null, null, null, null, null])
  t.ok(after.erasedAt, 'the erasure is recorded')
  t.equal((await till.verify()).ok, true, 'the anonymous ledger still verifies')
  t.equal((await ctx.call(program.token, 'GET', `/v1/members?phone=${pii.phone}`)).json().data.length, 0, 'the phone finds nobody')
})

t.test('client secrets, their hashes and private keys are never returned after creation', async (t) => {
  const ctx = await startTestApp(t)
  const program = await ctx.createProgram({ rules: VND_RULES })
  const created = await ctx.call(await ctx.adminToken(), 'POST', `/v1/programs/${program.id}/clients`, { name: 'secretive', scopes: ['pos'] }, { 'idempotency-key': idemKey() })
  const { clientId, clientSecret } = created.json()
  t.ok(clientSecret && clientSecret.length >= 32, 'the secret is shown once, at creation')
  const member = await ctx.enrol(program.token)
  const known = { programId: program.id, clientId, memberId: member.id }
  const doc = await documentOf(ctx.app)
  let reads = 0
  const forbidden = [clientSecret, 'scrypt$', 'PRIVATE KEY', ctx.app.config.admin.clientSecret]
  for (const op of operationsOf(doc).filter((o) => o.method === 'GET')) {
    for (const token of [await ctx.adminToken(), program.token]) {
      const res = await ctx.call(token, 'GET', urlOf(op, known))
      reads += 1
      for (const f of forbidden) t.notOk(res.body.includes(f), `${op.id} does not return ${f === clientSecret ? 'the client secret' : f}`)
      if (op.path.endsWith('jwks.json')) for (const k of res.json().keys) t.notOk('d' in k || 'p' in k || 'q' in k, 'the JWKS holds public keys only')
    }
  }
  t.ok(reads >= 20, `${reads} reads checked`)
  const list = (await ctx.call(program.token, 'GET', `/v1/programs/${program.id}/clients`)).json()
  t.ok(list.data.some((c: { clientId: string }) => c.clientId === clientId), 'the client is listed')
  t.ok(list.data.every((c: Record<string, unknown>) => !('clientSecret' in c) && !('secretHash' in c)), 'without secret or hash')
})
