import t from 'tap'
import { accountCode, accountId, memberPoints, memberStoredValue, pointsIssued, pointsRedeemed, storedValueSettlement, tenderClearing } from '../../src/modules/ledger/accounts.js'
import { mirrorLegs, planPostings, transfer, UnbalancedEntryError } from '../../src/modules/ledger/planner.js'

const M = '01a2051b-f0c2-7445-b3e7-10c195794219'

t.test('a transfer debits one account and credits the other by the same integer amount', async (t) => {
  const legs = transfer(pointsIssued(), memberPoints(M), 10n)
  t.same(legs.map((l) => l.amount), [-10n, 10n])
  t.throws(() => transfer(pointsIssued(), memberPoints(M), 0n), RangeError)
  t.throws(() => transfer(pointsIssued(), memberPoints(M), -5n), RangeError)
  t.throws(() => transfer(memberPoints(M), memberStoredValue(M, 'VND'), 5n), UnbalancedEntryError, 'no transfer across assets')
})

t.test('a purchase plan balances per asset and nets each account to one posting', async (t) => {
  const legs = [
    ...transfer(pointsIssued(), memberPoints(M), 12n), // earn
    ...transfer(memberPoints(M), pointsRedeemed(), 50n), // redeem
    ...transfer(memberStoredValue(M, 'VND'), storedValueSettlement('S1', 'VND'), 30_000n),
  ]
  const postings = planPostings(legs)
  t.same(
    postings.map((p) => [accountCode(p.account), p.amount]),
    [
      ['points_issued', -12n],
      [`member:${M}:points`, -38n],
      ['points_redeemed', 50n],
      [`member:${M}:stored_value:VND`, -30_000n],
      ['store:S1:stored_value_settlement:VND', 30_000n],
    ],
  )
  t.same(postings.map((p) => p.seq), [1, 2, 3, 4, 5])
})

t.test('unbalanced or empty plans are refused before reaching the database', async (t) => {
  t.throws(() => planPostings([{ account: memberPoints(M), amount: 5n }]), UnbalancedEntryError)
  t.throws(
    () => planPostings([...transfer(pointsIssued(), memberPoints(M), 5n), { account: tenderClearing('S1', 'VND'), amount: 5n }, { account: pointsRedeemed(), amount: -5n }]),
    UnbalancedEntryError,
    'points and money do not offset each other',
  )
  t.throws(() => planPostings([...transfer(pointsIssued(), memberPoints(M), 5n), ...transfer(memberPoints(M), pointsIssued(), 5n)]), /move something/)
  t.throws(() => planPostings([{ account: memberPoints(M), amount: 5 as unknown as bigint }]), TypeError, 'never a float')
})

t.test('the reversal mirror undoes every posting exactly', async (t) => {
  const postings = planPostings([...transfer(pointsIssued(), memberPoints(M), 7n), ...transfer(memberStoredValue(M, 'VND'), storedValueSettlement('S1', 'VND'), 9n)])
  const mirror = planPostings(mirrorLegs(postings))
  const net = new Map<string, bigint>()
  for (const p of [...postings, ...mirror]) net.set(accountCode(p.account), (net.get(accountCode(p.account)) ?? 0n) + p.amount)
  t.ok([...net.values()].every((v) => v === 0n), 'original + reversal leaves every account where it was')
})

t.test('account ids are deterministic per program and code', async (t) => {
  const p1 = '01a2051b-ef51-7593-9be5-2c464bd4eb68'
  const p2 = '01a2051b-ef51-7593-9be5-2c464bd4eb69'
  t.equal(accountId(p1, memberPoints(M)), accountId(p1, memberPoints(M)))
  t.not(accountId(p1, memberPoints(M)), accountId(p2, memberPoints(M)))
  t.not(accountId(p1, tenderClearing('S1', 'VND')), accountId(p1, tenderClearing('S2', 'VND')))
})
