import t from 'tap'
import { buildLiability, classifyCounterPosting, rolledForward, type LiabilityGroup } from '../../src/modules/exports/liability.js'

t.test('counter postings are classified by account type and direction, not entry kind', async (t) => {
  const cases: [string, bigint, boolean, string][] = [
    ['points_issued', -10n, false, 'issued'], // earned, or a bonus: debit issued, credit the member
    ['points_issued', 10n, false, 'clawedBack'], // a return takes earned points back
    ['tender_clearing', -10n, false, 'issued'], // a top-up
    ['tender_clearing', 10n, false, 'clawedBack'], // a top-up paid back
    ['points_redeemed', 10n, false, 'redeemed'],
    ['points_redeemed', -10n, false, 'refunded'], // a points tender given back by a return
    ['stored_value_settlement', 10n, false, 'redeemed'],
    ['stored_value_settlement', -10n, false, 'refunded'],
    ['points_breakage', 10n, false, 'expired'],
    ['points_breakage', -10n, false, 'expired'], // reinstated: a negative expiry
    ['points_adjustments', -10n, false, 'adjusted'],
    ['stored_value_adjustments', 10n, false, 'adjusted'],
    ['points_issued', 10n, true, 'reversed'],
    ['opening_balance', -10n, false, 'imported'], // a member import opens a balance
    ['opening_balance', 10n, true, 'reversed'], // an opening reversed is a correction like any other
    ['gift_cards', 10n, false, 'other'],
  ]
  for (const [type, amount, reversal, movement] of cases) t.equal(classifyCounterPosting(type, amount, reversal), movement, `${type} ${amount}${reversal ? ' in a reversal' : ''}`)
})

const g = (accountType: string, storeId: string | null, before: bigint, during: bigint, inReversal = false, asset = 'POINTS'): LiabilityGroup => ({ asset, accountType, storeId, inReversal, before, during })

t.test('a roll-forward from grouped postings closes, per asset and per store', async (t) => {
  // Before: 100 earned at S1 (issued -100 / wallet +100). During: 30 earned at S1, 50 redeemed at S2,
  // 5 clawed back at S1, 10 expired, a grant of 20 and its reversal.
  const groups = [
    g('points_issued', 'S1', -100n, -30n),
    g('points_issued', 'S1', 0n, 5n),
    g('points_redeemed', 'S2', 0n, 50n),
    g('points_breakage', null, 0n, 10n),
    g('points_adjustments', null, 0n, -20n),
    g('points_adjustments', null, 0n, 20n, true),
    g('member_points', 'S1', 100n, 30n - 5n),
    g('member_points', 'S2', 0n, -50n),
    g('member_points', null, 0n, -10n + 20n - 20n),
  ]
  const [points, vnd] = buildLiability(groups, ['POINTS', 'VND'])
  t.match(points, { asset: 'POINTS', opening: 100n, imported: 0n, issued: 30n, clawedBack: 5n, redeemed: 50n, refunded: 0n, expired: 10n, adjusted: 20n, reversed: -20n, other: 0n, closing: 65n })
  t.equal(rolledForward(points!), points!.closing)
  t.same(
    points!.byStore.map((s) => [s.storeId, s.opening, s.closing]),
    [
      ['S1', 100n, 125n],
      ['S2', 0n, -50n],
      [null, 0n, -10n],
    ],
    'stores sorted, the no-store row last; they add up to 65',
  )
  t.match(vnd, { asset: 'VND', opening: 0n, closing: 0n, byStore: [] }, 'an asset without postings still has its row')
})

t.test('assets: points first, then currencies', async (t) => {
  t.same(buildLiability([g('tender_clearing', 'S1', 0n, -1n, false, 'VND'), g('member_stored_value', null, 0n, 1n, false, 'VND')], ['USD', 'POINTS']).map((a) => a.asset), ['POINTS', 'USD', 'VND'])
})

t.test('opening balances of an import are their own column, and the roll-forward still closes', async (t) => {
  const [points] = buildLiability([g('opening_balance', null, 0n, -500n), g('points_issued', 'S1', 0n, -30n), g('member_points', null, 0n, 500n), g('member_points', 'S1', 0n, 30n)], ['POINTS'])
  t.match(points, { opening: 0n, imported: 500n, issued: 30n, closing: 530n })
  t.equal(rolledForward(points!), points!.closing)
})
