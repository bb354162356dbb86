// Segment campaign benchmark (`npm run bench:campaign`): not a test. Starts the service on the
// empty PostgreSQL in BENCH_DATABASE_URL, seeds BENCH_CAMPAIGN_MEMBERS members (100,000) with SQL
// (two in three with SMS consent), saves a segment of all of them and runs a points campaign to
// it through the API, sampling its progress (`done`/`total`) while it runs. Prints the time from
// the create request to completed, members/s, the service's CPU, and the ledger check.
import { randomUUID } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { setTimeout as sleep } from 'node:timers/promises'
import postgres from 'postgres'
import { startService, verifyLedger } from './service.js'

const url = process.env.BENCH_DATABASE_URL
if (!url) {
  console.error('Set BENCH_DATABASE_URL to an empty PostgreSQL database, e.g. postgres://postgres@127.0.0.1:5432/campaign_bench')
  process.exit(1)
}
const MEMBERS = Number(process.env.BENCH_CAMPAIGN_MEMBERS ?? 100_000)
const PORT = Number(process.env.BENCH_PORT ?? 3997)

function cpuSecondsOf(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ')
  return (Number(fields[11]) + Number(fields[12])) / 100
}

const service = await startService({ url, port: PORT, poolSize: '8', httpConnections: 4 })
const sqlClient = postgres(url, { max: 1, onnotice: () => undefined })
try {
  const { call, admin } = service
  const pid = service.child.pid!
  const program = (await call('POST', '/v1/programs', admin, { name: 'Campaign bench', currency: 'VND', rules: { earning: { points: 1, per: '10000' }, pointsExpiry: { afterDays: 365 } } }, { 'idempotency-key': randomUUID() })).body
  const client = (await call('POST', `/v1/programs/${program.id}/clients`, admin, { name: 'bench', scopes: ['program:manage', 'members:read', 'finance:read'] }, { 'idempotency-key': randomUUID() })).body
  const token = (await call('POST', '/v1/oauth/token', undefined, { grant_type: 'client_credentials', client_id: client.clientId, client_secret: client.clientSecret })).body.access_token as string

  let started = performance.now()
  await sqlClient`
    insert into members (program_id, id, name, phone, birthday, sms_marketing_consent, created_at, updated_at)
    select ${program.id}::uuid, gen_random_uuid(), 'Member ' || i, '+8498' || lpad(i::text, 7, '0'), date '1990-01-01' + (i % 365), i % 3 <> 0,
           now() - interval '1 day', now() - interval '1 day'
      from generate_series(1, ${MEMBERS}::int) i`
  await sqlClient`analyze members`
  console.log(`seeded ${MEMBERS.toLocaleString('en')} members with SQL in ${((performance.now() - started) / 1000).toFixed(1)} s`)

  const segment = (await call('POST', '/v1/segments', token, { name: 'Everyone', filter: {} }, { 'idempotency-key': randomUUID() })).body
  started = performance.now()
  const count = (await call('GET', `/v1/segments/${segment.id}/count`, token)).body
  console.log(`count: ${count.members} members in ${(performance.now() - started).toFixed(0)} ms`)

  const cpuBefore = cpuSecondsOf(pid)
  started = performance.now()
  const created = await call('POST', `/v1/segments/${segment.id}/campaigns`, token, { name: 'Tết 2027', grant: { kind: 'points', points: 100 } }, { 'idempotency-key': randomUUID() })
  if (created.status !== 201) throw new Error(`campaign: ${created.status} ${JSON.stringify(created.body)}`)
  console.log(`created (members materialized): total ${created.body.progress.total} in ${((performance.now() - started) / 1000).toFixed(1)} s`)
  let view = created.body
  while (view.status === 'running') {
    await sleep(2000)
    view = (await call('GET', `/v1/segment-campaigns/${created.body.id}`, token)).body
    console.log(`  ${((performance.now() - started) / 1000).toFixed(1)} s: ${view.progress.done} / ${view.progress.total}`)
  }
  const seconds = (performance.now() - started) / 1000
  console.log(`campaign ${view.status}: ${view.progress.done.toLocaleString('en')} members in ${seconds.toFixed(1)} s = ${Math.round(view.progress.done / seconds).toLocaleString('en')} members/s (sampled every 2 s)`)
  console.log(`  granted ${view.granted}, points ${view.points}, events queued ${view.events.queued}, suppressed ${view.events.suppressed}; service CPU ${(cpuSecondsOf(pid) - cpuBefore).toFixed(1)} s`)
  const verify = await verifyLedger(service, { programId: program.id, token, members: [] })
  console.log(verify.line)
  if (!verify.clean || view.status !== 'completed') process.exitCode = 1
} finally {
  await sqlClient.end()
  await service.stop()
}
