// The birthday job with the other loyalty features: the tier's birthday bonus on top of the
// program's, and a birthday coupon assigned to the member, once per year.
import t from 'tap'
import { sql } from 'drizzle-orm'
import { queryRows } from '../../../src/db/client.js'
import { localDate } from '../../../src/shared/period.js'
import { startTestApp } from '../../helpers/app.js'
import { TestClock } from '../../helpers/clock.js'
import { idemKey, Till, VND_RULES } from '../../helpers/pos.js'

const clock = new TestClock()
const ctx = await startTestApp(t, {}, { now: clock.now })

t.test('tier bonus and birthday coupon', async (t) => {
  const tiers = { metric: 'spend', levels: [{ code: 'member', name: 'Member', threshold: '0', birthdayBonusPoints: 50 }] }
  const p = await ctx.createProgram({ rules: { ...VND_RULES, tiers, birthday: { bonusPoints: 100 } } })
  const campaign = await ctx.call(p.token, 'POST', '/v1/coupons/campaigns', { name: 'Birthday 10%', kind: 'percent', value: '10', codeMode: 'unique', maxUsesPerCode: 1 }, { 'idempotency-key': idemKey() })
  t.equal(campaign.statusCode, 201, campaign.body)
  const rules = await ctx.call(p.token, 'PATCH', `/v1/programs/${p.id}`, { rules: { ...VND_RULES, tiers, birthday: { bonusPoints: 100, couponCampaignId: campaign.json().id } } })
  t.equal(rules.statusCode, 200, rules.body)

  const tomorrow = new Date(Date.now() + 86_400_000)
  const day = localDate(tomorrow, 'Asia/Ho_Chi_Minh')
  const m = await ctx.enrol(p.token, { birthday: `1990-${day.slice(5)}` })
  const till = new Till(ctx, p.token)
  t.equal((await till.purchase(m.id, [{ sku: 'A', quantity: 1, unitPrice: '10000' }], [{ type: 'cash', amount: '10000' }])).statusCode, 201, 'the first purchase puts the member in the base tier')

  clock.setTo(`${day}T12:00:00+07:00`) // the service lives on the birthday
  const run = await ctx.call(p.token, 'POST', '/v1/jobs/birthday-rewards/runs', { asOf: day })
  t.equal(run.statusCode, 201, run.body)
  t.match(run.json().result, { celebrated: 1, granted: 1, points: 150, coupons: 1 })
  t.equal((await till.balances(m.id)).points.balance, 1 + 150, '1 earned, 100 + 50 for the birthday')
  const coupons = await queryRows<{ code: string }>(ctx.database.db, sql`select code from coupons where program_id = ${p.id} and member_id = ${m.id}`)
  t.equal(coupons.length, 1, 'one coupon assigned to the member')
  const lookup = await ctx.call(p.token, 'GET', `/v1/coupons/${coupons[0]!.code}`)
  t.equal(lookup.statusCode, 200)

  const again = await ctx.call(p.token, 'POST', '/v1/jobs/birthday-rewards/runs', { asOf: `${day}T12:00:00+07:00` })
  t.equal(again.json().replayed, true)
  t.equal((await queryRows(ctx.database.db, sql`select code from coupons where program_id = ${p.id} and member_id = ${m.id}`)).length, 1, 'still one coupon')
  t.same((await till.verify()).discrepancies, [])
})
