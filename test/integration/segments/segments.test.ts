// Saved segments through the API: a filter of every kind matched against members whose facts the
// test set by hand (enrolment, purchases inserted with SQL, consent, birthday, tier), the members
// list paged by cursor and the count agreeing with it, bad filters refused with their codes, an
// idempotent create replayed, archiving, and another program's segment not found.
import t from 'tap'
import { startTestApp } from '../../helpers/app.js'
import { idemKey } from '../../helpers/pos.js'
import { daysAgo, enrolledAt, seedPurchase } from '../../helpers/seed.js'

const ctx = await startTestApp(t)
const tiers = { metric: 'spend', windowMonths: 12, retentionMonths: 12, levels: [{ code: 'silver', name: 'Silver', threshold: '0' }, { code: 'gold', name: 'Gold', threshold: '5000000' }] }
const shop = await ctx.createProgram({ rules: { earning: { points: 1, per: '10000' }, tiers } })
const other = await ctx.createProgram()
const reader = await ctx.createClient(shop.id, ['members:read'])
const pos = await ctx.createClient(shop.id, ['pos'])

const create = (body: unknown, token = shop.token, key = idemKey('sg')) => ctx.call(token, 'POST', '/v1/segments', body, { 'idempotency-key': key })
async function segment(filter: Record<string, unknown>, token = shop.token) {
  const res = await create({ name: 'test', filter }, token)
  if (res.statusCode !== 201) throw new Error(res.body)
  return res.json() as { id: string }
}
async function membersOf(id: string, limit = 2, token = shop.token): Promise<string[]> {
  const ids: string[] = []
  let cursor: string | null = null
  do {
    const res = await ctx.call(token, 'GET', `/v1/segments/${id}/members?limit=${limit}${cursor ? `&cursor=${cursor}` : ''}`)
    if (res.statusCode !== 200) throw new Error(res.body)
    const page = res.json() as { data: { id: string }[]; nextCursor: string | null }
    ids.push(...page.data.map((m) => m.id))
    cursor = page.nextCursor
  } while (cursor)
  return ids
}
const count = async (id: string) => (await ctx.call(shop.token, 'GET', `/v1/segments/${id}/count`)).json().members as number
const sorted = (ids: string[]) => [...ids].sort()

// Members with facts set by hand.
const enrol = async (body: Record<string, unknown>, enrolledDaysAgo: number) => {
  const m = await ctx.enrol(shop.token, body)
  await enrolledAt(ctx.database, shop.id, m.id, daysAgo(enrolledDaysAgo))
  return m.id
}
const consenting = { consents: { smsMarketing: { granted: true } } }
const recent = await enrol({ birthday: '1990-03-10', ...consenting }, 400) // bought 2 and 10 days ago
const lapsed = await enrol({ birthday: '1985-03-22' }, 500) // last bought 200 days ago
const fresh = await enrol({ birthday: '1992-07-01', ...consenting }, 5) // never bought
const big = await enrol({ birthday: '1970-12-31' }, 300) // bought 20 days ago, a lot
const erased = await enrol({ birthday: '1990-03-01' }, 300)
await seedPurchase(ctx.database, shop.id, { memberId: recent, occurredAt: daysAgo(2), total: 100_000n })
await seedPurchase(ctx.database, shop.id, { memberId: recent, occurredAt: daysAgo(10), total: 50_000n })
await seedPurchase(ctx.database, shop.id, { memberId: lapsed, occurredAt: daysAgo(200), total: 70_000n })
await seedPurchase(ctx.database, shop.id, { memberId: big, occurredAt: daysAgo(20), total: 6_000_000n })
await seedPurchase(ctx.database, shop.id, { memberId: big, occurredAt: daysAgo(25), total: 1_000_000n, returned: 1_000_000n }) // wholly returned: does not count
await ctx.database.db.execute(`insert into member_tiers (program_id, member_id, tier_code, since, guaranteed_until) values ('${shop.id}', '${big}', 'gold', now(), now() + interval '1 year'), ('${shop.id}', '${recent}', 'silver', now(), now() + interval '1 year')` as never)
t.equal((await ctx.call(shop.token, 'DELETE', `/v1/members/${erased}`)).statusCode, 204, 'one member erased')
const everyone = [recent, lapsed, fresh, big]

t.test('each criterion selects the members a hand count expects, and the count agrees with the pages', async (t) => {
  const cases: [string, Record<string, unknown>, string[]][] = [
    ['empty filter: every member not erased', {}, everyone],
    ['birthday in March', { birthdayMonths: [3] }, [recent, lapsed]],
    ['bought within the last 30 days', { daysSinceLastPurchase: { max: 30 } }, [recent, big]],
    ['no purchase for 100 days or more (never-buyers left out)', { daysSinceLastPurchase: { min: 100 } }, [lapsed]],
    ['exactly 2 days since the last purchase', { daysSinceLastPurchase: { min: 2, max: 2 } }, [recent]],
    ['spent at least 100,000 in 30 days (net of returns)', { spend: { days: 30, min: '100000' } }, [recent, big]],
    ['spent at most 200,000 in 30 days (nothing counts as 0)', { spend: { days: 30, max: '200000' } }, [recent, lapsed, fresh]],
    ['spent over 5,000,000 in 365 days', { spend: { days: 365, min: '5000001' } }, [big]],
    ['SMS consent given', { consent: { smsMarketing: true } }, [recent, fresh]],
    ['SMS consent not given', { consent: { smsMarketing: false } }, [lapsed, big]],
    ['gold tier', { tiers: ['gold'] }, [big]],
    ['no tier', { tiers: ['none'] }, [lapsed, fresh]],
    ['silver or no tier', { tiers: ['silver', 'none'] }, [recent, lapsed, fresh]],
    ['lifecycle new (first purchase within 90 days, or none and enrolled then)', { lifecycleStages: ['new'] }, [recent, fresh, big]],
    ['lifecycle lapsed', { lifecycleStages: ['lapsed'] }, [lapsed]],
    ['criteria together (AND): March birthday and consent', { birthdayMonths: [3], consent: { smsMarketing: true } }, [recent]],
  ]
  for (const [what, filter, expected] of cases) {
    const s = await segment(filter)
    t.same(sorted(await membersOf(s.id)), sorted(expected), what)
    t.equal(await count(s.id), expected.length, `${what}: count`)
  }
})

t.test('an RFM segment lists exactly the members the members list gives for it', async (t) => {
  for (const rfm of ['champions', 'lost', 'new_customers'] as const) {
    const s = await segment({ rfmSegments: [rfm] })
    const listed = (await ctx.call(shop.token, 'GET', `/v1/members?segment=${rfm}&limit=200`)).json().data.map((m: { id: string }) => m.id)
    t.same(sorted(await membersOf(s.id)), sorted(listed), rfm)
  }
  const all = await segment({ rfmSegments: ['champions', 'loyal_customers', 'potential_loyalist', 'new_customers', 'promising', 'need_attention', 'about_to_sleep', 'at_risk', 'cant_lose_them', 'lost'] })
  t.same(sorted(await membersOf(all.id)), sorted([recent, lapsed, big]), 'every RFM segment together: the members with a counted purchase')
})

t.test('a segment as created, read, listed, archived; members are shown as GET /v1/members/{id} shows them', async (t) => {
  const res = await create({ name: 'Tháng 3', filter: { birthdayMonths: [3] } })
  t.equal(res.statusCode, 201)
  const s = res.json()
  t.equal(res.headers.location, `/v1/segments/${s.id}`)
  t.match(s, { name: 'Tháng 3', filter: { birthdayMonths: [3] }, status: 'active', archivedAt: null, links: { members: `/v1/segments/${s.id}/members`, count: `/v1/segments/${s.id}/count` } })
  t.same((await ctx.call(reader.token, 'GET', `/v1/segments/${s.id}`)).json(), s, 'members:read reads it')
  const page = (await ctx.call(reader.token, 'GET', `/v1/segments/${s.id}/members`)).json()
  const member = (await ctx.call(shop.token, 'GET', `/v1/members/${recent}`)).json()
  t.same(page.data.find((m: { id: string }) => m.id === recent), member)
  const listed = (await ctx.call(shop.token, 'GET', '/v1/segments?status=active&limit=200')).json().data.map((x: { id: string }) => x.id)
  t.ok(listed.includes(s.id))
  const archived = await ctx.call(shop.token, 'DELETE', `/v1/segments/${s.id}`)
  t.match(archived.json(), { status: 'archived', archivedAt: String })
  t.same((await ctx.call(shop.token, 'DELETE', `/v1/segments/${s.id}`)).json(), archived.json(), 'archiving again changes nothing')
  t.notOk((await ctx.call(shop.token, 'GET', '/v1/segments?status=active&limit=200')).json().data.some((x: { id: string }) => x.id === s.id))
  t.equal((await ctx.call(shop.token, 'GET', `/v1/segments/${s.id}/count`)).json().members, 2, 'an archived segment still counts')
})

t.test('bad filters: 400 SEGMENT_FILTER_INVALID or VALIDATION_FAILED, each naming the field', async (t) => {
  const refused = async (filter: unknown, code: string, path: string) => {
    const res = await create({ name: 'bad', filter })
    t.equal(res.statusCode, 400, `${JSON.stringify(filter)}: ${res.body}`)
    t.equal(res.json().code, code)
    t.ok(res.json().errors.some((e: { path: string }) => e.path.startsWith(path)), `names ${path}`)
  }
  await refused({ daysSinceLastPurchase: { min: 30, max: 10 } }, 'SEGMENT_FILTER_INVALID', 'body/filter/daysSinceLastPurchase')
  await refused({ daysSinceLastPurchase: {} }, 'SEGMENT_FILTER_INVALID', 'body/filter/daysSinceLastPurchase')
  await refused({ spend: { days: 30, min: '500', max: '100' } }, 'SEGMENT_FILTER_INVALID', 'body/filter/spend')
  await refused({ spend: { days: 30, min: '10.5' } }, 'SEGMENT_FILTER_INVALID', 'body/filter/spend/min')
  await refused({ tiers: ['platinum'] }, 'SEGMENT_FILTER_INVALID', 'body/filter/tiers/0')
  await refused({ birthdayMonths: [13] }, 'VALIDATION_FAILED', 'body/filter/birthdayMonths')
  await refused({ rfmSegments: ['whales'] }, 'VALIDATION_FAILED', 'body/filter/rfmSegments')
  await refused({ lifecycleStages: [] }, 'VALIDATION_FAILED', 'body/filter/lifecycleStages')
  await refused({ color: 'red' }, 'VALIDATION_FAILED', 'body/filter')
  const noTiers = await ctx.call(other.token, 'POST', '/v1/segments', { name: 'x', filter: { tiers: ['gold'] } }, { 'idempotency-key': idemKey() })
  t.match(noTiers.json(), { code: 'SEGMENT_FILTER_INVALID', errors: [{ path: 'body/filter/tiers', message: 'the program has no tiers' }] })
})

t.test('the create is idempotent: a replay answers the same bytes; the key with another body is refused', async (t) => {
  const key = idemKey('replay')
  const first = await create({ name: 'VIP', filter: { tiers: ['gold'] } }, shop.token, key)
  const again = await create({ name: 'VIP', filter: { tiers: ['gold'] } }, shop.token, key)
  t.equal(again.statusCode, 201)
  t.equal(again.body, first.body)
  t.equal(again.headers['idempotent-replayed'], 'true')
  t.equal((await create({ name: 'Other', filter: {} }, shop.token, key)).json().code, 'IDEMPOTENCY_KEY_REUSED')
})

t.test('program isolation and scopes', async (t) => {
  const mine = await segment({})
  const theirs = await segment({}, other.token)
  t.equal((await ctx.call(other.token, 'GET', `/v1/segments/${mine.id}`)).json().code, 'SEGMENT_NOT_FOUND')
  t.equal((await ctx.call(other.token, 'GET', `/v1/segments/${mine.id}/members`)).statusCode, 404)
  t.equal((await ctx.call(other.token, 'DELETE', `/v1/segments/${mine.id}`)).statusCode, 404)
  t.same(await membersOf(theirs.id, 50, other.token), [], 'another program’s empty filter holds none of this program’s members')
  t.notOk((await ctx.call(other.token, 'GET', '/v1/segments?limit=200')).json().data.some((x: { id: string }) => x.id === mine.id))
  t.equal((await ctx.call(pos.token, 'GET', `/v1/segments/${mine.id}/members`)).statusCode, 403, 'a till reads no segment')
  t.equal((await ctx.call(reader.token, 'POST', '/v1/segments', { name: 'x', filter: {} }, { 'idempotency-key': idemKey() })).statusCode, 403, 'members:read creates none')
})
