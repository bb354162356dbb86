// The saved segment's filter, pure: the checks the schema cannot make and the filter as SQL pieces.
import { PgDialect } from 'drizzle-orm/pg-core'
import t from 'tap'
import { filterConditions, filterProblems, segmentFilterSchema, segmentMembersSql } from '../../src/modules/saved-segments/filter.js'

const ctx = { tierCodes: ['silver', 'gold'], currency: 'VND', exponent: 0 }
const program = { id: '01a00000-0000-7000-8000-000000000001', timezone: 'Asia/Ho_Chi_Minh', exponent: 0 }
const asOf = new Date('2027-03-15T05:00:00Z')
const render = (pieces: ReturnType<typeof filterConditions>) => pieces.map((p) => new PgDialect().sqlToQuery(p))

t.test('a good filter has no problems; each bad range, tier and amount is named', async (t) => {
  t.same(filterProblems({ tiers: ['gold', 'none'], daysSinceLastPurchase: { min: 3, max: 3 }, spend: { days: 30, min: '0', max: '100000' } }, ctx), [])
  t.same(filterProblems({ daysSinceLastPurchase: { min: 9, max: 3 } }, ctx), [{ path: 'body/filter/daysSinceLastPurchase', message: 'min is greater than max' }])
  t.same(filterProblems({ daysSinceLastPurchase: {} }, ctx), [{ path: 'body/filter/daysSinceLastPurchase', message: 'give min, max or both' }])
  t.same(filterProblems({ spend: { days: 7 } }, ctx), [{ path: 'body/filter/spend', message: 'give min, max or both' }])
  t.same(filterProblems({ spend: { days: 7, min: '500', max: '499' } }, ctx), [{ path: 'body/filter/spend', message: 'min is greater than max' }])
  t.match(filterProblems({ spend: { days: 7, min: '1.5' } }, ctx), [{ path: 'body/filter/spend/min', message: /not a valid VND amount/ }])
  t.same(filterProblems({ spend: { days: 7, min: '1.5' } }, { ...ctx, currency: 'USD', exponent: 2 }), [], 'cents are an amount in USD')
  t.same(filterProblems({ tiers: ['platinum'] }, ctx), [{ path: 'body/filter/tiers/0', message: 'no tier platinum in the program’s rules' }])
  t.same(filterProblems({ tiers: ['none'] }, { ...ctx, tierCodes: null }), [], 'without tiers every member has none')
  t.same(filterProblems({ tiers: ['gold'] }, { ...ctx, tierCodes: null }), [{ path: 'body/filter/tiers', message: 'the program has no tiers' }])
})

t.test('the schema refuses unknown criteria and values outside their ranges', async (t) => {
  t.notOk(segmentFilterSchema.safeParse({ birthdayMonths: [0] }).success)
  t.notOk(segmentFilterSchema.safeParse({ rfmSegments: ['whales'] }).success)
  t.notOk(segmentFilterSchema.safeParse({ spend: { days: 0, min: '1' } }).success)
  t.notOk(segmentFilterSchema.safeParse({ consent: { sms: true } }).success)
  t.ok(segmentFilterSchema.safeParse({}).success)
})

t.test('each criterion is one condition on members m; none for an empty filter', async (t) => {
  t.same(filterConditions(program, {}, asOf), [])
  const [months] = render(filterConditions(program, { birthdayMonths: [3, 4] }, asOf))
  t.match(months, { sql: 'extract(month from m.birthday)::int in ($1, $2)', params: [3, 4] })
  const [days] = render(filterConditions(program, { daysSinceLastPurchase: { min: 2, max: 2 } }, asOf))
  // 2 whole days: the last purchase in (asOf - 3 days, asOf - 2 days].
  t.ok(days!.params.includes('2027-03-13T05:00:00.000Z') && days!.params.includes('2027-03-12T05:00:00.000Z'), JSON.stringify(days!.params))
  t.match(days!.sql, /having max\(occurred_at\) <= .* and max\(occurred_at\) > /s)
  const spend = render(filterConditions(program, { spend: { days: 30, min: '0', max: '200000' } }, asOf))
  t.equal(spend.length, 1, 'a minimum of 0 adds no condition: members who spent nothing are in')
  t.match(spend[0]!.sql, /m\.id not in \(.*spent > \$\d+::bigint\)/s)
  t.ok(spend[0]!.params.includes('200000'))
  const tiers = render(filterConditions(program, { tiers: ['gold', 'none'] }, asOf))
  t.match(tiers[0]!.sql, /^\(m\.id in \(.*tier_code in .*\) or m\.id not in \(select member_id from member_tiers/s)
  const consent = render(filterConditions(program, { consent: { smsMarketing: true, emailMarketing: false } }, asOf))
  t.same(consent.map((c) => c.sql), ['m.sms_marketing_consent = $1', 'm.email_marketing_consent = $1'])
  t.equal(render(filterConditions(program, { rfmSegments: ['champions'], lifecycleStages: ['new'] }, asOf)).length, 2)
})

t.test('the members: enrolled before asOf, not erased, every condition (AND)', async (t) => {
  const q = new PgDialect().sqlToQuery(segmentMembersSql(program, { birthdayMonths: [3], consent: { smsMarketing: true } }, asOf))
  t.match(q.sql, /m\.erased_at is null and m\.created_at < .* and extract\(month from m\.birthday\)::int in \(\$\d+\) and m\.sms_marketing_consent = \$\d+/s)
  t.notMatch(new PgDialect().sqlToQuery(segmentMembersSql(program, {}, asOf)).sql, / and $/)
})
