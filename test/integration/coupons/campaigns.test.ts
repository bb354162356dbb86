// Coupon campaigns and codes through the API: creation and its validation against the program
// currency, listing, archiving, generated codes (unique, unguessable), and looking a code up.
import t from 'tap'
import { startTestApp } from '../../helpers/app.js'
import { idemKey } from '../../helpers/pos.js'

const ctx = await startTestApp(t)
const vnd = await ctx.createProgram()
const usd = await ctx.createProgram({ currency: 'USD', timezone: 'America/New_York', country: 'US' })
const pos = await ctx.createClient(vnd.id, ['pos'])

const createCampaign = (token: string, body: Record<string, unknown>) => ctx.call(token, 'POST', '/v1/coupons/campaigns', body, { 'idempotency-key': idemKey() })
const tenPercent = { name: 'Tết 10%', kind: 'percent', value: '10', codeMode: 'unique' }

t.test('a percent campaign with limits and a budget, as created and read back', async (t) => {
  const res = await createCampaign(vnd.token, {
    ...tenPercent,
    value: '12.5',
    minSpend: '200000',
    validFrom: '2026-01-01T00:00:00+07:00',
    validTo: '2026-02-01T00:00:00+07:00',
    maxUsesPerCode: 1,
    maxUsesPerMember: 2,
    budget: '5000000',
  })
  t.equal(res.statusCode, 201, res.body)
  const c = res.json()
  t.match(c, {
    name: 'Tết 10%',
    kind: 'percent',
    value: '12.5',
    minSpend: '200000',
    validFrom: '2025-12-31T17:00:00.000Z',
    validTo: '2026-01-31T17:00:00.000Z',
    maxUsesPerCode: 1,
    maxUsesPerMember: 2,
    budget: '5000000',
    budgetUsed: '0',
    budgetLeft: '5000000',
    redemptions: 0,
    codeMode: 'unique',
    sharedCode: null,
    status: 'active',
    archivedAt: null,
  })
  const read = await ctx.call(vnd.token, 'GET', `/v1/coupons/campaigns/${c.id}`)
  t.equal(read.statusCode, 200)
  t.same(read.json(), c)
})

t.test('a fixed campaign keeps its amount in the program currency', async (t) => {
  const res = await createCampaign(usd.token, { name: '5 off', kind: 'fixed', value: '5.50', minSpend: '20', codeMode: 'shared', sharedCode: 'five-off' })
  t.equal(res.statusCode, 201, res.body)
  t.match(res.json(), { kind: 'fixed', value: '5.50', minSpend: '20.00', budget: null, budgetLeft: null, maxUsesPerCode: null, codeMode: 'shared', sharedCode: 'FIVE-OFF' })
})

t.test('bad values are refused with the path of each field', async (t) => {
  const cases: [string, string, Record<string, unknown>, string][] = [
    ['percent 0', vnd.token, { ...tenPercent, value: '0' }, 'body/value'],
    ['percent above 100', vnd.token, { ...tenPercent, value: '100.5' }, 'body/value'],
    ['percent with 3 decimals', vnd.token, { ...tenPercent, value: '12.345' }, 'body/value'],
    ['percent not a number', vnd.token, { ...tenPercent, value: 'ten' }, 'body/value'],
    ['fractional VND amount', vnd.token, { name: 'x', kind: 'fixed', value: '10000.5', codeMode: 'unique' }, 'body/value'],
    ['zero fixed amount', vnd.token, { name: 'x', kind: 'fixed', value: '0', codeMode: 'unique' }, 'body/value'],
    ['USD amount with 3 decimals', usd.token, { name: 'x', kind: 'fixed', value: '1.005', codeMode: 'unique' }, 'body/value'],
    ['fractional VND min spend', vnd.token, { ...tenPercent, minSpend: '1.5' }, 'body/minSpend'],
    ['zero budget', vnd.token, { ...tenPercent, budget: '0' }, 'body/budget'],
    ['validTo before validFrom', vnd.token, { ...tenPercent, validFrom: '2026-03-01T00:00:00Z', validTo: '2026-02-01T00:00:00Z' }, 'body/validTo'],
    ['validTo equal to validFrom', vnd.token, { ...tenPercent, validFrom: '2026-03-01T00:00:00Z', validTo: '2026-03-01T00:00:00Z' }, 'body/validTo'],
    ['shared without a code', vnd.token, { ...tenPercent, codeMode: 'shared' }, 'body/sharedCode'],
    ['unique with a shared code', vnd.token, { ...tenPercent, sharedCode: 'ABC123' }, 'body/sharedCode'],
    ['shared code with spaces', vnd.token, { ...tenPercent, codeMode: 'shared', sharedCode: 'SUMMER 10' }, 'body/sharedCode'],
    ['zero uses per code', vnd.token, { ...tenPercent, maxUsesPerCode: 0 }, 'body/maxUsesPerCode'],
  ]
  for (const [label, token, body, path] of cases) {
    const res = await createCampaign(token, body)
    t.equal(res.statusCode, 400, `${label}: 400`)
    t.equal(res.json().code, 'VALIDATION_FAILED', label)
    t.ok(
      (res.json().errors as { path: string }[]).some((e) => e.path === path),
      `${label}: names ${path} (${JSON.stringify(res.json().errors)})`,
    )
  }
  const list = await ctx.call(vnd.token, 'GET', '/v1/coupons/campaigns?limit=200')
  t.notOk((list.json().data as { name: string }[]).some((c) => c.name === 'x'), 'nothing was created')
})

t.test('a shared code is unique in the program, case-insensitively; another program may use it', async (t) => {
  const first = await createCampaign(vnd.token, { ...tenPercent, codeMode: 'shared', sharedCode: 'SUMMER10' })
  t.equal(first.statusCode, 201)
  const again = await createCampaign(vnd.token, { ...tenPercent, name: 'again', codeMode: 'shared', sharedCode: 'summer10' })
  t.equal(again.statusCode, 409)
  t.match(again.json(), { code: 'COUPON_CODE_TAKEN', couponCode: 'SUMMER10' })
  const list = await ctx.call(vnd.token, 'GET', '/v1/coupons/campaigns?limit=200')
  t.notOk((list.json().data as { name: string }[]).some((c) => c.name === 'again'), 'the refused campaign was not created')
  const elsewhere = await createCampaign(usd.token, { ...tenPercent, codeMode: 'shared', sharedCode: 'SUMMER10' })
  t.equal(elsewhere.statusCode, 201)
})

t.test('generated codes: unique, 10 Crockford base32 characters, listed with the campaign', async (t) => {
  const c = (await createCampaign(vnd.token, { ...tenPercent, maxUsesPerCode: 1 })).json()
  const codes: string[] = []
  for (let i = 0; i < 3; i++) {
    const res = await ctx.call(vnd.token, 'POST', `/v1/coupons/campaigns/${c.id}/codes`, { count: 400 }, { 'idempotency-key': idemKey() })
    t.equal(res.statusCode, 201)
    t.equal(res.json().campaignId, c.id)
    codes.push(...res.json().codes)
  }
  t.equal(codes.length, 1200)
  t.equal(new Set(codes).size, 1200, 'no code twice')
  t.ok(
    codes.every((code) => /^[0-9A-HJKMNP-TV-Z]{10}$/.test(code)),
    'Crockford base32: no I, L, O, U',
  )
  const letters = new Set(codes.join(''))
  t.equal(letters.size, 32, 'every character of the alphabet occurs')

  const listed: string[] = []
  let cursor: string | null = null
  do {
    const res = await ctx.call(vnd.token, 'GET', `/v1/coupons/campaigns/${c.id}/codes?limit=200${cursor ? `&cursor=${cursor}` : ''}`)
    t.equal(res.statusCode, 200)
    listed.push(...(res.json().data as { code: string; uses: number; maxUses: number | null }[]).map((x) => x.code))
    cursor = res.json().nextCursor
  } while (cursor)
  t.same(listed.sort(), [...codes].sort(), 'every code is listed once')
})

t.test('codes issued to a member, and what may not issue codes', async (t) => {
  const member = await ctx.enrol(vnd.token)
  const c = (await createCampaign(vnd.token, { ...tenPercent })).json()
  const res = await ctx.call(vnd.token, 'POST', `/v1/coupons/campaigns/${c.id}/codes`, { count: 2, memberId: member.id, reason: 'apology' }, { 'idempotency-key': idemKey() })
  t.equal(res.statusCode, 201)
  const listed = (await ctx.call(vnd.token, 'GET', `/v1/coupons/campaigns/${c.id}/codes`)).json().data
  t.equal(listed.length, 2)
  t.match(listed[0], { memberId: member.id, uses: 0, maxUses: null, reason: 'apology' })

  const unknownMember = await ctx.call(vnd.token, 'POST', `/v1/coupons/campaigns/${c.id}/codes`, { count: 1, memberId: '0190a0a0-0000-7000-8000-000000000000' }, { 'idempotency-key': idemKey() })
  t.equal(unknownMember.statusCode, 404)
  t.equal(unknownMember.json().code, 'MEMBER_NOT_FOUND')

  const shared = (await createCampaign(vnd.token, { ...tenPercent, codeMode: 'shared', sharedCode: 'ONEFORALL' })).json()
  const sharedCodes = await ctx.call(vnd.token, 'POST', `/v1/coupons/campaigns/${shared.id}/codes`, { count: 1 }, { 'idempotency-key': idemKey() })
  t.equal(sharedCodes.statusCode, 409)
  t.equal(sharedCodes.json().code, 'CAMPAIGN_SHARED_CODE')

  const ended = (await createCampaign(vnd.token, { ...tenPercent, validFrom: '2024-01-01T00:00:00Z', validTo: '2024-02-01T00:00:00Z' })).json()
  const endedCodes = await ctx.call(vnd.token, 'POST', `/v1/coupons/campaigns/${ended.id}/codes`, { count: 1 }, { 'idempotency-key': idemKey() })
  t.equal(endedCodes.statusCode, 409)
  t.equal(endedCodes.json().code, 'CAMPAIGN_ENDED')

  const archived = await ctx.call(vnd.token, 'POST', `/v1/coupons/campaigns/${c.id}/archive`)
  t.equal(archived.statusCode, 200)
  t.match(archived.json(), { status: 'archived', archivedAt: String })
  const archivedAgain = await ctx.call(vnd.token, 'POST', `/v1/coupons/campaigns/${c.id}/archive`)
  t.equal(archivedAgain.statusCode, 200, 'archiving twice is not an error')
  t.equal(archivedAgain.json().archivedAt, archived.json().archivedAt, 'and keeps the first archive time')
  const afterArchive = await ctx.call(vnd.token, 'POST', `/v1/coupons/campaigns/${c.id}/codes`, { count: 1 }, { 'idempotency-key': idemKey() })
  t.equal(afterArchive.statusCode, 409)
  t.equal(afterArchive.json().code, 'CAMPAIGN_ARCHIVED')
  t.equal((await ctx.call(vnd.token, 'GET', `/v1/coupons/campaigns/${c.id}/codes`)).json().data.length, 2, 'refusals issued nothing')

  const unknown = await ctx.call(vnd.token, 'POST', '/v1/coupons/campaigns/0190a0a0-0000-7000-8000-000000000000/codes', { count: 1 }, { 'idempotency-key': idemKey() })
  t.equal(unknown.statusCode, 404)
  t.equal(unknown.json().code, 'CAMPAIGN_NOT_FOUND')
  t.equal((await ctx.call(vnd.token, 'POST', `/v1/coupons/campaigns/${c.id}/codes`, { count: 1001 }, { 'idempotency-key': idemKey() })).statusCode, 400, 'at most 1000 at once')
})

t.test('listing filters by status and pages', async (t) => {
  const p = await ctx.createProgram()
  const ids: string[] = []
  for (let i = 0; i < 3; i++) ids.push((await createCampaign(p.token, { ...tenPercent, name: `c${i}` })).json().id)
  await ctx.call(p.token, 'POST', `/v1/coupons/campaigns/${ids[1]}/archive`)
  const active = (await ctx.call(p.token, 'GET', '/v1/coupons/campaigns?status=active')).json()
  t.same(
    active.data.map((c: { name: string }) => c.name),
    ['c0', 'c2'],
  )
  const first = (await ctx.call(p.token, 'GET', '/v1/coupons/campaigns?limit=2')).json()
  t.equal(first.data.length, 2)
  t.type(first.nextCursor, 'string')
  const second = (await ctx.call(p.token, 'GET', `/v1/coupons/campaigns?limit=2&cursor=${first.nextCursor}`)).json()
  t.same(
    [...first.data, ...second.data].map((c: { id: string }) => c.id),
    ids,
  )
  t.equal(second.nextCursor, null)
})

t.test('looking a code up: campaign, state and uses left; pos may look up, not manage', async (t) => {
  const member = await ctx.enrol(vnd.token)
  const c = (await createCampaign(vnd.token, { ...tenPercent, codeMode: 'shared', sharedCode: 'LOOKME', maxUsesPerCode: 100, maxUsesPerMember: 1 })).json()
  const res = await ctx.call(pos.token, 'GET', `/v1/coupons/lookme?memberId=${member.id}`)
  t.equal(res.statusCode, 200, res.body)
  t.match(res.json(), { code: 'LOOKME', campaign: { id: c.id, value: '10' }, memberId: null, state: 'usable', usesLeft: 100, memberUsesLeft: 1 })
  t.notOk('memberUsesLeft' in (await ctx.call(pos.token, 'GET', '/v1/coupons/LOOKME')).json(), 'without memberId no member figure')

  const future = (await createCampaign(vnd.token, { ...tenPercent, codeMode: 'shared', sharedCode: 'LATER', validFrom: '2099-01-01T00:00:00Z' })).json()
  t.equal((await ctx.call(pos.token, 'GET', '/v1/coupons/LATER')).json().state, 'not_started')
  t.equal(future.status, 'active')
  await createCampaign(vnd.token, { ...tenPercent, codeMode: 'shared', sharedCode: 'GONE', validFrom: '2020-01-01T00:00:00Z', validTo: '2020-02-01T00:00:00Z' })
  t.equal((await ctx.call(pos.token, 'GET', '/v1/coupons/GONE')).json().state, 'expired')

  const other = await ctx.enrol(vnd.token)
  const unique = (await createCampaign(vnd.token, { ...tenPercent })).json()
  const [assigned] = (await ctx.call(vnd.token, 'POST', `/v1/coupons/campaigns/${unique.id}/codes`, { count: 1, memberId: member.id }, { 'idempotency-key': idemKey() })).json().codes
  t.match((await ctx.call(pos.token, 'GET', `/v1/coupons/${assigned}?memberId=${member.id}`)).json(), { state: 'usable', memberId: member.id, usesLeft: null })
  t.equal((await ctx.call(pos.token, 'GET', `/v1/coupons/${assigned}?memberId=${other.id}`)).json().state, 'not_for_member')

  const missing = await ctx.call(pos.token, 'GET', '/v1/coupons/NOSUCHCODE')
  t.equal(missing.statusCode, 404)
  t.equal(missing.json().code, 'COUPON_NOT_FOUND')
  t.equal((await ctx.call(usd.token, 'GET', '/v1/coupons/LOOKME')).statusCode, 404, 'another program does not see it')

  t.equal((await createCampaign(pos.token, tenPercent)).statusCode, 403, 'pos cannot create campaigns')
  t.equal((await ctx.call(pos.token, 'GET', '/v1/coupons/campaigns')).statusCode, 403, 'nor list them')
  t.equal((await ctx.call(pos.token, 'POST', `/v1/coupons/campaigns/${unique.id}/codes`, { count: 1 }, { 'idempotency-key': idemKey() })).statusCode, 403, 'nor generate codes')
  t.equal((await ctx.call(usd.token, 'GET', `/v1/coupons/campaigns/${c.id}`)).statusCode, 404, 'another program’s campaign is not found')
})
