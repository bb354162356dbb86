import t from 'tap'
import { sql } from 'drizzle-orm'
import { queryRows } from '../../../src/db/client.js'
import { PLATFORM_SCOPE } from '../../../src/modules/idempotency/service.js'
import { startTestApp, uniqueVnMobile } from '../../helpers/app.js'
import { idemKey, VND_RULES } from '../../helpers/pos.js'

const ctx = await startTestApp(t)
const program = await ctx.createProgram({ rules: VND_RULES })
const admin = await ctx.adminToken()

const TET = { name: 'Tet', kind: 'percent', value: '10', codeMode: 'unique' }
const count = async (query: ReturnType<typeof sql>) => Number((await queryRows<{ n: string | number }>(ctx.database.db, query))[0]!.n)

/** Sends the same call twice with one key: the retry answers the same and writes nothing. */
async function retried(t: { equal: Function; notOk: Function; same: Function }, token: string, url: string, body: Record<string, unknown>, otherBody: Record<string, unknown>, rows: () => Promise<number>, status = 201) {
  const key = idemKey('create')
  const first = await ctx.call(token, 'POST', url, body, { 'idempotency-key': key })
  t.equal(first.statusCode, status, `${url}: ${first.body}`)
  t.notOk(first.headers['idempotent-replayed'], 'the first answer is not a replay')
  const after = await rows()
  const again = await ctx.call(token, 'POST', url, body, { 'idempotency-key': key })
  t.equal(again.statusCode, status, 'the retry answers the same status')
  t.equal(again.headers['idempotent-replayed'], 'true')
  t.same(again.json(), first.json(), 'and the same body')
  t.equal(await rows(), after, 'and writes nothing')
  const other = await ctx.call(token, 'POST', url, otherBody, { 'idempotency-key': key })
  t.equal(other.statusCode, 422, 'the key with another body is refused')
  t.equal(other.json().code, 'IDEMPOTENCY_KEY_REUSED')
  const missing = await ctx.call(token, 'POST', url, body)
  t.equal(missing.statusCode, 400, 'no key: 400')
  t.equal(missing.json().code, 'VALIDATION_FAILED')
  t.equal(await rows(), after, 'the refusals wrote nothing')
  return first.json()
}

t.test('POST /v1/members', async (t) => {
  const phone = uniqueVnMobile()
  await retried(t, program.token, '/v1/members', { name: 'An', phone }, { name: 'Other', phone }, () => count(sql`select count(*) as n from members where program_id = ${program.id}`))
  const key = idemKey('dup')
  const dup = await ctx.call(program.token, 'POST', '/v1/members', { name: 'Bao', phone }, { 'idempotency-key': key })
  t.equal(dup.statusCode, 409, 'a duplicate phone is 409')
  const dupAgain = await ctx.call(program.token, 'POST', '/v1/members', { name: 'Bao', phone }, { 'idempotency-key': key })
  t.same([dupAgain.statusCode, dupAgain.json().code, dupAgain.headers['idempotent-replayed']], [409, dup.json().code, 'true'], 'the refusal is replayed too')
})

t.test('POST /v1/coupons/campaigns and its codes: a retry does not double the codes', async (t) => {
  const campaigns = () => count(sql`select count(*) as n from coupon_campaigns where program_id = ${program.id}`)
  const campaign = await retried(t, program.token, '/v1/coupons/campaigns', TET, { ...TET, name: 'Tet 2' }, campaigns)
  const codes = () => count(sql`select count(*) as n from coupons where program_id = ${program.id} and campaign_id = ${campaign.id}`)
  const made = await retried(t, program.token, `/v1/coupons/campaigns/${campaign.id}/codes`, { count: 3 }, { count: 4 }, codes)
  t.equal(made.codes.length, 3)
  t.equal(await codes(), 3, 'three codes, not six')
})

t.test('POST /v1/members/{id}/referrer', async (t) => {
  const referrer = await ctx.enrol(program.token)
  const referred = await ctx.enrol(program.token)
  const code = (await ctx.call(program.token, 'GET', `/v1/members/${referrer.id}`)).json().referralCode
  const links = () => count(sql`select count(*) as n from members where program_id = ${program.id} and referred_by is not null`)
  const linked = await retried(t, program.token, `/v1/members/${referred.id}/referrer`, { referralCode: code }, { referralCode: 'NOPE' }, links, 200)
  t.equal(linked.referredBy, referrer.id)
})

t.test('POST /v1/programs (the admin has its own key space)', async (t) => {
  const made = await retried(t, admin, '/v1/programs', { name: 'Idem', currency: 'VND', rules: VND_RULES }, { name: 'Idem 2', currency: 'VND', rules: VND_RULES }, () => count(sql`select count(*) as n from programs`))
  t.equal(await count(sql`select count(*) as n from idempotency_keys where program_id = ${PLATFORM_SCOPE}`) > 0, true, 'its keys are kept under the platform scope')
  t.ok(made.id)
})

t.test('POST /v1/programs/{id}/clients: a replay never shows the secret again', async (t) => {
  const clients = () => count(sql`select count(*) as n from api_clients where program_id = ${program.id}`)
  const key = idemKey('client')
  const body = { name: 'till 9', scopes: ['pos'] }
  const first = await ctx.call(admin, 'POST', `/v1/programs/${program.id}/clients`, body, { 'idempotency-key': key })
  t.equal(first.statusCode, 201)
  const { clientId, clientSecret } = first.json()
  t.ok(clientSecret, 'the secret is shown once')
  const n = await clients()
  const [record] = await queryRows<{ response_body: unknown }>(ctx.database.db, sql`select response_body from idempotency_keys where program_id = ${program.id} and key = ${key}`)
  t.notMatch(JSON.stringify(record!.response_body), clientSecret, 'the stored answer holds no secret')
  const again = await ctx.call(admin, 'POST', `/v1/programs/${program.id}/clients`, body, { 'idempotency-key': key })
  t.equal(again.statusCode, 409, 'the replay is a 409')
  t.match(again.headers['content-type'], /^application\/problem\+json/)
  t.equal(again.headers['idempotent-replayed'], 'true')
  t.same([again.json().code, again.json().clientId], ['CLIENT_SECRET_NOT_REPLAYED', clientId], 'naming the client the key created')
  t.notMatch(again.body, clientSecret, 'without its secret')
  t.equal(await clients(), n, 'no second client')
  t.equal((await ctx.token(clientId, clientSecret).then(() => 'ok')), 'ok', 'the first secret still works')
  const other = await ctx.call(admin, 'POST', `/v1/programs/${program.id}/clients`, { ...body, name: 'till 10' }, { 'idempotency-key': key })
  t.same([other.statusCode, other.json().code], [422, 'IDEMPOTENCY_KEY_REUSED'])
})
