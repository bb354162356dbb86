import t, { type Test as Tap } from 'tap'
import { startTestApp, uniqueVnMobile } from '../helpers/app.js'
import { documentOf, leavesOf, operationsOf, sample, urlOf, withLeaf, type JsonSchema, type Known, type Operation } from '../helpers/openapi-requests.js'
import { idemKey, VND_RULES } from '../helpers/pos.js'

// Dates at the edges of the calendar, sent to every date and date-time parameter (query and body)
// of every operation in the OpenAPI document: no answer is a 5xx, every refusal is a problem with
// a stable code, a date outside 1900-2999 is a 400 naming the field, and supported edge dates
// (local mean time in 1900, leap days, days of 23 and 25 hours) mean the day of the program zone.
// Job runs (asOf) are covered by their own suite.
const ctx = await startTestApp(t)
const program = await ctx.createProgram({ rules: VND_RULES })
const member = await ctx.enrol(program.token)
const known: Known = { memberId: member.id, currency: 'VND', storeId: 'S1', terminalId: 'T1', amount: '10000', name: 'Edge', score: 9 }

const OUTSIDE = ['0001-01-01', '1899-12-31', '3000-01-01', '9999-12-31', '0001-01-01T00:00:00Z', '1899-12-31T23:59:59Z', '1900-01-01T00:00:00+07:00', '3000-01-01T00:00:00Z', '9999-12-31T23:59:59Z']
const MALFORMED = ['10000-01-01', '+010000-01-01T00:00:00Z', '2025-02-29', '2025-02-29T00:00:00Z', '1900-13-01', '2025-03-09T24:00:00-05:00']
const SUPPORTED = ['1900-01-01', '1900-01-01T00:00:00Z', '2024-02-29', '2024-02-29T12:00:00+07:00', '2025-03-09', '2025-03-09T02:30:00-05:00', '2025-11-02T01:30:00-04:00', '2025-10-26', '2999-12-31', '2999-12-31T23:59:59.999Z']
/** A valid partner for the other end of a range, whatever its schema. */
const PARTNER: Record<string, string> = { from: '1900-01-01T00:00:00Z', to: '2999-12-31T23:59:59Z' }

const isDateSchema = (s: JsonSchema): boolean => ['date', 'date-time'].includes(s.format) || ((s.anyOf ?? s.oneOf) as JsonSchema[] | undefined)?.some(isDateSchema) === true

const doc = await documentOf(ctx.app)
const operations = operationsOf(doc).filter((op) => !op.path.startsWith('/docs') && !op.path.startsWith('/v1/jobs'))

interface Target {
  op: Operation
  field: string
  send: (value: string) => ReturnType<typeof ctx.inject>
}

function targetsOf(op: Operation): Target[] {
  const headers = (): Record<string, string> => ({ authorization: `Bearer ${program.token}`, ...(op.idempotent ? { 'idempotency-key': idemKey('edge') } : {}) })
  const body = op.body ? sample(op.body.schema, known) : undefined
  const query = op.parameters.filter((p) => p.in === 'query' && isDateSchema(p.schema)).map((p) => ({
    op,
    field: `querystring/${p.name}`,
    send: (value: string) => {
      const partners = Object.fromEntries(op.parameters.filter((o) => o.in === 'query' && o.name !== p.name && PARTNER[o.name]).map((o) => [o.name, PARTNER[o.name]!]))
      return ctx.inject({ method: op.method as 'GET', url: urlOf(op, known, {}, { ...partners, [p.name]: value }), headers: headers(), ...(body === undefined ? {} : { payload: body as object }) })
    },
  }))
  const leaves = op.body ? leavesOf(op.body.schema).filter((l) => isDateSchema(l.schema) && !l.path.some((k) => typeof k === 'number')) : []
  const inBody = leaves.map((leaf) => ({
    op,
    field: `body/${leaf.path.join('/')}`,
    send: (value: string) => ctx.inject({ method: op.method as 'POST', url: urlOf(op, known), headers: headers(), payload: withLeaf(body, leaf.path, value) as object }),
  }))
  return [...query, ...inBody]
}

const targets = operations.flatMap(targetsOf)
t.ok(targets.length >= 20, `${targets.length} date parameters found in ${new Set(targets.map((x) => x.op.id)).size} operations`)

t.test('no date answers a 5xx; every refusal is a problem with a stable code; outside 1900-2999 is a 400 naming the field', async (t) => {
  let sent = 0
  for (const target of targets) {
    for (const value of [...OUTSIDE, ...MALFORMED, ...SUPPORTED]) {
      const res = await target.send(value)
      sent += 1
      const where = `${target.op.id} ${target.field}=${value}: ${res.statusCode} ${res.body.slice(0, 160)}`
      if (res.statusCode >= 500) t.fail(where)
      if (res.statusCode < 400) continue
      if (!String(res.headers['content-type']).startsWith('application/problem+json') || !/^[A-Z][A-Z_]+$/.test(res.json().code)) t.fail(`not a problem with a code: ${where}`)
      if (OUTSIDE.includes(value) || MALFORMED.includes(value)) {
        const paths = (res.json().errors ?? []).map((e: { path: string }) => e.path)
        if (res.statusCode !== 400 || res.json().code !== 'VALIDATION_FAILED' || !paths.includes(target.field)) t.fail(`expected 400 VALIDATION_FAILED at ${target.field}: ${where}`)
      }
    }
  }
  t.pass(`${sent} requests`)
})

const zoneProgram = async (timezone: string) => (await ctx.createProgram({ rules: VND_RULES, timezone })).token
const get = async (t: Tap, token: string, url: string) => {
  const res = await ctx.call(token, 'GET', url)
  t.equal(res.statusCode, 200, `${url}: ${res.body.slice(0, 200)}`)
  return res.json()
}
const hours = (r: { from: string; to: string }) => (Date.parse(r.to) - Date.parse(r.from)) / 3_600_000

t.test('a supported date is the day of the program zone, local mean time and DST included', async (t) => {
  const lmt = await get(t, program.token, '/v1/analytics/nps?from=1900-01-01&to=1900-01-01')
  t.same([lmt.from, lmt.to], ['1899-12-31T16:53:30.000Z', '1900-01-01T16:53:30.000Z'], 'Ho Chi Minh City kept local mean time (+7:06:30) in 1900')
  const all = await get(t, program.token, '/v1/exports/liability?from=1900-01-01&to=2999-12-31')
  t.same([all.from, all.to], ['1899-12-31T16:53:30.000Z', '2999-12-31T17:00:00.000Z'], 'the whole supported calendar')
  t.equal((await get(t, program.token, '/v1/analytics/summary?from=2024-02-29&to=2024-02-29')).to, '2024-02-29T17:00:00.000Z', 'a leap day')
  const newYork = await zoneProgram('America/New_York')
  t.equal(hours(await get(t, newYork, '/v1/analytics/nps?from=2025-03-09&to=2025-03-09')), 23, 'New York springs forward')
  t.equal(hours(await get(t, newYork, '/v1/analytics/summary?from=2025-11-02&to=2025-11-02')), 25, 'New York falls back')
  const london = await zoneProgram('Europe/London')
  t.equal(hours(await get(t, london, '/v1/exports/liability?from=2025-03-30&to=2025-03-30')), 23, 'London springs forward')
  t.equal(hours(await get(t, london, '/v1/analytics/nps?from=2025-10-26&to=2025-10-26')), 25, 'London falls back')
  const santiago = await zoneProgram('America/Santiago')
  t.equal((await get(t, santiago, '/v1/analytics/nps?from=2024-09-08&to=2024-09-08')).from, '2024-09-08T04:00:00.000Z', 'a day whose midnight the clocks skip starts at 01:00')
  t.equal((await get(t, program.token, '/v1/exports/trial-balance?asOf=2999-12-31')).asOf, '2999-12-31T17:00:00.000Z')
  t.equal((await get(t, program.token, '/v1/analytics/rfm?asOf=1900-01-01')).members, 0)
})

t.test('a cohort table spans at most 120 buckets; longer ranges are 422 RANGE_TOO_LONG with the limit', async (t) => {
  const refused = await ctx.call(program.token, 'GET', '/v1/analytics/cohorts?from=1900-01-01&to=2999-12-31')
  t.equal(refused.statusCode, 422)
  t.match(refused.json(), { code: 'RANGE_TOO_LONG', by: 'month', maxBuckets: 120, buckets: 13_200 })
  t.equal((await ctx.call(program.token, 'GET', '/v1/analytics/cohorts?by=month&from=2016-01-01&to=2025-12-31')).statusCode, 200, 'ten years of months')
  t.equal((await ctx.call(program.token, 'GET', '/v1/analytics/cohorts?by=year&from=1900-01-01&to=2019-12-31')).statusCode, 200, '120 years')
  t.match((await ctx.call(program.token, 'GET', '/v1/analytics/cohorts?by=year&from=1900-01-01&to=2020-01-01')).json(), { code: 'RANGE_TOO_LONG', maxBuckets: 120, buckets: 121 })
})

t.test('a birthday is a date from 1900-01-01 to today', async (t) => {
  for (const [birthday, status] of [['1900-01-01', 201], ['2024-02-29', 201], ['1899-12-31', 400], ['2025-02-29', 400], ['0001-01-01', 400]] as const) {
    const res = await ctx.call(program.token, 'POST', '/v1/members', { name: 'Edge', phone: uniqueVnMobile(), birthday }, { 'idempotency-key': idemKey() })
    t.equal(res.statusCode, status, `${birthday}: ${res.body.slice(0, 160)}`)
    if (status === 201) t.equal(res.json().birthday, birthday)
  }
})
