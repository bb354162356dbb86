import t from 'tap'
import { sql } from 'drizzle-orm'
import { queryRows } from '../../../src/db/client.js'
import { startTestApp } from '../../helpers/app.js'
import { idemKey } from '../../helpers/pos.js'

const ctx = await startTestApp(t)
const program = await ctx.createProgram()
const pos = await ctx.createClient(program.id, ['pos'])
const app = await ctx.createClient(program.id, ['members:write'])
const finance = await ctx.createClient(program.id, ['finance:read'])
const member = await ctx.enrol(program.token)

const answer = (body: Record<string, unknown>, token = pos.token, key = idemKey('nps')) => ctx.call(token, 'POST', '/v1/surveys/nps/responses', body, { 'idempotency-key': key })

t.test('an answer is recorded with its category', async (t) => {
  const res = await answer({ memberId: member.id, score: 9, comment: 'Cà phê ngon, nhân viên thân thiện', channel: 'pos', respondedAt: '2024-01-05T03:00:00Z' })
  t.equal(res.statusCode, 201)
  t.match(res.json(), { memberId: member.id, score: 9, category: 'promoter', channel: 'pos', comment: 'Cà phê ngon, nhân viên thân thiện', respondedAt: '2024-01-05T03:00:00.000Z' })
  const viaApp = await answer({ memberId: member.id, score: 7, channel: 'app', respondedAt: '2024-01-06T03:00:00Z' }, app.token)
  t.equal(viaApp.statusCode, 201, 'members:write may record answers too')
  t.equal(viaApp.json().category, 'passive')
  t.equal(viaApp.json().comment, null)
})

t.test('a retried answer is recorded once', async (t) => {
  const key = idemKey('nps-retry')
  const body = { memberId: member.id, score: 2, channel: 'sms', respondedAt: '2024-01-07T03:00:00Z' }
  const first = await answer(body, pos.token, key)
  const again = await answer(body, pos.token, key)
  t.equal(again.statusCode, 201)
  t.equal(again.headers['idempotent-replayed'], 'true')
  t.equal(again.json().id, first.json().id)
})

t.test('refusals', async (t) => {
  for (const [body, status, why] of [
    [{ memberId: member.id, score: 11, channel: 'pos' }, 400, 'score above 10'],
    [{ memberId: member.id, score: -1, channel: 'pos' }, 400, 'negative score'],
    [{ memberId: member.id, score: 7.5, channel: 'pos' }, 400, 'fractional score'],
    [{ memberId: member.id, score: 7, channel: 'fax' }, 400, 'unknown channel'],
    [{ memberId: member.id, score: 7, channel: 'pos', respondedAt: '2099-01-01T00:00:00Z' }, 400, 'answered in the future'],
    [{ memberId: '0190b3a0-0000-7000-8000-000000000000', score: 7, channel: 'pos' }, 404, 'unknown member'],
  ] as const) {
    t.equal((await answer(body)).statusCode, status, why)
  }
  t.equal((await answer({ memberId: member.id, score: 7, channel: 'pos' }, finance.token)).statusCode, 403, 'finance:read cannot record answers')
  const noKey = await ctx.call(pos.token, 'POST', '/v1/surveys/nps/responses', { memberId: member.id, score: 7, channel: 'pos' })
  t.equal(noKey.statusCode, 400, 'an Idempotency-Key is required')
  const erased = await ctx.enrol(program.token)
  await ctx.call(program.token, 'DELETE', `/v1/members/${erased.id}`)
  const late = await answer({ memberId: erased.id, score: 10, channel: 'pos' })
  t.equal(late.statusCode, 409)
  t.equal(late.json().code, 'MEMBER_ERASED')
})

t.test('erasing a member erases their comments; their scores still count, anonymously', async (t) => {
  const other = await ctx.createProgram()
  const m = await ctx.enrol(other.token)
  const res = await answer({ memberId: m.id, score: 4, comment: 'Tôi là Lan, gọi 0912345678', channel: 'sms', respondedAt: '2024-05-05T05:00:00Z' }, (await ctx.createClient(other.id, ['pos'])).token)
  t.equal(res.statusCode, 201)
  t.equal((await ctx.call(other.token, 'DELETE', `/v1/members/${m.id}`)).statusCode, 204)
  const [row] = await queryRows<{ comment: string | null; score: number }>(ctx.database.db, sql`select comment, score from nps_responses where program_id = ${other.id} and id = ${res.json().id}`)
  t.same({ comment: row!.comment, score: Number(row!.score) }, { comment: null, score: 4 })
  t.match((await ctx.call(other.token, 'GET', '/v1/analytics/nps?from=2024-05-01&to=2024-05-31')).json(), { responses: 1, detractors: 1 })
})

t.test('erasure is all or nothing: when the comments cannot be erased, the member is not erased either', async (t) => {
  const other = await ctx.createProgram()
  const m = await ctx.enrol(other.token, { name: 'Trần Thị Lan' })
  const res = await answer({ memberId: m.id, score: 3, comment: 'Gọi tôi: 0912345678', channel: 'sms', respondedAt: '2024-05-05T05:00:00Z' }, (await ctx.createClient(other.id, ['pos'])).token)
  t.equal(res.statusCode, 201)
  // An injected fault: this member's survey rows refuse to change.
  const name = `nps_fault_${m.id.replace(/-/g, '')}`
  await ctx.database.db.execute(sql.raw(`create function ${name}() returns trigger language plpgsql as $$ begin raise exception 'injected fault'; end $$`))
  await ctx.database.db.execute(sql.raw(`create trigger ${name} before update on nps_responses for each row when (old.member_id = '${m.id}') execute function ${name}()`))
  const failed = await ctx.call(other.token, 'DELETE', `/v1/members/${m.id}`)
  await ctx.database.db.execute(sql.raw(`drop trigger ${name} on nps_responses`))
  await ctx.database.db.execute(sql.raw(`drop function ${name}()`))
  t.equal(failed.statusCode, 500, 'the injected fault fails the erasure')
  t.equal((await ctx.call(other.token, 'GET', `/v1/members/${m.id}`)).json().name, 'Trần Thị Lan', 'the member was not erased halfway')
  t.equal((await ctx.call(other.token, 'DELETE', `/v1/members/${m.id}`)).statusCode, 204, 'erasing again succeeds')
  const [row] = await queryRows<{ comment: string | null }>(ctx.database.db, sql`select comment from nps_responses where program_id = ${other.id} and id = ${res.json().id}`)
  t.equal(row!.comment, null, 'and takes the comment with it')
  t.equal((await ctx.call(other.token, 'GET', `/v1/members/${m.id}`)).json().name, null)
})

t.test('NPS for a period with its monthly trend, computed by hand', async (t) => {
  const other = await ctx.createProgram()
  const otherPos = await ctx.createClient(other.id, ['pos'])
  const people = await Promise.all(Array.from({ length: 4 }, () => ctx.enrol(other.token)))
  const scores: [string, number][] = [
    ['2023-12-31T20:00:00Z', 10], // 1 January 2024, 03:00 in Ho Chi Minh City
    ['2024-01-10T05:00:00Z', 10],
    ['2024-01-11T05:00:00Z', 9],
    ['2024-01-12T05:00:00Z', 8],
    ['2024-01-13T05:00:00Z', 3],
    ['2024-02-10T05:00:00Z', 6],
    ['2024-02-11T05:00:00Z', 6],
    ['2024-02-12T05:00:00Z', 10],
    ['2024-03-10T05:00:00Z', 7],
    ['2024-04-01T05:00:00Z', 0], // after the period
    ['2023-12-31T16:00:00Z', 0], // 31 December 2023 in Ho Chi Minh City: before it
  ]
  for (const [i, [at, score]] of scores.entries()) {
    const res = await answer({ memberId: people[i % 4]!.id, score, channel: 'sms', respondedAt: at }, otherPos.token)
    t.equal(res.statusCode, 201)
  }
  const res = await ctx.call(other.token, 'GET', '/v1/analytics/nps?from=2024-01-01&to=2024-03-31')
  t.equal(res.statusCode, 200)
  const body = res.json()
  t.match(body, { responses: 9, promoters: 4, passives: 2, detractors: 3, nps: 11.11 }, '(4 - 3) / 9')
  t.same(body.trend, [
    { month: '2024-01', responses: 5, promoters: 3, passives: 1, detractors: 1, nps: 40 },
    { month: '2024-02', responses: 3, promoters: 1, passives: 0, detractors: 2, nps: -33.33 },
    { month: '2024-03', responses: 1, promoters: 0, passives: 1, detractors: 0, nps: 0 },
  ])
  const empty = (await ctx.call(other.token, 'GET', '/v1/analytics/nps?from=2020-01-01&to=2020-12-31')).json()
  t.match(empty, { responses: 0, promoters: 0, passives: 0, detractors: 0, nps: null, trend: [] })
  t.equal((await ctx.call(otherPos.token, 'GET', '/v1/analytics/nps?from=2024-01-01&to=2024-03-31')).statusCode, 403, 'reading NPS is finance:read')
})
