import t from 'tap'
import { sql } from 'drizzle-orm'
import { queryRows } from '../../../src/db/client.js'
import { loadConfig } from '../../../src/config.js'
import { startTestApp, uniqueVnMobile } from '../../helpers/app.js'
import { TestClock } from '../../helpers/clock.js'
import { idemKey, Till, VND_RULES } from '../../helpers/pos.js'

const clock = new TestClock()
const ctx = await startTestApp(t, {}, { now: clock.now })
const program = await ctx.createProgram({ rules: VND_RULES })
const db = ctx.database.db
const DAY = 86_400_000

const ageKey = (key: string, days: number) => queryRows(db, sql`update idempotency_keys set created_at = now() - ${days}::int * interval '1 day' where program_id = ${program.id} and key = ${key}`)
const count = async (q: ReturnType<typeof sql>) => Number((await queryRows<{ n: string | number }>(db, q))[0]!.n)

t.test('IDEMPOTENCY_RETENTION_DAYS: default 30, at least 1 day, at most 3650', async (t) => {
  t.equal(loadConfig({}).idempotency?.retentionDays, 30)
  t.equal(loadConfig({ IDEMPOTENCY_RETENTION_DAYS: '1' }).idempotency?.retentionDays, 1)
  t.throws(() => loadConfig({ IDEMPOTENCY_RETENTION_DAYS: '0' }), /IDEMPOTENCY_RETENTION_DAYS/)
  t.throws(() => loadConfig({ IDEMPOTENCY_RETENTION_DAYS: '3651' }), /IDEMPOTENCY_RETENTION_DAYS/)
  t.throws(() => loadConfig({ IDEMPOTENCY_RETENTION_DAYS: '1.5' }), /IDEMPOTENCY_RETENTION_DAYS/)
})

t.test('a key past the retention is new again, before any purge', async (t) => {
  const key = idemKey('old')
  const first = await ctx.call(program.token, 'POST', '/v1/members', { name: 'An', phone: uniqueVnMobile() }, { 'idempotency-key': key })
  t.equal(first.statusCode, 201)
  await ageKey(key, 29)
  const within = await ctx.call(program.token, 'POST', '/v1/members', { name: 'Other', phone: uniqueVnMobile() }, { 'idempotency-key': key })
  t.equal(within.statusCode, 422, 'within 30 days the key is still taken')
  await ageKey(key, 31)
  const members = await count(sql`select count(*) as n from members where program_id = ${program.id}`)
  const reused = await ctx.call(program.token, 'POST', '/v1/members', { name: 'Other', phone: uniqueVnMobile() }, { 'idempotency-key': key })
  t.equal(reused.statusCode, 201, 'past it the key is new: another body is accepted')
  t.notOk(reused.headers['idempotent-replayed'])
  t.not(reused.json().id, first.json().id, 'a new member')
  t.equal(await count(sql`select count(*) as n from members where program_id = ${program.id}`), members + 1)
  const replay = await ctx.call(program.token, 'POST', '/v1/members', { name: 'Third', phone: uniqueVnMobile() }, { 'idempotency-key': key })
  t.equal(replay.statusCode, 422, 'and the new record answers from now on')
})

t.test('an expired key of a purchase (a plan) is new again too', async (t) => {
  const till = new Till(ctx, program.token)
  const member = await ctx.enrol(program.token)
  const key = idemKey('sale')
  const sale = (externalId: string) => ({ memberId: member.id, storeId: 'S1', terminalId: 'T1', externalId, currency: 'VND', lines: [{ sku: 'A', name: 'A', quantity: 1, unitPrice: '10000' }], tenders: [{ type: 'cash', amount: '10000' }] })
  t.equal((await ctx.call(program.token, 'POST', '/v1/purchases', sale('R-1'), { 'idempotency-key': key })).statusCode, 201)
  await ageKey(key, 31)
  const again = await ctx.call(program.token, 'POST', '/v1/purchases', sale('R-2'), { 'idempotency-key': key })
  t.equal(again.statusCode, 201, 'posted as a new sale')
  t.equal((await till.balances(member.id)).points.balance, 2, 'both sales earned')
})

t.test('purge-idempotency-keys deletes expired records only, and no business row', async (t) => {
  const fresh = idemKey('fresh')
  const old = idemKey('stale')
  await ctx.call(program.token, 'POST', '/v1/members', { name: 'F', phone: uniqueVnMobile() }, { 'idempotency-key': fresh })
  await ctx.call(program.token, 'POST', '/v1/members', { name: 'S', phone: uniqueVnMobile() }, { 'idempotency-key': old })
  const business = async () => [
    await count(sql`select count(*) as n from members where program_id = ${program.id}`),
    await count(sql`select count(*) as n from purchases where program_id = ${program.id}`),
    await count(sql`select count(*) as n from journal_entries where program_id = ${program.id}`),
  ]
  const before = await business()
  const keys = () => queryRows<{ key: string }>(db, sql`select key from idempotency_keys where program_id = ${program.id} and key in (${fresh}, ${old}) order by key`)
  clock.set(new Date(Date.now() + 31 * DAY))
  await ageKey(fresh, -31) // created "now" on the clock's day: younger than the retention there
  const dry = await ctx.call(program.token, 'POST', '/v1/jobs/purge-idempotency-keys/runs', { dryRun: true })
  t.equal(dry.statusCode, 200)
  t.ok(dry.json().affected.some((a: { action: string; detail: { idempotencyKey: string } }) => a.action === 'purge' && a.detail.idempotencyKey === old), 'the dry run lists the stale key')
  t.equal((await keys()).length, 2, 'the dry run deleted nothing')
  const run = await ctx.call(program.token, 'POST', '/v1/jobs/purge-idempotency-keys/runs', {})
  t.equal(run.statusCode, 201, run.body)
  t.ok(run.json().result.purged >= 1)
  t.same((await keys()).map((k) => k.key), [fresh], 'the stale key is gone, the fresh one stays')
  t.same(await business(), before, 'members, purchases and entries untouched')
})
