// A batch of a segment campaign as one plan, pure: a grant row for every member, points set-based
// in wallet order with one lot each, a coupon code each, the events queued or suppressed as the
// load saw the members, and nothing but a skipped row for an erased member.
import t from 'tap'
import { accountId, memberPoints } from '../../src/modules/ledger/accounts.js'
import { campaignBatchPlan, type MemberState } from '../../src/modules/segment-campaigns/plan.js'
import { add } from '../../src/modules/segment-campaigns/run.js'

const program = { id: '01a00000-0000-7000-8000-000000000001', timezone: 'Asia/Ho_Chi_Minh', rules: {} }
const rules = { pointsExpiry: { afterDays: 30, roundUpTo: 'day' as const, restoredGraceDays: 30 } }
const now = new Date('2027-03-15T03:00:00Z') // 10:00 in Hanoi: inside the sending window
const members: MemberState[] = [
  { memberId: '01a00000-0000-7000-8000-0000000000a1', version: '901', erased: false, marketingRefusal: null },
  { memberId: '01a00000-0000-7000-8000-0000000000a2', version: '902', erased: false, marketingRefusal: 'no_consent' },
  { memberId: '01a00000-0000-7000-8000-0000000000a3', version: '903', erased: true, marketingRefusal: 'erased' },
  { memberId: '01a00000-0000-7000-8000-0000000000a4', version: '904', erased: false, marketingRefusal: null },
]
let seq = 0
const ctx = () => ({ now, actor: 'segment-campaign:c1', id: () => `id-${++seq}`, code: () => `CODE${++seq}` })
const rowsOf = (plan: ReturnType<typeof campaignBatchPlan>, table: string) => plan.data.rows!.filter((r) => r.table === table).flatMap((r) => (r.op === 'insert' ? r.rows : []))

t.test('points: a bonus entry and a lot per member, set-based, in wallet order; events by consent; an erased member skipped', async (t) => {
  const plan = campaignBatchPlan(program, rules, { id: 'c1', name: 'Tết', grant: { kind: 'points', points: 100n } }, members, ctx())
  t.same(plan.counts, { granted: 3, skipped: 1, points: 300n, coupons: 0, queued: 2, suppressed: 1 })
  t.notOk(plan.data.entries, 'no entry through ledger_post_entry')
  const { entries, lots } = plan.data.grants!
  t.equal(entries.length, 3)
  const wallets = entries.map((e) => e.postings.find((p) => p.wallet)!.accountId as string)
  t.same(wallets, [...wallets].sort(), 'in the order of the wallets credited')
  t.same(new Set(wallets), new Set(members.filter((m) => !m.erased).map((m) => accountId(program.id, memberPoints(m.memberId)))))
  t.match(entries[0]!.entry, { kind: 'bonus', reason: 'campaign', referenceType: 'segment_campaign', createdBy: 'segment-campaign:c1', metadata: { campaignId: 'c1', campaign: 'Tết' } })
  t.same(entries[0]!.postings.map((p) => p.amount).sort(), ['-100', '100'])
  t.equal(lots.length, 3)
  t.ok(lots.every((l) => l.kind === 'open' && l.points === '100' && l.expiresAt !== null), 'each credit opens its lot, expiring by the rules')
  const grants = rowsOf(plan, 'segment_campaign_grants')
  t.equal(grants.length, 4, 'a grant row for every member, the erased one too')
  t.match(grants.find((g) => g.member_id === members[2]!.memberId), { outcome: 'skipped', skipped_reason: 'erased', entry_id: null, event_id: null })
  const events = rowsOf(plan, 'events')
  t.same(events.map((e) => e.status).sort(), ['pending', 'pending', 'suppressed'])
  t.match(events.find((e) => e.member_id === members[1]!.memberId), { status: 'suppressed', suppressed_reason: 'no_consent', type: 'campaign.granted', category: 'marketing' })
  t.ok(events.every((e) => e.available_at === now.toISOString()), 'inside the window: due at once')
  t.match(events[0]!.payload, { campaignId: 'c1', name: 'Tết', offer: { points: 100 } })
  t.notOk(rowsOf(plan, 'coupons').length)
})

t.test('every member row is locked at the version the load read, in member id order, the erased one too', async (t) => {
  for (const grant of [{ kind: 'points' as const, points: 5n }, { kind: 'coupon' as const, campaignId: 'cc', maxUsesPerCode: 1 }]) {
    const plan = campaignBatchPlan(program, rules, { id: 'c1', name: 'x', grant }, [...members].reverse(), ctx())
    t.same(
      plan.data.locks,
      ['a1', 'a2', 'a3', 'a4'].map((n, i) => ({ table: 'members', key: { id: `01a00000-0000-7000-8000-0000000000${n}` }, version: `90${i + 1}` })),
      `${grant.kind}: a member erased or changed after the load makes the plan stale`,
    )
  }
})

t.test('outside the sending window the events wait for it to open', async (t) => {
  const night = new Date('2027-03-15T16:00:00Z') // 23:00 in Hanoi
  const plan = campaignBatchPlan(program, rules, { id: 'c1', name: 'x', grant: { kind: 'points', points: 1n } }, [members[0]!], { ...ctx(), now: night })
  t.equal(rowsOf(plan, 'events')[0]!.available_at, '2027-03-16T00:00:00.000Z', '07:00 the next morning')
})

t.test('coupons: a code of the campaign issued to each member, named in their event; no entry', async (t) => {
  const plan = campaignBatchPlan(program, rules, { id: 'c2', name: 'Code', grant: { kind: 'coupon', campaignId: 'cc', maxUsesPerCode: 1 } }, members, ctx())
  t.notOk(plan.data.grants)
  const coupons = rowsOf(plan, 'coupons')
  t.equal(coupons.length, 3)
  t.match(coupons[0], { campaign_id: 'cc', max_uses: 1, uses: 0, reason: 'segment_campaign', issued_by: 'segment-campaign:c1' })
  const grants = rowsOf(plan, 'segment_campaign_grants').filter((g) => g.outcome === 'granted')
  const events = rowsOf(plan, 'events')
  for (const g of grants) {
    const event = events.find((e) => e.id === g.event_id)!
    t.equal((event.payload as { offer: { couponCode: string } }).offer.couponCode, g.coupon_code)
  }
  t.same(plan.counts, { granted: 3, skipped: 1, points: 0n, coupons: 3, queued: 2, suppressed: 1 })
})

t.test('progress counters add up batch by batch', async (t) => {
  const total = { granted: 1, skipped: 0, points: 5n, coupons: 0, queued: 1, suppressed: 0 }
  add(total, { granted: 2, skipped: 1, points: 10n, coupons: 0, queued: 1, suppressed: 1 })
  t.same(total, { granted: 3, skipped: 1, points: 15n, coupons: 0, queued: 2, suppressed: 1 })
})
