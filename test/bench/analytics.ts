// Analytics at size (`npm run bench:analytics`): not a test. Seeds one program with
// BENCH_ANALYTICS_MEMBERS members (default 1,000,000) and BENCH_ANALYTICS_PURCHASES purchases
// (default 10,000,000) with SQL (insert ... select from generate_series, no API, no COPY) into the
// empty PostgreSQL in BENCH_DATABASE_URL, starts the service on it and times every analytics
// endpoint (summary, cohorts, RFM, lifecycle, NPS) and the RFM segment / lifecycle stage member
// lists, each a first call and a warm repeat, with the server's resident memory. Then it runs the
// nightly analytics snapshot job and times the same reports served from it.
// A quick run: BENCH_ANALYTICS_MEMBERS=20000 BENCH_ANALYTICS_PURCHASES=200000. Again on the same
// database without seeding: BENCH_ANALYTICS_REUSE=1 (and BENCH_ANALYTICS_LIVE=0 to skip the live
// pass). The server runs with ANALYTICS_SNAPSHOT_MIN_PURCHASES=0, so any size is snapshotted.
import { randomUUID } from 'node:crypto'
import postgres from 'postgres'
import { request } from 'undici'
import { snapshotPeriods } from '../../src/modules/analytics/snapshot.js'
import { machineLine, mib, sampleMemory, memoryOf, cpuSecondsOf } from './process-stats.js'
import { startService, type Service } from './service.js'

const url = process.env.BENCH_DATABASE_URL
if (!url) {
  console.error('Set BENCH_DATABASE_URL to an empty PostgreSQL database, e.g. postgres://postgres@127.0.0.1:5432/loyalty_analytics_bench')
  process.exit(1)
}
const MEMBERS = Number(process.env.BENCH_ANALYTICS_MEMBERS ?? 1_000_000)
const PURCHASES = Number(process.env.BENCH_ANALYTICS_PURCHASES ?? 10_000_000)
/** Skip seeding when the database already holds a seeded program (re-measuring after a change). */
const REUSE = process.env.BENCH_ANALYTICS_REUSE === '1'
const PORT = Number(process.env.BENCH_PORT ?? 3997)
const NPS_RESPONSES = Math.round(MEMBERS * 0.3)

const TIERS = {
  metric: 'spend',
  levels: [
    { code: 'member', name: 'Member', threshold: '0' },
    { code: 'silver', name: 'Silver', threshold: '5000000', earnMultiplier: '1.5', discountPercent: '5' },
    { code: 'gold', name: 'Gold', threshold: '20000000', earnMultiplier: '2', discountPercent: '10' },
  ],
}

const uuidOf = (prefix: string, n: string) => `('${prefix}' || lpad(to_hex(${n}), 12, '0'))::uuid`

/**
 * The load, one statement per table inside one transaction, deterministic (setseed):
 * - members enrolled over the last three years; 70% give a birthday, 40% SMS and 30% e-mail
 *   consent, 5% do not want contact; 20% hold silver or gold
 * - purchases over the last two years, skewed (a few members buy often, 15% never buy): 96%
 *   completed, 3% voided, 1% held (pending); amounts 30,000 to 3,000,000 VND, one line each;
 *   3% returned in part, 1% wholly
 * - NPS answers from 30% of the members' count, over the last two years
 * The purchases' secondary indexes are dropped before the load and built after it (faster than
 * maintaining them row by row); the statements' triggers are off for the session when the role may.
 */
async function seed(sql: postgres.Sql, programId: string): Promise<void> {
  const indexes = await sql<{ indexname: string; indexdef: string }[]>`
    select indexname, indexdef from pg_indexes where tablename = 'purchases' and indexname <> 'purchases_pkey'`
  const step = async (label: string, run: () => Promise<unknown>) => {
    const t0 = performance.now()
    await run()
    console.log(`  ${label}: ${((performance.now() - t0) / 1000).toFixed(1)} s`)
  }
  await sql.begin(async (tx) => {
    try {
      await tx`set local session_replication_role = replica`
    } catch {
      console.log('(not allowed to skip triggers: seeding with them on, slower)')
    }
    await tx`set local maintenance_work_mem = '512MB'`
    await tx`select setseed(0.42)`
    for (const i of indexes) await tx.unsafe(`drop index ${i.indexname}`)
    await step(`${MEMBERS.toLocaleString('en')} members`, () => tx.unsafe(`
      insert into members (program_id, id, name, phone, email, birthday, sms_marketing_consent, sms_marketing_consent_at,
                           email_marketing_consent, email_marketing_consent_at, do_not_contact, created_at, updated_at, referral_code)
      select $1::uuid, ${uuidOf('a0000000-0000-7000-8000-', 'i')}, 'Member ' || i, '09' || lpad(i::text, 8, '0'),
             case when i % 3 = 0 then 'm' || i || '@example.com' end,
             case when random() < 0.7 then date '1960-01-01' + (random() * 16000)::int end,
             sms, case when sms then enrolled end, mail, case when mail then enrolled end, random() < 0.05, enrolled, enrolled,
             'R' || lpad(to_hex(i), 9, '0')
        from (select i, now() - random() * interval '1095 days' as enrolled, random() < 0.4 as sms, random() < 0.3 as mail
                from generate_series(0, ${MEMBERS - 1}) as i) m`, [programId]))
    await step('member tiers', () => tx.unsafe(`
      insert into member_tiers (program_id, member_id, tier_code, since, guaranteed_until)
      select $1::uuid, ${uuidOf('a0000000-0000-7000-8000-', 'i')}, case when i % 20 < 3 then 'silver' else 'gold' end,
             now() - interval '100 days', now() + interval '265 days'
        from generate_series(0, ${MEMBERS - 1}) as i where i % 20 < 4`, [programId]))
    await step(`${PURCHASES.toLocaleString('en')} purchases`, () => tx.unsafe(`
      insert into purchases (program_id, id, member_id, store_id, terminal_id, external_id, occurred_at, currency, status,
                             lines, tenders, subtotal, discount_total, total, money_paid, points_earned, points_redeemed,
                             stored_value_used, returned_total, points_clawed_back, points_debt, return_mode, holds,
                             hold_expires_at, rules_effective_from, warnings, created_at, updated_at, created_by)
      select $1::uuid, ${uuidOf('b0000000-0000-7000-8000-', 'i')}, ${uuidOf('a0000000-0000-7000-8000-', 'member_n')},
             'S' || (i % 50), 'T1', i::text, at, 'VND', status,
             jsonb_build_array(jsonb_build_object('sku', 'SKU' || (i % 997), 'quantity', 1, 'unitPrice', total::text, 'total', total::text)),
             jsonb_build_array(jsonb_build_object('type', 'cash', 'amount', total::text)),
             total, 0, total, total, total / 10000, 0, 0,
             case when r < 0.01 then total when r < 0.04 then total / 4 else 0 end, 0, 0,
             case when r < 0.04 then 'amount' end, '{}'::jsonb,
             case when status = 'pending' then at + interval '7 days' end, at, '[]'::jsonb, at, at, 'bench'
        from (select i, floor(${Math.floor(MEMBERS * 0.85)} * power(random(), 1.5))::int as member_n,
                     now() - random() * interval '730 days' as at,
                     (round(exp(ln(30000) + random() * ln(100)) / 1000) * 1000)::bigint as total,
                     random() as r,
                     case when random() < 0.96 then 'completed' when random() < 0.75 then 'voided' else 'pending' end as status
                from generate_series(0, ${PURCHASES - 1}) as i) p`, [programId]))
    await step(`${NPS_RESPONSES.toLocaleString('en')} NPS answers`, () => tx.unsafe(`
      insert into nps_responses (program_id, id, member_id, score, channel, responded_at, recorded_by)
      select $1::uuid, ${uuidOf('c0000000-0000-7000-8000-', 'i')}, ${uuidOf('a0000000-0000-7000-8000-', `(i::bigint * 7919) % ${MEMBERS}`)},
             least(10, floor(random() * 12))::int, 'pos', now() - random() * interval '730 days', 'bench'
        from generate_series(0, ${NPS_RESPONSES - 1}) as i`, [programId]))
    await step(`the purchases' ${indexes.length} secondary indexes`, async () => {
      for (const i of indexes) await tx.unsafe(i.indexdef)
    })
  })
  for (const table of ['members', 'member_tiers', 'purchases', 'nps_responses']) await sql.unsafe(`vacuum analyze ${table}`)
}

interface Timed {
  seconds: number
  status: number
  rssBefore: number
  rssMax: number
  cpu: number
  body: any
  asOfHeader?: string
}

async function timed(service: Service, path: string, tk: string): Promise<Timed> {
  const pid = service.child.pid!
  const cpu0 = cpuSecondsOf(pid)
  const sampler = sampleMemory(pid)
  const t0 = performance.now()
  const res = await request(`${service.base}${path}`, { headers: { authorization: `Bearer ${tk}` }, headersTimeout: 0, bodyTimeout: 0 })
  const text = await res.body.text()
  const seconds = (performance.now() - t0) / 1000
  const { before, max } = sampler.stop()
  if (res.statusCode !== 200) throw new Error(`${path}: ${res.statusCode} ${text}`)
  const asOfHeader = res.headers['analytics-as-of'] as string | undefined
  return { seconds, status: res.statusCode, rssBefore: before, rssMax: max, cpu: cpuSecondsOf(pid) - cpu0, body: JSON.parse(text), asOfHeader }
}

/** The last 365 days to yesterday (program zone): a period the snapshot job computes. */
function lastYear(tz: string): string {
  const { from, to } = snapshotPeriods(new Date(), tz).summaries[1]!
  return `from=${from.toISOString()}&to=${to.toISOString()}`
}

async function measureAll(service: Service, tk: string, tz: string, label: string): Promise<Record<string, number>> {
  const period = lastYear(tz)
  const paths: [string, string][] = [
    ['summary (last 365 days)', `/v1/analytics/summary?${period}`],
    ['cohorts (last 365 days by month)', `/v1/analytics/cohorts?${period}&by=month`],
    ['rfm', '/v1/analytics/rfm'],
    ['lifecycle', '/v1/analytics/lifecycle'],
    ['nps (12 months)', `/v1/analytics/nps?${period}`],
    ['members?segment=champions (first page)', '/v1/members?segment=champions&limit=50'],
    ['members?stage=mature (first page)', '/v1/members?stage=mature&limit=50'],
  ]
  const figures: Record<string, number> = {}
  console.log(`\n${label}:`)
  for (const [name, path] of paths) {
    const first = await timed(service, path, tk)
    const warm = await timed(service, path, tk)
    figures[name] = Math.max(first.seconds, warm.seconds)
    const servedFrom = first.body?.snapshot ? ` (from the snapshot as of ${first.body.snapshot.asOf})` : first.asOfHeader ? ` (from the snapshot as of ${first.asOfHeader})` : ''
    console.log(
      `  ${name}: first ${first.seconds.toFixed(2)} s, warm ${warm.seconds.toFixed(2)} s${servedFrom}; ` +
        `server RSS ${mib(first.rssBefore)} before, at most ${mib(Math.max(first.rssMax, warm.rssMax))}; server CPU ${(first.cpu + warm.cpu).toFixed(1)} s`,
    )
  }
  return figures
}

async function main() {
  console.log(`${await machineLine()}; ${MEMBERS.toLocaleString('en')} members, ${PURCHASES.toLocaleString('en')} purchases`)
  const sql = postgres(url!, { max: 1, onnotice: () => {} })
  process.env.ANALYTICS_SNAPSHOT_MIN_PURCHASES ??= '0' // the service inherits the environment
  const service = await startService({ url: url!, port: PORT, poolSize: '4', httpConnections: 1 })
  try {
    const idem = () => ({ 'idempotency-key': randomUUID() })
    let programId: string
    const existing = REUSE ? await sql<{ id: string }[]>`select id from programs where name = 'Analytics bench' order by created_at desc limit 1` : []
    if (existing[0]) {
      programId = existing[0].id
      console.log(`reusing the seeded program ${programId}`)
    } else {
      const program = (await service.call('POST', '/v1/programs', service.admin, { name: 'Analytics bench', currency: 'VND', rules: { earning: { points: 1, per: '10000' }, pointValue: '100', tiers: TIERS } }, idem())).body
      programId = program.id
      const t0 = performance.now()
      console.log('seeding:')
      await seed(sql, programId)
      console.log(`seeded in ${((performance.now() - t0) / 1000).toFixed(1)} s (including vacuum analyze)`)
    }
    const client = (await service.call('POST', `/v1/programs/${programId}/clients`, service.admin, { name: 'analyst', scopes: ['finance:read', 'members:read', 'program:manage'] }, idem())).body
    const tk = (await service.call('POST', '/v1/oauth/token', undefined, { grant_type: 'client_credentials', client_id: client.clientId, client_secret: client.clientSecret })).body.access_token as string
    const [size] = await sql<{ purchases: string; bytes: string }[]>`select count(*)::text as purchases, pg_total_relation_size('purchases')::text as bytes from purchases where program_id = ${programId}`
    console.log(`purchases table: ${Number(size!.purchases).toLocaleString('en')} rows, ${(Number(size!.bytes) / 1024 ** 3).toFixed(1)} GiB with indexes`)
    console.log(`server resident memory after start: ${mib(memoryOf(service.child.pid!).rss)}`)

    const [{ timezone } = { timezone: 'Asia/Ho_Chi_Minh' }] = await sql<{ timezone: string }[]>`select timezone from programs where id = ${programId}`
    if (process.env.BENCH_ANALYTICS_LIVE !== '0') await measureAll(service, tk, timezone, 'live (no snapshot yet)')

    const job = process.env.BENCH_ANALYTICS_JOB ?? 'analytics-snapshot'
    const t0 = performance.now()
    const sampler = sampleMemory(service.child.pid!)
    // The run answers when it is done (minutes at size): no client timeout.
    const res = await request(`${service.base}/v1/jobs/${job}/runs`, { method: 'POST', headers: { authorization: `Bearer ${tk}`, 'content-type': 'application/json' }, body: '{}', headersTimeout: 0, bodyTimeout: 0 })
    const run = { status: res.statusCode, body: JSON.parse(await res.body.text()) }
    const mem = sampler.stop()
    if (run.status === 404) {
      console.log(`\n(no ${job} job: nothing served from a snapshot)`)
    } else {
      console.log(`\n${job} job: ${run.status} in ${((performance.now() - t0) / 1000).toFixed(1)} s, server RSS at most ${mib(mem.max)}; ${JSON.stringify(run.body?.result ?? run.body)}`)
      await measureAll(service, tk, timezone, 'after the snapshot job')
    }
    console.log(`\nserver peak resident memory over the whole run: ${mib(memoryOf(service.child.pid!).peak)}`)
  } finally {
    await sql.end({ timeout: 5 })
    await service.stop()
  }
}

await main()
