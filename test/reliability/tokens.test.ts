import t from 'tap'
import { generateKeyPairSync, createPublicKey } from 'node:crypto'
import { SignJWT, UnsecuredJWT, base64url, exportJWK } from 'jose'
import { startTestApp } from '../helpers/app.js'
import { changedTables, fingerprint } from '../helpers/fingerprint.js'
import { idemKey, Till, VND_RULES } from '../helpers/pos.js'

// Malicious and stale tokens are all refused with 401 and write nothing; each client has its
// own request budget (429 + Retry-After past it); the token endpoint stops a client id and
// address pair after repeated wrong secrets, whatever it sends next.
const ctx = await startTestApp(t, { rateLimit: { perMinute: 0, tokenFailuresPerMinute: 3 } })
const program = await ctx.createProgram({ rules: VND_RULES })
const till = new Till(ctx, program.token)
const member = await ctx.enrol(program.token)
const pos = await ctx.createClient(program.id, ['pos'], 'till')
const keys = ctx.app.keys
const { issuer, audience } = ctx.app.config.tokens
const now = Math.floor(Date.now() / 1000)

function purchase(token: string) {
  return ctx.call(token, 'POST', '/v1/purchases', { memberId: member.id, storeId: 'S1', terminalId: 'T1', externalId: idemKey('tok'), currency: 'VND', lines: [{ sku: 'A', name: 'A', quantity: 1, unitPrice: '10000' }], tenders: [{ type: 'cash', amount: '10000' }] }, { 'idempotency-key': idemKey('tok') })
}

/** A token signed with the service's own key but the given claims and header. */
function signed(claims: Record<string, unknown>, header: Record<string, unknown> = {}) {
  const { iat, exp, ...rest } = claims
  return new SignJWT({ scope: 'pos', pid: program.id, ...rest })
    .setProtectedHeader({ alg: keys.alg, kid: keys.kid, typ: 'at+jwt', ...header })
    .setIssuer((claims.iss as string) ?? issuer)
    .setAudience((claims.aud as string) ?? audience)
    .setSubject((claims.sub as string) ?? pos.clientId)
    .setIssuedAt((iat as number) ?? now)
    .setExpirationTime((exp as number) ?? now + 600)
    .sign(keys.privateKey)
}

t.test('forged, stale and misdirected tokens are refused and write nothing', async (t) => {
  const publicJwk = keys.jwks.keys[0]!
  const publicPem = createPublicKey(keys.privateKey).export({ type: 'spki', format: 'pem' }).toString()
  const good = pos.token
  const [h, p, sig] = good.split('.')
  const payload = JSON.parse(Buffer.from(p!, 'base64url').toString())
  const otherKey = generateKeyPairSync('ed25519').privateKey
  const cases: [string, string][] = [
    ['alg none', new UnsecuredJWT({ ...payload }).setIssuer(issuer).setAudience(audience).setSubject(pos.clientId).setExpirationTime('10m').encode()],
    ['alg none with the typ and kid of a real token', `${base64url.encode(JSON.stringify({ alg: 'none', typ: 'at+jwt', kid: keys.kid }))}.${p}.`],
    ['HS256 signed with the public key (PEM)', await new SignJWT(payload).setProtectedHeader({ alg: 'HS256', typ: 'at+jwt', kid: keys.kid }).sign(new TextEncoder().encode(publicPem))],
    ['HS256 signed with the public key (JWK x)', await new SignJWT(payload).setProtectedHeader({ alg: 'HS256', typ: 'at+jwt', kid: keys.kid }).sign(new TextEncoder().encode(String(publicJwk.x)))],
    ['expired', await signed({ iat: now - 7200, exp: now - 3600 })],
    ['not yet valid', await signed({ nbf: now + 3600 })],
    ['issued in the future', await signed({ iat: now + 3600, exp: now + 7200, nbf: now + 3600 })],
    ['wrong issuer', await signed({ iss: 'https://evil.example' })],
    ['wrong audience', await signed({ aud: 'another-api' })],
    ['tampered payload (scope raised to admin)', `${h}.${base64url.encode(JSON.stringify({ ...payload, scope: 'admin pos program:manage' }))}.${sig}`],
    ['tampered payload (other program)', `${h}.${base64url.encode(JSON.stringify({ ...payload, pid: '00000000-0000-4000-8000-000000000000' }))}.${sig}`],
    ['signature of another key under our kid', await new SignJWT(payload).setProtectedHeader({ alg: 'EdDSA', typ: 'at+jwt', kid: keys.kid }).sign(otherKey)],
    ['embedded JWK header', await new SignJWT(payload).setProtectedHeader({ alg: 'EdDSA', typ: 'at+jwt', jwk: await exportJWK(createPublicKey(otherKey)) }).sign(otherKey)],
    ['wrong typ', await signed({}, { typ: 'JWT' })],
    ['unknown client', await signed({ sub: 'llc_nobody' })],
    ['admin client id in a program token', await signed({ sub: ctx.app.config.admin.clientId, scope: 'admin' })],
    ['signature stripped', `${h}.${p}.`],
    ['not a JWT', 'abc.def.ghi'],
  ]
  const before = await fingerprint(ctx.database, { programIds: [program.id] })
  for (const [label, token] of cases) {
    const res = await purchase(token)
    t.equal(res.statusCode, 401, `${label}: ${res.statusCode}`)
    t.match(res.headers['content-type'], /^application\/problem\+json/, `${label}: problem+json`)
    t.equal(res.json().code, 'UNAUTHORIZED', label)
    t.match(String(res.headers['www-authenticate']), /^Bearer/, `${label}: WWW-Authenticate`)
  }
  t.same(changedTables(before, await fingerprint(ctx.database, { programIds: [program.id] })), [], 'no refused token wrote anything')
  t.equal((await purchase(good)).statusCode, 201, 'the genuine token still works')
})

t.test("a revoked client's tokens stop at once, and it cannot get new ones", async (t) => {
  const doomed = await ctx.createClient(program.id, ['pos'], 'doomed')
  t.equal((await purchase(doomed.token)).statusCode, 201)
  const del = await ctx.call(program.token, 'DELETE', `/v1/programs/${program.id}/clients/${doomed.clientId}`)
  t.equal(del.statusCode, 204)
  const res = await purchase(doomed.token)
  t.equal(res.statusCode, 401, 'its existing token is refused')
  const again = await ctx.inject({ method: 'POST', url: '/v1/oauth/token', payload: { grant_type: 'client_credentials', client_id: doomed.clientId, client_secret: doomed.clientSecret } })
  t.equal(again.statusCode, 401, 'no new token for the right secret')
})

t.test('the token endpoint stops a client id and address after repeated wrong secrets', async (t) => {
  const victim = await ctx.createClient(program.id, ['pos'], 'guessed')
  const attempt = (secret: string, remoteAddress = '203.0.113.7', clientId = victim.clientId) =>
    ctx.inject({ method: 'POST', url: '/v1/oauth/token', remoteAddress, payload: { grant_type: 'client_credentials', client_id: clientId, client_secret: secret } })
  for (let i = 0; i < 3; i++) t.equal((await attempt(`guess-${i}`)).statusCode, 401, `wrong secret ${i + 1}: 401`)
  const locked = await attempt(victim.clientSecret)
  t.equal(locked.statusCode, 429, 'past the limit even the right secret is refused from that address')
  t.match(locked.headers['content-type'], /^application\/json/, 'an RFC 6749 error, for OAuth clients')
  t.equal(locked.json().error, 'slow_down')
  t.ok(Number(locked.headers['retry-after']) > 0 && Number(locked.headers['retry-after']) <= 60, `Retry-After ${locked.headers['retry-after']}`)
  t.notOk(locked.json().access_token, 'no token issued')
  t.equal((await attempt(victim.clientSecret, '198.51.100.9')).statusCode, 200, 'the same client from another address is not locked out')
  t.equal((await attempt(pos.clientSecret, '203.0.113.7', pos.clientId)).statusCode, 200, 'another client from the same address is not locked out')
})

t.test('each client has its own request budget: 429 problem with Retry-After, and the refused write is not done', async (t) => {
  const limited = await startTestApp(t, { rateLimit: { perMinute: 5, tokenFailuresPerMinute: 10 } })
  const p = await limited.createProgram({ rules: VND_RULES })
  const m = await limited.enrol(p.token)
  const busy = await limited.createClient(p.id, ['pos', 'balances:read'], 'busy')
  const quiet = await limited.createClient(p.id, ['balances:read'], 'quiet')
  const answers = []
  for (let i = 0; i < 5; i++) answers.push(await limited.call(busy.token, 'GET', `/v1/members/${m.id}/balances`))
  t.same(answers.map((a) => a.statusCode), [200, 200, 200, 200, 200], 'within the budget')
  // The IETF fields (draft-ietf-httpapi-ratelimit-headers): what is left, for how long, of which quota.
  const field = /^"default";r=(\d+);t=(\d+)$/
  t.same(answers.map((a) => Number(field.exec(String(a.headers.ratelimit))?.[1])), [4, 3, 2, 1, 0], 'RateLimit counts down what is left')
  for (const a of answers) {
    const reset = Number(field.exec(String(a.headers.ratelimit))?.[2])
    t.ok(reset >= 1 && reset <= 60, `t=${reset}: seconds to the window's end`)
    t.equal(a.headers['ratelimit-policy'], '"default";q=5;w=60')
    t.same(Object.keys(a.headers).filter((h) => h.startsWith('x-ratelimit')), [], 'no x-ratelimit-* beside them')
  }
  const key = idemKey('over')
  const over = await limited.call(busy.token, 'POST', '/v1/purchases', { memberId: m.id, storeId: 'S1', terminalId: 'T1', externalId: 'OVER-1', currency: 'VND', lines: [{ sku: 'A', name: 'A', quantity: 1, unitPrice: '10000' }], tenders: [{ type: 'cash', amount: '10000' }] }, { 'idempotency-key': key })
  t.equal(over.statusCode, 429)
  t.match(over.headers['content-type'], /^application\/problem\+json/)
  t.equal(over.json().code, 'RATE_LIMITED')
  t.ok(Number(over.headers['retry-after']) >= 1, `Retry-After: ${over.headers['retry-after']}`)
  t.match(over.headers.ratelimit, /^"default";r=0;t=\d+$/, 'the refusal says nothing is left')
  t.equal(over.headers['ratelimit-policy'], '"default";q=5;w=60')
  t.equal((await limited.inject({ method: 'GET', url: '/health/ready' })).headers.ratelimit, undefined, 'a probe is not counted and says no quota')
  t.equal((await limited.call(quiet.token, 'GET', `/v1/members/${m.id}/balances`)).statusCode, 200, 'another client of the same program is unaffected')
  t.equal((await limited.inject({ method: 'GET', url: '/health/ready' })).statusCode, 200, 'probes are never limited')
  const purchases = await limited.call(p.token, 'GET', `/v1/members/${m.id}/activity`)
  t.equal(purchases.json().data.filter((a: { kind?: string }) => a.kind === 'purchase').length, 0, 'the purchase refused with 429 was not posted')
  const balances = await new Till(limited, p.token).balances(m.id)
  t.equal(balances.points.balance, 0, 'no points were earned by it')
})
