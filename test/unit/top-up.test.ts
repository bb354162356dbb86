import t from 'tap'
import { AppError } from '../../src/shared/errors.js'
import { accountCode } from '../../src/modules/ledger/accounts.js'
import { planPostings } from '../../src/modules/ledger/planner.js'
import type { TopUpCreate } from '../../src/modules/stored-value/schemas.js'
import { MAX_TOP_UP_MAJOR_UNITS, planTopUp, readTopUpAmount, topUpAnswer, type TopUpLoaded } from '../../src/modules/stored-value/top-up-plan.js'

const vnd = { currency: 'VND' }
const usd = { currency: 'USD' }
const now = new Date('2026-12-01T10:00:00Z')
const memberId = '00000000-0000-4000-8000-0000000000aa'
const member: NonNullable<TopUpLoaded['member']> = { id: memberId, phone: '+84912345678', erasedAt: null }
const input = (over: Partial<TopUpCreate> = {}): TopUpCreate => ({ amount: '125000', tender: 'cash', storeId: 'HN-01', ...over })

/** The AppError `fn` throws, as the API would answer it. */
function refusal(fn: () => unknown): { status: number; code: string; message: string; errors?: unknown } {
  try {
    fn()
  } catch (err) {
    if (!(err instanceof AppError)) throw err
    return { status: err.status, code: err.code, message: err.message, errors: err.extensions.errors }
  }
  throw new Error('expected a refusal')
}

t.test('the amount is read in minor units of the program currency', async (t) => {
  t.equal(readTopUpAmount(vnd, '125000'), 125000n)
  t.equal(readTopUpAmount(usd, '12.34'), 1234n)
  t.equal(readTopUpAmount(usd, '12.3'), 1230n)
  t.match(refusal(() => readTopUpAmount(vnd, '125000.5')), { status: 400, code: 'VALIDATION_FAILED', errors: [{ path: 'body/amount' }] }, 'VND has no minor unit')
  t.match(refusal(() => readTopUpAmount(usd, '1.005')), { status: 400, code: 'VALIDATION_FAILED', errors: [{ path: 'body/amount' }] })
})

t.test('a top-up loads more than zero and at most a billion major units', async (t) => {
  const outOfRange = { status: 400, code: 'VALIDATION_FAILED', errors: [{ path: 'body/amount', message: 'out of range' }] }
  t.match(refusal(() => readTopUpAmount(vnd, '0')), { ...outOfRange, message: `amount: must be positive and at most ${MAX_TOP_UP_MAJOR_UNITS} VND` })
  t.match(refusal(() => readTopUpAmount(usd, '0.00')), outOfRange)
  t.equal(readTopUpAmount(vnd, '1000000000'), 1_000_000_000n, 'the limit itself loads')
  t.match(refusal(() => readTopUpAmount(vnd, '1000000001')), outOfRange)
  t.equal(readTopUpAmount(usd, '1000000000.00'), 100_000_000_000n, 'the limit is in major units: cents scale it')
  t.match(refusal(() => readTopUpAmount(usd, '1000000000.01')), { ...outOfRange, message: /at most 1000000000 USD/ })
  t.equal(readTopUpAmount(usd, '0.01'), 1n, 'one cent loads')
})

t.test('a top-up moves the amount from the store’s tender clearing to the member’s stored-value wallet', async (t) => {
  const plan = planTopUp(vnd, memberId, input({ terminalId: 'T1', reference: 'POS-9' }), 125000n, { member }, now)
  t.match(plan.entry, {
    kind: 'top_up',
    effectiveAt: now,
    memberId,
    storeId: 'HN-01',
    referenceType: 'top_up',
    referenceId: 'POS-9',
    metadata: { tender: 'cash', terminalId: 'T1' },
  })
  const postings = new Map(planPostings(plan.entry.legs).map((p) => [accountCode(p.account), p.amount]))
  t.same(
    postings,
    new Map([
      ['store:HN-01:tender_clearing:VND', -125000n],
      [`member:${memberId}:stored_value:VND`, 125000n],
    ]),
    'one balanced pair of postings',
  )
  t.same(plan.receipt, { amount: 125000n, tender: 'cash', storeId: 'HN-01', terminalId: 'T1', reference: 'POS-9', occurredAt: now })
  t.same(plan.receiptMember, { id: memberId, phone: '+84912345678' })
})

t.test('a top-up of a member not there is 404, of an erased member 409', async (t) => {
  t.match(refusal(() => planTopUp(vnd, memberId, input(), 1n, { member: undefined }, now)), { status: 404, code: 'MEMBER_NOT_FOUND', message: 'No member of this program has this id' })
  t.match(refusal(() => planTopUp(vnd, memberId, input(), 1n, { member: { ...member, phone: null, erasedAt: now } }, now)), {
    status: 409,
    code: 'MEMBER_ERASED',
    message: 'This member’s personal data was erased; no new top-ups',
  })
})

t.test('the answer shows the amount in major units, the balances after and the receipt’s public link', async (t) => {
  const plan = planTopUp(usd, memberId, input({ amount: '12.50', tender: 'card' }), 1250n, { member }, now)
  const wallet = (balance: bigint, pending = 0n) => ({ balance, pending, available: balance - pending })
  const answer = topUpAnswer(
    usd,
    memberId,
    plan,
    { entryId: 'entry-1', balances: { points: wallet(40n), storedValue: wallet(2000n, 500n) }, receipt: { id: 'receipt-1', number: '000001-AAAAA-BBBBB', token: 'tok' } },
    'https://receipts.example.test',
  )
  t.same(answer, {
    id: 'entry-1',
    memberId,
    amount: '12.50',
    tender: 'card',
    storeId: 'HN-01',
    reference: null,
    createdAt: '2026-12-01T10:00:00.000Z',
    balances: { memberId, points: { balance: 40, available: 40, pending: 0 }, storedValue: { currency: 'USD', balance: '20.00', available: '15.00', pending: '5.00' } },
    receipt: { id: 'receipt-1', number: '000001-AAAAA-BBBBB', url: 'https://receipts.example.test/r/tok' },
  })
})
