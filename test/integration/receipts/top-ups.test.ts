import t from 'tap'
import { sql } from 'drizzle-orm'
import { compactVerify, createLocalJWKSet, jwtVerify } from 'jose'
import { pgErrorOf } from '../../../src/shared/errors.js'
import { startTestApp } from '../../helpers/app.js'
import { idemKey, VND_RULES } from '../../helpers/pos.js'

const ctx = await startTestApp(t)
const vnd = await ctx.createProgram({ name: 'Cà phê Sáng', rules: VND_RULES })
const other = await ctx.createProgram({ name: 'Other shop' })

const jwks = async () => createLocalJWKSet((await ctx.inject({ method: 'GET', url: '/.well-known/jwks.json' })).json())

async function topUp(memberId: string, amount: string, extra: Record<string, unknown> = {}, key = idemKey('t')) {
  const res = await ctx.call(vnd.token, 'POST', `/v1/members/${memberId}/stored-value/top-ups`, { amount, tender: 'cash', storeId: 'HN-01', terminalId: 'T1', ...extra }, { 'idempotency-key': key })
  if (res.statusCode !== 201) throw new Error(`top-up failed: ${res.statusCode} ${res.body}`)
  return res.json()
}

t.test('a top-up answers with its receipt: number and public link', async (t) => {
  const m = await ctx.enrol(vnd.token, { phone: '0912345678' })
  const body = await topUp(m.id, '125000')
  t.match(body.receipt, { id: /^[0-9a-f-]{36}$/, number: /^\d{6}-[0-9A-Z]{5}-[0-9A-Z]{5}$/, url: /^https:\/\/receipts\.example\.test\/r\/[A-Za-z0-9_-]{16}$/ })

  const json = await ctx.call(vnd.token, 'GET', `/v1/receipts/${body.receipt.id}`)
  t.equal(json.statusCode, 200)
  t.match(json.headers['content-type'], /application\/json/)
  t.equal(json.headers.vary, 'Accept')
  const r = json.json()
  t.match(r, {
    id: body.receipt.id,
    number: body.receipt.number,
    kind: 'top_up',
    status: 'completed',
    language: 'vi',
    program: { id: vnd.id, name: 'Cà phê Sáng' },
    store: { id: 'HN-01' },
    terminalId: 'T1',
    member: { id: m.id, phone: '+84******678' },
    entryId: body.id,
    currency: 'VND',
    totals: { total: '125000' },
    tenders: [{ type: 'cash', amount: '125000' }],
    storedValue: { toppedUp: '125000', balanceAfter: '125000' },
    topUp: { tender: 'cash', reference: null },
    links: { public: body.receipt.url, jws: `/v1/receipts/${body.receipt.id}/jws` },
  })
  t.equal(r.sms, `Ca phe Sang: Nap the 125.000 VND. So du the 125.000 VND. Chi tiet: ${body.receipt.url}`)

  const html = await ctx.call(vnd.token, 'GET', `/v1/receipts/${body.receipt.id}`, undefined, { accept: 'text/html' })
  t.equal(html.statusCode, 200)
  t.match(html.headers['content-type'], /^text\/html/)
  t.match(html.headers['content-security-policy'], /default-src 'none'/)
  t.ok(html.body.includes('<span class="amt">125.000 ₫</span>'), 'the amount, formatted')
  t.ok(html.body.includes('Biên nhận nạp tiền'))

  const text = await ctx.call(vnd.token, 'GET', `/v1/receipts/${body.receipt.id}`, undefined, { accept: 'text/plain' })
  t.equal(text.statusCode, 200)
  t.match(text.headers['content-type'], /^text\/plain/)
  t.equal(text.body, r.sms)
  t.ok(text.body.length <= 160)

  const refused = await ctx.call(vnd.token, 'GET', `/v1/receipts/${body.receipt.id}`, undefined, { accept: 'image/png' })
  t.equal(refused.statusCode, 406)
  t.equal(refused.json().code, 'NOT_ACCEPTABLE')
})

t.test('the balance after is the balance after this top-up, and a retried top-up keeps its one receipt', async (t) => {
  const m = await ctx.enrol(vnd.token)
  await topUp(m.id, '100000')
  const key = idemKey('t')
  const first = await topUp(m.id, '50000', {}, key)
  const replay = await ctx.call(vnd.token, 'POST', `/v1/members/${m.id}/stored-value/top-ups`, { amount: '50000', tender: 'cash', storeId: 'HN-01', terminalId: 'T1' }, { 'idempotency-key': key })
  t.equal(replay.headers['idempotent-replayed'], 'true')
  t.same(replay.json().receipt, first.receipt)
  const list = (await ctx.call(vnd.token, 'GET', `/v1/receipts?memberId=${m.id}`)).json()
  t.equal(list.data.length, 2, 'two top-ups, two receipts')
  t.same(list.data.map((x: { storedValue: { balanceAfter: string } }) => x.storedValue.balanceAfter), ['150000', '100000'], 'newest first')
})

t.test('the JWS verifies offline with the published keys; a tampered receipt does not', async (t) => {
  const m = await ctx.enrol(vnd.token)
  const body = await topUp(m.id, '200000')
  const res = await ctx.call(vnd.token, 'GET', `/v1/receipts/${body.receipt.id}/jws`)
  t.equal(res.statusCode, 200)
  const { jws, kid, alg } = res.json()
  t.equal(alg, 'EdDSA')
  const keySet = await jwks()
  const { payload, protectedHeader } = await jwtVerify(jws, keySet, { issuer: 'loyalty-ledger', typ: 'receipt+jwt' })
  t.equal(protectedHeader.kid, kid)
  t.equal(payload.sub, body.receipt.id)
  const receipt = (await ctx.call(vnd.token, 'GET', `/v1/receipts/${body.receipt.id}`)).json()
  const { links: _links, sms: _sms, ...document } = receipt
  t.same(payload.receipt, document, 'the signed content is the receipt')

  // Raise the amount in the payload, keep the signature.
  const [header, encoded, signature] = jws.split('.')
  const claims = JSON.parse(Buffer.from(encoded, 'base64url').toString('utf8'))
  claims.receipt.totals.total = '2000000'
  const tampered = [header, Buffer.from(JSON.stringify(claims)).toString('base64url'), signature].join('.')
  await t.rejects(compactVerify(tampered, keySet), { code: 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED' })

  const bare = await ctx.call(vnd.token, 'GET', `/v1/receipts/${body.receipt.id}/jws`, undefined, { accept: 'application/jose' })
  t.equal(bare.headers['content-type'], 'application/jose')
  t.equal(bare.body, jws, 'Ed25519 is deterministic: the same receipt, the same JWS')

  // The receipt JWS is not an access token.
  const asToken = await ctx.call(jws, 'GET', `/v1/receipts/${body.receipt.id}`)
  t.equal(asToken.statusCode, 401)
})

t.test('the public link shows the receipt without authentication, and nothing else', async (t) => {
  const m = await ctx.enrol(vnd.token)
  const body = await topUp(m.id, '75000')
  const path = new URL(body.receipt.url).pathname
  const page = await ctx.inject({ method: 'GET', url: path })
  t.equal(page.statusCode, 200)
  t.match(page.headers['content-type'], /^text\/html/)
  t.equal(page.headers['referrer-policy'], 'no-referrer')
  t.equal(page.headers['x-robots-tag'], 'noindex, nofollow')
  t.ok(page.body.includes('<span class="amt">75.000 ₫</span>'))
  t.ok(page.body.includes(`href="${path}/jws"`), 'links to its own signature')
  t.notOk(page.body.includes(m.id), 'no member id on the public page')

  const signed = await ctx.inject({ method: 'GET', url: `${path}/jws` })
  t.equal(signed.statusCode, 200)
  t.equal(signed.headers['content-type'], 'application/jose')
  const { payload } = await jwtVerify(signed.body, await jwks(), { issuer: 'loyalty-ledger', typ: 'receipt+jwt' })
  t.equal((payload.receipt as { id: string }).id, body.receipt.id)

  const unknown = await ctx.inject({ method: 'GET', url: '/r/AAAAAAAAAAAAAAAA' })
  t.equal(unknown.statusCode, 404)
  t.match(unknown.body, /not found/i)
  t.equal((await ctx.inject({ method: 'GET', url: '/r/short' })).statusCode, 400, 'malformed tokens are refused before any lookup')
  t.equal((await ctx.inject({ method: 'GET', url: `/v1/receipts/${body.receipt.id}` })).statusCode, 401, 'the API needs a token')
})

t.test('another program cannot read a receipt; scopes are checked', async (t) => {
  const m = await ctx.enrol(vnd.token)
  const body = await topUp(m.id, '10000')
  t.equal((await ctx.call(other.token, 'GET', `/v1/receipts/${body.receipt.id}`)).statusCode, 404)
  t.equal((await ctx.call(other.token, 'GET', `/v1/receipts/${body.receipt.id}/jws`)).statusCode, 404)
  const partner = await ctx.createClient(vnd.id, ['balances:read'])
  t.equal((await ctx.call(partner.token, 'GET', `/v1/receipts/${body.receipt.id}`)).statusCode, 200, 'a partner app with balances:read may show receipts')
  const manager = await ctx.createClient(vnd.id, ['program:manage'])
  t.equal((await ctx.call(manager.token, 'GET', `/v1/receipts/${body.receipt.id}`)).statusCode, 403)
})

t.test('receipts are immutable in the database', async (t) => {
  const m = await ctx.enrol(vnd.token)
  const body = await topUp(m.id, '10000')
  const refusal = (query: Promise<unknown>) => query.then(() => 'allowed', (err: unknown) => pgErrorOf(err))
  t.match(await refusal(ctx.database.db.execute(sql`update receipts set document = '{}' where id = ${body.receipt.id}::uuid`)), { code: 'LL200', message: /immutable/ })
  t.match(await refusal(ctx.database.db.execute(sql`delete from receipts where id = ${body.receipt.id}::uuid`)), { code: 'LL200', message: /immutable/ })
  const still = await ctx.call(vnd.token, 'GET', `/v1/receipts/${body.receipt.id}`)
  t.equal(still.json().totals.total, '10000')
})
