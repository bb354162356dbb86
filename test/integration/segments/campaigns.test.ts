// Segment campaigns through the API and the runner: points to every member of a segment exactly
// once (ledger verified clean after each scenario), a run cut off halfway with a batch claimed and
// abandoned (a crash) and resumed, two runs at once (PostgreSQL only: there they really run
// together), coupon codes, campaign.granted queued only with consent and inside the sending
// window, the create replayed by its key, refusals, and program isolation; a campaign whose
// runner went silent is resumed by the scheduler.
import { sql } from 'drizzle-orm'
import t, { type Test } from 'tap'
import { onRealPostgres, startTestApp, type ProgramFixture } from '../../helpers/app.js'
import { idemKey } from '../../helpers/pos.js'
import { queryRows } from '../../../src/db/client.js'
import { insideWindow } from '../../../src/modules/events/marketing.js'
import { readRules } from '../../../src/modules/programs/rules.js'
import { programs } from '../../../src/modules/programs/tables.js'
import { claimMembers, loadMemberStates } from '../../../src/modules/segment-campaigns/repository.js'
import { campaignBatchPlan } from '../../../src/modules/segment-campaigns/plan.js'
import { STALE } from '../../../src/db/apply.js'
import { runCampaign } from '../../../src/modules/segment-campaigns/run.js'
import { campaignRunsOf, createCampaign } from '../../../src/modules/segment-campaigns/service.js'
import { eq } from 'drizzle-orm'

const ctx = await startTestApp(t)
const NIL = '00000000-0000-0000-0000-000000000000'

/** A program with `n` members, every third without SMS consent and one on Do-Not-Call, and a segment of all of them. */
async function shopWith(n: number) {
  const shop = await ctx.createProgram()
  const members: string[] = []
  for (let i = 0; i < n; i++) {
    const body = i % 3 === 2 ? {} : { consents: { smsMarketing: { granted: true } }, ...(i === 1 ? { doNotContact: true } : {}) }
    members.push((await ctx.enrol(shop.token, body)).id)
  }
  const segment = (await ctx.call(shop.token, 'POST', '/v1/segments', { name: 'Everyone', filter: {} }, { 'idempotency-key': idemKey('sg') })).json() as { id: string }
  const [program] = await ctx.database.db.select().from(programs).where(eq(programs.id, shop.id))
  return { shop, members, segment, program: program! }
}
const start = (shop: ProgramFixture, segmentId: string, body: unknown, key = idemKey('sc')) => ctx.call(shop.token, 'POST', `/v1/segments/${segmentId}/campaigns`, body, { 'idempotency-key': key })
const view = async (shop: ProgramFixture, id: string) => (await ctx.call(shop.token, 'GET', `/v1/segment-campaigns/${id}`)).json()
async function finished(shop: ProgramFixture, id: string) {
  await campaignRunsOf(ctx.database).settled(id)
  return view(shop, id)
}
const points = async (shop: ProgramFixture, memberId: string) => (await ctx.call(shop.token, 'GET', `/v1/members/${memberId}/balances`)).json().points.balance as number
/** The campaign's bonus entries per member (reference segment_campaign/<campaign>:<member>). */
async function entriesPerMember(programId: string, campaignId: string): Promise<Map<string, number>> {
  const rows = await queryRows<{ member_id: string; n: string }>(
    ctx.database.db,
    sql`select member_id, count(*)::text as n from journal_entries where program_id = ${programId}::uuid and reference_type = 'segment_campaign' and reference_id like ${`${campaignId}:%`} group by member_id`,
  )
  return new Map(rows.map((r) => [r.member_id, Number(r.n)]))
}
const verify = async (t: Test, shop: ProgramFixture) => {
  const report = (await ctx.call(shop.token, 'GET', '/v1/ledger/verify')).json()
  t.ok(report.ok, `ledger verify clean: ${JSON.stringify(report.discrepancies)}`)
}
const exactlyOnce = async (t: Test, shop: ProgramFixture, campaignId: string, members: string[]) => {
  const entries = await entriesPerMember(shop.id, campaignId)
  t.same([...entries.keys()].sort(), [...members].sort(), 'an entry for every member')
  t.ok([...entries.values()].every((n) => n === 1), 'one entry each')
}

t.test('points to every member once, a marketing event each: queued with consent inside the window, suppressed without', async (t) => {
  const { shop, members, segment, program } = await shopWith(6)
  const res = await start(shop, segment.id, { name: 'Tết', grant: { kind: 'points', points: 150 } })
  t.equal(res.statusCode, 201, res.body)
  const created = res.json()
  t.equal(res.headers.location, `/v1/segment-campaigns/${created.id}`)
  t.match(created, { segmentId: segment.id, name: 'Tết', grant: { kind: 'points', points: 150 }, status: 'running', progress: { done: 0, total: 6 }, filter: {} })
  const done = await finished(shop, created.id)
  t.match(done, { status: 'completed', progress: { done: 6, total: 6 }, granted: 6, skipped: 0, points: 900, coupons: 0, events: { queued: 3, suppressed: 3 }, error: null, completedAt: String })
  for (const m of members) t.equal(await points(shop, m), 150)
  await exactlyOnce(t, shop, created.id, members)
  const entry = (await ctx.call(shop.token, 'GET', `/v1/members/${members[0]}/activity`)).json().data[0]
  t.match(entry, { kind: 'bonus', points: 150 })
  const events = await queryRows<{ member_id: string; status: string; suppressed_reason: string | null; available_at: Date; payload: { offer: { points: number }; name: string } }>(
    ctx.database.db,
    sql`select member_id, status, suppressed_reason, available_at, payload from events where program_id = ${shop.id}::uuid and type = 'campaign.granted'`,
  )
  t.equal(events.length, 6, 'one event a member')
  const reasons = Object.fromEntries(events.map((e) => [e.member_id, e.suppressed_reason]))
  t.same(members.map((m) => reasons[m]), [null, 'do_not_contact', 'no_consent', null, null, 'no_consent'])
  const window = readRules(program.rules).notifications.marketing
  for (const e of events.filter((x) => x.status === 'pending')) t.ok(insideWindow(new Date(e.available_at), program.timezone, window), 'queued for a time inside the sending window')
  t.match(events[0]!.payload, { name: 'Tết', offer: { points: 150 } })
  // Run again: nothing more.
  t.equal((await ctx.call(shop.token, 'POST', `/v1/segment-campaigns/${created.id}/runs`)).statusCode, 202)
  await campaignRunsOf(ctx.database).settled(created.id)
  for (const m of members) t.equal(await points(shop, m), 150, 'a run of a completed campaign grants nothing')
  await verify(t, shop)
})

t.test('a run cut off halfway, with a batch claimed and never applied (a crash), resumes and grants each member once', async (t) => {
  const { shop, members, segment, program } = await shopWith(9)
  const campaign = await ctx.database.transaction((tx) => createCampaign(tx, program, segment.id, { name: 'Crash', grant: { kind: 'points', points: 40 } }, 'test'))
  const first = await runCampaign(ctx.database, program, campaign.id, { batchSize: 2, batchesInFlight: 1, maxBatches: 2 })
  t.match(first, { status: 'stopped', batches: 2, counts: { granted: 4 } })
  const abandoned = await claimMembers(ctx.database.db, program.id, campaign.id, 'a-runner-that-died', NIL, 2, 1)
  t.equal(abandoned.length, 2, 'the dead runner held two members')
  t.match(await view(shop, campaign.id), { status: 'running', progress: { done: 4, total: 9 } }, 'progress readable between runs')
  t.equal((await ctx.call(shop.token, 'POST', `/v1/segment-campaigns/${campaign.id}/runs`)).statusCode, 202)
  const done = await finished(shop, campaign.id)
  t.match(done, { status: 'completed', progress: { done: 9, total: 9 }, granted: 9, points: 360 })
  for (const m of members) t.equal(await points(shop, m), 40)
  await exactlyOnce(t, shop, campaign.id, members)
  await verify(t, shop)
})

t.test('a campaign whose runner went silent is started again by the scheduler, and finishes once', async (t) => {
  const { shop, members, segment, program } = await shopWith(7)
  const campaign = await ctx.database.transaction((tx) => createCampaign(tx, program, segment.id, { name: 'Orphan', grant: { kind: 'points', points: 15 } }, 'test'))
  t.match(await runCampaign(ctx.database, program, campaign.id, { batchSize: 2, batchesInFlight: 1, maxBatches: 1 }), { status: 'stopped', counts: { granted: 2 } })
  const now = new Date()
  t.equal((await ctx.app.scheduler.tick(now, { programIds: [shop.id], jobs: [] })).resumed, 0, 'not while its last heartbeat is within the lease')
  t.match(await view(shop, campaign.id), { status: 'running', progress: { done: 2, total: 7 } })
  const later = new Date(now.getTime() + 2 * 60_000)
  t.equal((await ctx.app.scheduler.tick(later, { programIds: [shop.id], jobs: [] })).resumed, 1, 'silent past the lease: one run started')
  t.match(await finished(shop, campaign.id), { status: 'completed', progress: { done: 7, total: 7 }, granted: 7 })
  t.equal((await ctx.app.scheduler.tick(later, { programIds: [shop.id], jobs: [] })).resumed, 0, 'a completed campaign is not started again')
  for (const m of members) t.equal(await points(shop, m), 15)
  await exactlyOnce(t, shop, campaign.id, members)
  await verify(t, shop)
})

t.test('two runs at once share the members and grant each once', { skip: !onRealPostgres && 'concurrent runs only race on PostgreSQL' }, async (t) => {
  const { shop, members, segment, program } = await shopWith(12)
  const campaign = await ctx.database.transaction((tx) => createCampaign(tx, program, segment.id, { name: 'Twice', grant: { kind: 'points', points: 7 } }, 'test'))
  const runs = await Promise.all(['one', 'two', 'three'].map((runner) => runCampaign(ctx.database, program, campaign.id, { runner, batchSize: 2 })))
  t.equal(runs.reduce((n, r) => n + r.counts.granted, 0), 12, 'the runs together granted each member once')
  t.ok(runs.some((r) => r.status === 'completed'))
  t.match(await view(shop, campaign.id), { status: 'completed', progress: { done: 12, total: 12 }, points: 84 })
  for (const m of members) t.equal(await points(shop, m), 7)
  await exactlyOnce(t, shop, campaign.id, members)
  await verify(t, shop)
})

t.test('a coupon code of a unique-code campaign to each member; unusable coupon campaigns refused', async (t) => {
  const { shop, members, segment } = await shopWith(4)
  const coupon = (await ctx.call(shop.token, 'POST', '/v1/coupons/campaigns', { name: '10%', kind: 'percent', value: '10', codeMode: 'unique' }, { 'idempotency-key': idemKey() })).json()
  const res = await start(shop, segment.id, { name: 'Coupon', grant: { kind: 'coupon', couponCampaignId: coupon.id } })
  t.equal(res.statusCode, 201, res.body)
  t.match(await finished(shop, res.json().id), { status: 'completed', granted: 4, coupons: 4, points: 0 })
  const codes = await queryRows<{ member_id: string; code: string }>(ctx.database.db, sql`select member_id, code from coupons where program_id = ${shop.id}::uuid and campaign_id = ${coupon.id}::uuid`)
  t.same(codes.map((c) => c.member_id).sort(), [...members].sort(), 'a code for each member, issued to them')
  t.equal(new Set(codes.map((c) => c.code)).size, 4, 'all different')
  const events = await queryRows<{ payload: { offer: { couponCode: string } } }>(ctx.database.db, sql`select payload from events where program_id = ${shop.id}::uuid and type = 'campaign.granted'`)
  t.same(events.map((e) => e.payload.offer.couponCode).sort(), codes.map((c) => c.code).sort(), 'each event names the member’s code')
  const shared = (await ctx.call(shop.token, 'POST', '/v1/coupons/campaigns', { name: 'shared', kind: 'percent', value: '5', codeMode: 'shared', sharedCode: `SH${Date.now()}` }, { 'idempotency-key': idemKey() })).json()
  t.equal((await start(shop, segment.id, { name: 'x', grant: { kind: 'coupon', couponCampaignId: shared.id } })).json().code, 'CAMPAIGN_SHARED_CODE')
  t.equal((await start(shop, segment.id, { name: 'x', grant: { kind: 'coupon', couponCampaignId: '01a00000-0000-7000-8000-000000000000' } })).json().code, 'CAMPAIGN_NOT_FOUND')
  await verify(t, shop)
})

t.test('the create replayed by its key answers the same bytes and starts nothing new; erased members are skipped', async (t) => {
  const { shop, members, segment, program } = await shopWith(3)
  const key = idemKey('replay')
  const body = { name: 'Once', grant: { kind: 'points', points: 5 } }
  const campaign = await ctx.database.transaction((tx) => createCampaign(tx, program, segment.id, { name: 'Skip', grant: { kind: 'points', points: 9 } }, 'test'))
  t.equal((await ctx.call(shop.token, 'DELETE', `/v1/members/${members[0]}`)).statusCode, 204, 'a member erased after the campaign was created')
  t.match((await runCampaign(ctx.database, program, campaign.id)).counts, { granted: 2, skipped: 1 })
  t.match(await view(shop, campaign.id), { status: 'completed', progress: { done: 3, total: 3 }, granted: 2, skipped: 1, points: 18 })
  const first = await start(shop, segment.id, body, key)
  await campaignRunsOf(ctx.database).settled(first.json().id)
  const again = await start(shop, segment.id, body, key)
  t.equal(again.statusCode, 201)
  t.equal(again.body, first.body, 'the same bytes')
  t.equal(again.headers['idempotent-replayed'], 'true')
  await campaignRunsOf(ctx.database).settled(first.json().id)
  t.equal((await ctx.call(shop.token, 'GET', `/v1/segment-campaigns?segmentId=${segment.id}`)).json().data.length, 2, 'no third campaign')
  t.equal(await points(shop, members[1]!), 9 + 5)
  t.equal((await start(shop, segment.id, { ...body, name: 'Other' }, key)).json().code, 'IDEMPOTENCY_KEY_REUSED')
  await verify(t, shop)
})

t.test('a member erased between the load of a batch and its apply: the plan is stale, the batch planned again skips them', async (t) => {
  const { shop, members, segment, program } = await shopWith(3)
  const campaign = await ctx.database.transaction((tx) => createCampaign(tx, program, segment.id, { name: 'Late erasure', grant: { kind: 'points', points: 7 } }, 'test'))
  const grant = { id: campaign.id, name: campaign.name, grant: { kind: 'points' as const, points: 7n } }
  const loaded = await loadMemberStates(ctx.database.db, program.id, members)
  t.ok(loaded.every((m) => !m.erased), 'nobody erased when the batch loads')
  const plan = campaignBatchPlan(program, readRules(program.rules), grant, loaded, { now: new Date(), actor: `segment-campaign:${campaign.id}` })
  t.equal((await ctx.call(shop.token, 'DELETE', `/v1/members/${members[1]}`)).statusCode, 204, 'erased before the plan is applied')
  await t.rejects(ctx.database.apply(plan.data), { code: STALE }, 'the plan made from the earlier load is refused')
  t.equal((await entriesPerMember(shop.id, campaign.id)).size, 0, 'nothing of it was written')
  t.match((await runCampaign(ctx.database, program, campaign.id)).counts, { granted: 2, skipped: 1 })
  const entries = await entriesPerMember(shop.id, campaign.id)
  t.same([...entries.keys()].sort(), [members[0]!, members[2]!].sort(), 'the erased member has no entry')
  const events = await queryRows<{ n: string }>(ctx.database.db, sql`select count(*)::text as n from events where program_id = ${shop.id}::uuid and member_id = ${members[1]!}::uuid and type = 'campaign.granted'`)
  t.equal(events[0]!.n, '0', 'and no marketing event')
  await verify(t, shop)
})

t.test('refusals and program isolation', async (t) => {
  const { shop, segment } = await shopWith(1)
  const { shop: other, segment: theirs } = await shopWith(1)
  const res = await start(shop, segment.id, { name: 'Mine', grant: { kind: 'points', points: 1 } })
  const mine = res.json()
  await campaignRunsOf(ctx.database).settled(mine.id)
  t.equal((await ctx.call(other.token, 'GET', `/v1/segment-campaigns/${mine.id}`)).json().code, 'SEGMENT_CAMPAIGN_NOT_FOUND')
  t.equal((await ctx.call(other.token, 'POST', `/v1/segment-campaigns/${mine.id}/runs`)).statusCode, 404)
  t.equal((await start(other, segment.id, { name: 'x', grant: { kind: 'points', points: 1 } })).json().code, 'SEGMENT_NOT_FOUND', 'another program’s segment')
  t.notOk((await ctx.call(other.token, 'GET', '/v1/segment-campaigns?limit=200')).json().data.some((c: { id: string }) => c.id === mine.id))
  t.equal((await start(shop, segment.id, { name: 'x', grant: { kind: 'points', points: 0 } })).statusCode, 400, 'no zero points')
  t.equal((await start(shop, segment.id, { name: 'x', grant: { kind: 'stamps' } })).statusCode, 400)
  await ctx.call(other.token, 'DELETE', `/v1/segments/${theirs.id}`)
  t.equal((await start(other, theirs.id, { name: 'x', grant: { kind: 'points', points: 1 } })).json().code, 'SEGMENT_ARCHIVED')
  const reader = await ctx.createClient(shop.id, ['members:read'])
  t.equal((await ctx.call(reader.token, 'GET', `/v1/segment-campaigns/${mine.id}`)).statusCode, 403, 'campaigns need program:manage')
  await verify(t, shop)
})
