// One birthday as a plan (birthdays/grant-plan.ts), the tier bonus and the marketing standing it is decided from.
import t from 'tap'
import { ALREADY_CELEBRATED, birthdayPlan } from '../../src/modules/birthdays/grant-plan.js'
import { planBirthdayGrant, tierBonusOf } from '../../src/modules/birthdays/plan.js'
import { marketingRefusalOf } from '../../src/modules/events/emit.js'
import { accountId, memberPoints } from '../../src/modules/ledger/accounts.js'
import { readRules } from '../../src/modules/programs/rules.js'

const program = { id: '01a2352a-0000-7000-8000-000000000001', currency: 'VND', timezone: 'Asia/Ho_Chi_Minh', rules: {} }
const memberId = '01a2352a-0000-7000-8000-000000000002'
const asOf = new Date('2026-12-02T17:30:00Z') // 2026-12-03 00:30 in Hanoi
const now = new Date('2026-12-02T17:31:00Z')
const birthday = { memberId, celebratedOn: '2026-12-03', year: 2026 }
const rules = (birthdayRules: Record<string, unknown>, extra: Record<string, unknown> = {}) => readRules({ earning: { points: 1, per: '10000' }, pointValue: '100', birthday: birthdayRules, ...extra })
const member = { marketingRefusal: null }

t.test('points, the once-a-year row, an erased member refused, the greeting queued', async (t) => {
  const r = rules({ bonusPoints: 100 }, { pointsExpiry: { afterDays: 30, roundUpTo: 'day', restoredGraceDays: 7 } })
  const grant = planBirthdayGrant(r, 0n, birthday.celebratedOn, '2026-12-03')
  const plan = birthdayPlan(program, r, birthday, grant, member, { asOf, now, actor: 'job:birthday-rewards', entryId: 'e1', eventId: 'v1' })
  t.same(plan.data.member, { id: memberId, refuseErased: true })
  t.equal(plan.data.locks, undefined, 'the member row is not locked (a sale holding the wallet references it)')
  t.same(plan.data.rows, [
    { op: 'insert', table: 'birthday_rewards', rows: [{ program_id: program.id, member_id: memberId, year: 2026, celebrated_on: '2026-12-03', points: '100', entry_id: 'e1', as_of: asOf.toISOString(), created_at: now.toISOString() }] },
  ])
  t.match(plan.data.entries![0]!.entry, { id: 'e1', kind: 'bonus', reason: 'birthday', referenceType: 'birthday', referenceId: `${memberId}:2026`, metadata: { celebratedOn: '2026-12-03' } })
  t.match(plan.data.lots, [{ kind: 'open', entryId: 'e1', memberId, points: '100', earnedAt: asOf.toISOString(), expiresAt: /^2027-01-0/ }], 'the points open a lot that expires like points earned at asOf')
  t.equal(plan.data.wallets!.points, accountId(program.id, memberPoints(memberId)))
  t.equal(plan.greeting, 'pending')
  t.match(plan.data.events, [{ row: { program_id: program.id, id: 'v1', type: 'birthday.today', category: 'marketing', member_id: memberId, payload: { memberId, offer: { points: 100 } } } }])
  t.equal(plan.coupon, undefined)
  t.equal(ALREADY_CELEBRATED, 'birthday_rewards_pkey', 'a concurrent grant fails on the row key')
})

t.test('the coupon assigned to the member; a member who may not get marketing has the greeting recorded as suppressed', async (t) => {
  const r = rules({ bonusPoints: 0, couponCampaignId: '01a2352a-0000-7000-8000-0000000000cc' })
  const grant = planBirthdayGrant(r, 0n, birthday.celebratedOn, '2026-12-03')
  const plan = birthdayPlan(program, r, birthday, grant, { marketingRefusal: 'no_consent' }, {
    asOf,
    now,
    actor: 'job:birthday-rewards',
    campaign: { id: '01a2352a-0000-7000-8000-0000000000cc', maxUsesPerCode: 1 },
    code: 'ABCDEFGH12',
    eventId: 'v2',
  })
  t.notOk(plan.data.entries || plan.data.lots || plan.data.wallets, 'no points, no entry')
  t.match(plan.data.rows![0], { table: 'birthday_rewards', rows: [{ points: '0', entry_id: null }] })
  t.same(plan.data.rows![1], {
    op: 'insert',
    table: 'coupons',
    rows: [{ program_id: program.id, code: 'ABCDEFGH12', campaign_id: '01a2352a-0000-7000-8000-0000000000cc', member_id: memberId, uses: 0, max_uses: 1, issued_at: now.toISOString(), issued_by: 'job:birthday-rewards', reason: 'birthday' }],
  })
  t.match(plan.data.rows![2], { op: 'insert', table: 'events', rows: [{ id: 'v2', type: 'birthday.today', status: 'suppressed', suppressed_reason: 'no_consent', deliveries: 0, payload: { offer: { couponCode: 'ABCDEFGH12' } } }] })
  t.equal(plan.data.events, undefined, 'nothing queued')
  t.equal(plan.greeting, 'suppressed')
  t.equal(plan.coupon, 'ABCDEFGH12')
})

t.test('a late celebration: points, no greeting', async (t) => {
  const r = rules({ bonusPoints: 50 })
  const plan = birthdayPlan(program, r, birthday, planBirthdayGrant(r, 25n, birthday.celebratedOn, '2026-12-05'), member, { asOf, now, actor: 'job' })
  t.equal(plan.greeting, undefined)
  t.notOk(plan.data.events)
  t.equal(plan.data.rows!.length, 1)
  t.match(plan.data.rows![0], { rows: [{ points: '75' }] })
})

t.test('tierBonusOf and marketingRefusalOf', async (t) => {
  const r = rules({ bonusPoints: 0 }, { tiers: { metric: 'spend', windowMonths: 12, retentionMonths: 12, levels: [{ code: 'member', name: 'M', threshold: '0' }, { code: 'gold', name: 'G', threshold: '100', birthdayBonusPoints: 70 }] } })
  t.equal(tierBonusOf(r, 'gold'), 70n)
  t.equal(tierBonusOf(r, 'member'), 0n)
  t.equal(tierBonusOf(r, undefined), 0n, 'no tier')
  t.equal(tierBonusOf(rules({ bonusPoints: 0 }), 'gold'), 0n, 'no tiers')
  const ok = { consent: true, doNotContact: false, erased: false, phone: '+84981234567' }
  t.equal(marketingRefusalOf(ok), null)
  t.equal(marketingRefusalOf(undefined), 'no_member')
  t.equal(marketingRefusalOf({ ...ok, erased: true }), 'erased')
  t.equal(marketingRefusalOf({ ...ok, doNotContact: true }), 'do_not_contact')
  t.equal(marketingRefusalOf({ ...ok, consent: false }), 'no_consent')
  t.equal(marketingRefusalOf({ ...ok, phone: null }), 'no_phone')
})
