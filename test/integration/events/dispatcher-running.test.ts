// The dispatcher as it runs in the service: on when WEBHOOK_DISPATCH_INTERVAL_MS > 0, woken by
// committed events, and never holding up a shutdown.
import t from 'tap'
import { sql } from 'drizzle-orm'
import { buildCheckedApp } from '../../helpers/contract-hooks.js'
import { queryRows } from '../../../src/db/client.js'
import { openPgliteTestDatabase, testConfig, TestApp } from '../../helpers/app.js'
import { WebhookReceiver } from '../../helpers/receiver.js'

// Its own in-memory database even when the suite runs on a shared PostgreSQL: a running
// dispatcher would otherwise deliver the events of the test files running beside it.
const database = await openPgliteTestDatabase(1)
t.teardown(() => database.close())
const receiver = await WebhookReceiver.start()
t.teardown(() => receiver.close())

t.test('a running dispatcher delivers a committed event without being called', async (t) => {
  // A long poll interval: the delivery comes from the wake-up of the committed event.
  const app = await buildCheckedApp(t, testConfig({ database: { dataDir: 'memory://', poolSize: 1, migrateOnStart: false }, webhooks: { dispatchIntervalMs: 3_600_000, allowPrivateUrls: true } }), { database })
  await app.ready()
  t.teardown(() => app.close())
  const ctx = new TestApp(app, database)
  const program = await ctx.createProgram()
  t.equal((await ctx.call(program.token, 'POST', '/v1/webhooks', { url: receiver.url, eventTypes: ['member.enrolled'] })).statusCode, 201)
  const before = receiver.received.length
  const m = await ctx.enrol(program.token)
  await receiver.waitFor(before + 1)
  t.equal(receiver.of('member.enrolled', m.id).length, 1)
})

t.test('shutting down aborts a delivery in flight; it stays pending and is retried later', async (t) => {
  const app = await buildCheckedApp(t, testConfig({ database: { dataDir: 'memory://', poolSize: 1, migrateOnStart: false }, webhooks: { dispatchIntervalMs: 3_600_000, allowPrivateUrls: true } }), { database })
  await app.ready()
  const ctx = new TestApp(app, database)
  const program = await ctx.createProgram()
  t.equal((await ctx.call(program.token, 'POST', '/v1/webhooks', { url: receiver.url, eventTypes: ['member.enrolled'] })).statusCode, 201)
  receiver.hang()
  const before = receiver.received.length
  const m = await ctx.enrol(program.token)
  await receiver.waitFor(before + 1)
  // The receiver never answers (the request would time out after 10 s); close must not wait for it.
  await app.close()
  const [delivery] = await queryRows<{ status: string; attempts: number; logged: number }>(
    database.db,
    sql`select d.status, d.attempts, (select count(*)::int from webhook_attempts a where a.program_id = d.program_id and a.delivery_id = d.id) as logged
          from webhook_deliveries d join events e on e.program_id = d.program_id and e.id = d.event_id
         where e.member_id = ${m.id}::uuid`,
  )
  t.same(delivery, { status: 'pending', attempts: 1, logged: 0 }, 'not counted as the endpoint’s failure; its lease expires and it is sent again')
})
