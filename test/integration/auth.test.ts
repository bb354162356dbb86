import t from 'tap'
import { generateKeyPairSync } from 'node:crypto'
import { SignJWT, UnsecuredJWT, decodeJwt, decodeProtectedHeader, createLocalJWKSet, jwtVerify } from 'jose'
import { ADMIN, startTestApp } from '../helpers/app.js'
import { idemKey } from '../helpers/pos.js'

const ctx = await startTestApp(t)
const program = await ctx.createProgram()

/** A token like the service's, but signed by a key it does not know or with a forged header. */
async function forge(payload: Record<string, unknown>, key = generateKeyPairSync('ed25519').privateKey, alg = 'EdDSA') {
  return new SignJWT({ scope: 'pos members:read', pid: program.id, ...payload })
    .setProtectedHeader({ alg, typ: 'at+jwt' })
    .setIssuer('loyalty-ledger')
    .setAudience('loyalty-ledger-api')
    .setSubject('llc_whatever')
    .setIssuedAt()
    .setExpirationTime('1h')
    .sign(key)
}

const memberList = (token: string) => ctx.call(token, 'GET', '/v1/members')

t.test('client credentials: JSON, form and HTTP Basic bodies all issue a usable token', async (t) => {
  const client = await ctx.createClient(program.id, ['members:read'])

  const json = await ctx.inject({ method: 'POST', url: '/v1/oauth/token', payload: { grant_type: 'client_credentials', client_id: client.clientId, client_secret: client.clientSecret } })
  t.equal(json.statusCode, 200)
  const body = json.json()
  t.equal(body.token_type, 'Bearer')
  t.equal(body.expires_in, 3600)
  t.equal(body.scope, 'members:read')
  t.equal(json.headers['cache-control'], 'no-store')

  const form = await ctx.inject({
    method: 'POST',
    url: '/v1/oauth/token',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    payload: new URLSearchParams({ grant_type: 'client_credentials', client_id: client.clientId, client_secret: client.clientSecret }).toString(),
  })
  t.equal(form.statusCode, 200)

  const basic = await ctx.inject({
    method: 'POST',
    url: '/v1/oauth/token',
    headers: { authorization: `Basic ${Buffer.from(`${client.clientId}:${client.clientSecret}`).toString('base64')}` },
    payload: { grant_type: 'client_credentials' },
  })
  t.equal(basic.statusCode, 200)

  const res = await memberList(body.access_token)
  t.equal(res.statusCode, 200, 'the token opens the endpoints its scope allows')
})

t.test('the token is an EdDSA JWT verifiable with the published JWKS', async (t) => {
  const token = await ctx.adminToken()
  const header = decodeProtectedHeader(token)
  t.equal(header.alg, 'EdDSA')
  t.ok(header.kid)
  const jwks = (await ctx.inject({ method: 'GET', url: '/.well-known/jwks.json' })).json()
  t.equal(jwks.keys.length, 1)
  t.notOk('d' in jwks.keys[0], 'no private part is published')
  const { payload } = await jwtVerify(token, createLocalJWKSet(jwks), { issuer: 'loyalty-ledger', audience: 'loyalty-ledger-api' })
  t.equal(payload.sub, ADMIN.clientId)
  t.equal(payload.scope, 'admin')
})

t.test('the token endpoint refuses bad credentials with 401 invalid_client', async (t) => {
  const client = await ctx.createClient(program.id, ['pos'])
  const cases: [string, string, string][] = [
    [client.clientId, 'lls_wrong', 'wrong secret'],
    ['llc_unknown', client.clientSecret, 'unknown client'],
    [ADMIN.clientId, 'not-the-admin-secret', 'wrong admin secret'],
  ]
  for (const [client_id, client_secret, why] of cases) {
    const res = await ctx.inject({ method: 'POST', url: '/v1/oauth/token', payload: { grant_type: 'client_credentials', client_id, client_secret } })
    t.equal(res.statusCode, 401, why)
    t.match(res.headers['content-type'], /^application\/json/, `${why}: RFC 6749 JSON, not problem+json`)
    t.same(Object.keys(res.json()).sort(), ['error', 'error_description'], why)
    t.equal(res.json().error, 'invalid_client', why)
    t.equal(res.headers['www-authenticate'], undefined, `${why}: body credentials, no Basic challenge`)
    t.equal(res.headers['cache-control'], 'no-store', why)
  }
})

t.test('token errors are RFC 6749 section 5.2 answers, whatever failed', async (t) => {
  const client = await ctx.createClient(program.id, ['pos'])
  const basic = `Basic ${Buffer.from(`${client.clientId}:${client.clientSecret}`).toString('base64')}`
  const cases: [string, Parameters<typeof ctx.inject>[0], number, string][] = [
    ['no credentials', { method: 'POST', url: '/v1/oauth/token', payload: { grant_type: 'client_credentials' } }, 401, 'invalid_client'],
    ['no grant_type', { method: 'POST', url: '/v1/oauth/token', payload: { client_id: client.clientId, client_secret: client.clientSecret } }, 400, 'invalid_request'],
    ['an unknown field', { method: 'POST', url: '/v1/oauth/token', payload: { grant_type: 'client_credentials', client_id: client.clientId, client_secret: 'x', colour: 'red' } }, 400, 'invalid_request'],
    ['broken JSON', { method: 'POST', url: '/v1/oauth/token', headers: { 'content-type': 'application/json' }, payload: '{"grant_type":' }, 400, 'invalid_request'],
    ['a text body', { method: 'POST', url: '/v1/oauth/token', headers: { 'content-type': 'text/plain' }, payload: 'grant_type=client_credentials' }, 400, 'invalid_request'],
    ['Basic and a body secret', { method: 'POST', url: '/v1/oauth/token', headers: { authorization: basic }, payload: { grant_type: 'client_credentials', client_secret: client.clientSecret } }, 400, 'invalid_request'],
    ['a wrong Basic secret', { method: 'POST', url: '/v1/oauth/token', headers: { authorization: `Basic ${Buffer.from(`${client.clientId}:nope`).toString('base64')}` }, payload: { grant_type: 'client_credentials' } }, 401, 'invalid_client'],
  ]
  for (const [why, request, status, error] of cases) {
    const res = await ctx.inject(request)
    t.equal(res.statusCode, status, why)
    t.match(res.headers['content-type'], /^application\/json/, why)
    t.equal(res.json().error, error, why)
    t.type(res.json().error_description, 'string', why)
    t.equal(res.headers['cache-control'], 'no-store', why)
    const challenged = request.headers !== undefined && 'authorization' in request.headers && status === 401
    if (challenged) t.match(res.headers['www-authenticate'], /^Basic realm="[^"]+"/, `${why}: a Basic challenge`)
    else t.equal(res.headers['www-authenticate'], undefined, `${why}: no challenge`)
  }
  const form = await ctx.inject({
    method: 'POST',
    url: '/v1/oauth/token',
    headers: { authorization: basic, 'content-type': 'application/x-www-form-urlencoded' },
    payload: 'grant_type=client_credentials',
  })
  t.equal(form.statusCode, 200, 'client_secret_basic with a form body')
  t.equal(form.headers['cache-control'], 'no-store')
})

t.test('the token endpoint refuses other grants and scopes the client was not given', async (t) => {
  const client = await ctx.createClient(program.id, ['pos'])
  const grant = await ctx.inject({ method: 'POST', url: '/v1/oauth/token', payload: { grant_type: 'password', client_id: client.clientId, client_secret: client.clientSecret } })
  t.equal(grant.statusCode, 400)
  t.equal(grant.json().error, 'unsupported_grant_type')

  const scope = await ctx.inject({
    method: 'POST',
    url: '/v1/oauth/token',
    payload: { grant_type: 'client_credentials', client_id: client.clientId, client_secret: client.clientSecret, scope: 'pos finance:read' },
  })
  t.equal(scope.statusCode, 400)
  t.equal(scope.json().error, 'invalid_scope')
  t.match(scope.json().error_description, /finance:read/)

  const narrower = await ctx.token(client.clientId, client.clientSecret, 'pos')
  t.equal(decodeJwt(narrower).scope, 'pos')
})

t.test('a revoked client can neither get tokens nor use the ones it has', async (t) => {
  const client = await ctx.createClient(program.id, ['members:read'])
  t.equal((await memberList(client.token)).statusCode, 200)

  const revoke = await ctx.call(await ctx.adminToken(), 'DELETE', `/v1/programs/${program.id}/clients/${client.clientId}`)
  t.equal(revoke.statusCode, 204)

  const used = await memberList(client.token)
  t.equal(used.statusCode, 401)
  t.equal(used.json().code, 'UNAUTHORIZED')
  const fresh = await ctx.inject({ method: 'POST', url: '/v1/oauth/token', payload: { grant_type: 'client_credentials', client_id: client.clientId, client_secret: client.clientSecret } })
  t.equal(fresh.statusCode, 401)

  const listed = (await ctx.call(await ctx.adminToken(), 'GET', `/v1/programs/${program.id}/clients`)).json()
  const row = listed.data.find((c: { clientId: string }) => c.clientId === client.clientId)
  t.ok(row.revokedAt, 'the listing shows when it was revoked')
  t.notOk('clientSecret' in row || 'secretHash' in row, 'no secret or hash is ever listed')
})

t.test('forged, expired and malformed tokens get 401', async (t) => {
  const client = await ctx.createClient(program.id, ['pos', 'members:read'])
  const good = decodeJwt(client.token)
  const cases: [string, string][] = [
    ['signed by another key', await forge({ sub: client.clientId })],
    ['alg none', new UnsecuredJWT({ scope: 'pos', pid: program.id }).setSubject(client.clientId).setIssuer('loyalty-ledger').setAudience('loyalty-ledger-api').setIssuedAt().setExpirationTime('1h').encode()],
    ['tampered payload', tamper(client.token, { ...good, scope: 'pos members:read finance:read program:manage' })],
    ['not a JWT', 'abc.def.ghi'],
    ['garbage', 'x'],
  ]
  for (const [why, token] of cases) {
    const res = await memberList(token)
    t.equal(res.statusCode, 401, why)
    t.match(res.headers['content-type'], /^application\/problem\+json/, why)
    t.match(res.headers['www-authenticate'], /^Bearer/, why)
  }
  t.equal((await ctx.inject({ method: 'GET', url: '/v1/members' })).statusCode, 401, 'no token at all')
  t.equal((await ctx.inject({ method: 'GET', url: '/v1/members', headers: { authorization: `Basic ${client.token}` } })).statusCode, 401, 'wrong scheme')
})

t.test('a token signed by the service itself but expired gets 401 saying so', async (t) => {
  const client = await ctx.createClient(program.id, ['members:read'])
  const { privateKey, alg, kid } = ctx.app.keys
  const expired = await new SignJWT({ scope: 'members:read', pid: program.id })
    .setProtectedHeader({ alg, kid, typ: 'at+jwt' })
    .setIssuer('loyalty-ledger')
    .setAudience('loyalty-ledger-api')
    .setSubject(client.clientId)
    .setIssuedAt(Math.floor(Date.now() / 1000) - 7200)
    .setExpirationTime(Math.floor(Date.now() / 1000) - 3600)
    .sign(privateKey)
  const res = await memberList(expired)
  t.equal(res.statusCode, 401)
  t.match(res.json().detail, /expired/)
})

t.test('a token without the scope an endpoint needs gets 403', async (t) => {
  const reader = await ctx.createClient(program.id, ['balances:read'])
  const res = await ctx.call(reader.token, 'POST', '/v1/members', { name: 'A', phone: '0912345678' }, { 'idempotency-key': idemKey() })
  t.equal(res.statusCode, 403)
  t.equal(res.json().code, 'FORBIDDEN')
  t.same(res.json().requiredScopes, ['members:write', 'pos'])

  const admin = await ctx.call(await ctx.adminToken(), 'GET', '/v1/members')
  t.equal(admin.statusCode, 403, 'the platform admin has no program of its own')

  const programToken = await ctx.call(program.token, 'POST', '/v1/programs', { name: 'x', currency: 'VND' }, { 'idempotency-key': idemKey() })
  t.equal(programToken.statusCode, 403, 'a program client cannot create programs')
})

function tamper(token: string, payload: Record<string, unknown>): string {
  const [header, , signature] = token.split('.')
  return `${header}.${Buffer.from(JSON.stringify(payload)).toString('base64url')}.${signature}`
}
