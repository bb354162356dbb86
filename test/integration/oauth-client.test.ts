// A standard OAuth 2.0 client library (oauth4webapi) against a listening service: it discovers the
// token endpoint from the RFC 8414 metadata, obtains a token by the client-credentials grant and
// calls the API with it, and reads a wrong secret as invalid_client, as any integrator's code would.
import t from 'tap'
import * as oauth from 'oauth4webapi'
import { startTestApp, testConfig } from '../helpers/app.js'
import { freePort } from '../helpers/service.js'
import { VND_RULES } from '../helpers/pos.js'
import { SCOPES } from '../../src/shared/scopes.js'

const port = await freePort()
const base = `http://127.0.0.1:${port}`
const ctx = await startTestApp(t, { port, publicBaseUrl: base, tokens: { ...testConfig().tokens, issuer: base } })
await ctx.app.listen({ port, host: '127.0.0.1' })
const program = await ctx.createProgram({ rules: VND_RULES })
const member = await ctx.enrol(program.token)
const client = await ctx.createClient(program.id, ['members:read', 'balances:read'], 'oauth library')

const insecure = { [oauth.allowInsecureRequests]: true } // the test service is plain HTTP on loopback
const issuer = new URL(base)

async function discover(): Promise<oauth.AuthorizationServer> {
  return oauth.processDiscoveryResponse(issuer, await oauth.discoveryRequest(issuer, { algorithm: 'oauth2', ...insecure }))
}

t.test('discovery: the metadata names the token endpoint, methods and scopes, and its issuer is the tokens\' iss', async (t) => {
  const as = await discover()
  t.equal(as.issuer, base)
  t.equal(as.token_endpoint, `${base}/v1/oauth/token`)
  t.same(as.grant_types_supported, ['client_credentials'])
  t.same(as.token_endpoint_auth_methods_supported, ['client_secret_basic', 'client_secret_post'])
  t.same(as.scopes_supported, [...SCOPES])
  const res = await fetch(`${base}/.well-known/oauth-authorization-server`)
  t.match(res.headers.get('content-type'), /^application\/json/)
})

for (const [method, auth] of [
  ['client_secret_basic', () => oauth.ClientSecretBasic(client.clientSecret)],
  ['client_secret_post', () => oauth.ClientSecretPost(client.clientSecret)],
] as const) {
  t.test(`client credentials by ${method}: a token that the API accepts`, async (t) => {
    const as = await discover()
    const c: oauth.Client = { client_id: client.clientId }
    const response = await oauth.clientCredentialsGrantRequest(as, c, auth(), new URLSearchParams({ scope: 'balances:read' }), insecure)
    t.equal(response.headers.get('cache-control'), 'no-store')
    const result = await oauth.processClientCredentialsResponse(as, c, response)
    t.equal(result.token_type, 'bearer')
    t.equal(result.scope, 'balances:read')
    const claims = JSON.parse(Buffer.from(result.access_token.split('.')[1]!, 'base64url').toString('utf8'))
    t.equal(claims.iss, as.issuer, 'the token\'s iss is the discovered issuer')
    const balances = await fetch(`${base}/v1/members/${member.id}/balances`, { headers: { authorization: `Bearer ${result.access_token}` } })
    t.equal(balances.status, 200, 'the API takes the token')
    t.equal(((await balances.json()) as { points: { balance: number } }).points.balance, 0)
  })
}

t.test('a wrong secret is invalid_client to the library: a ResponseBodyError with status 401', async (t) => {
  const as = await discover()
  const c: oauth.Client = { client_id: client.clientId }
  const response = await oauth.clientCredentialsGrantRequest(as, c, oauth.ClientSecretPost('lls_wrong'), new URLSearchParams(), insecure)
  const err = await oauth.processClientCredentialsResponse(as, c, response).catch((e: unknown) => e)
  t.ok(err instanceof oauth.ResponseBodyError, `a ResponseBodyError (got ${String(err)})`)
  const body = err as oauth.ResponseBodyError
  t.equal(body.error, 'invalid_client')
  t.equal(body.status, 401)
  t.type(body.error_description, 'string')
})

t.test('a wrong secret by HTTP Basic: the library sees the Basic challenge RFC 6749 requires, and the body says invalid_client', async (t) => {
  const as = await discover()
  const c: oauth.Client = { client_id: client.clientId }
  const response = await oauth.clientCredentialsGrantRequest(as, c, oauth.ClientSecretBasic('lls_wrong'), new URLSearchParams(), insecure)
  const err = await oauth.processClientCredentialsResponse(as, c, response).catch((e: unknown) => e)
  t.ok(err instanceof oauth.WWWAuthenticateChallengeError, `a WWWAuthenticateChallengeError (got ${String(err)})`)
  const challenge = err as oauth.WWWAuthenticateChallengeError
  t.equal(challenge.status, 401)
  t.equal(challenge.cause[0]?.scheme, 'basic')
  t.type(challenge.cause[0]?.parameters.realm, 'string')
  t.equal(((await challenge.response.json()) as { error: string }).error, 'invalid_client')
})

t.test('a scope the client was not given is invalid_scope to the library', async (t) => {
  const as = await discover()
  const c: oauth.Client = { client_id: client.clientId }
  const response = await oauth.clientCredentialsGrantRequest(as, c, oauth.ClientSecretBasic(client.clientSecret), new URLSearchParams({ scope: 'finance:read' }), insecure)
  const err = await oauth.processClientCredentialsResponse(as, c, response).catch((e: unknown) => e)
  t.ok(err instanceof oauth.ResponseBodyError)
  t.equal((err as oauth.ResponseBodyError).error, 'invalid_scope')
  t.equal((err as oauth.ResponseBodyError).status, 400)
})
