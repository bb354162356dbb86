// The pure decisions of gift cards: the code's format and randomness, how a typed code is read,
// the wrong-PIN policy, the PIN check's write, the load entry, binding tenders to cards, and how a
// refund splits over a gift card tender.
import t from 'tap'
import { codeHash, codeLast4, GIFT_CARD_CODE_LENGTH, newGiftCardCode, readGiftCardCode } from '../../src/modules/gift-cards/codes.js'
import { afterPinCheck, pinGate, PIN_LOCK_MINUTES, PIN_MAX_FAILURES } from '../../src/modules/gift-cards/pin-policy.js'
import { balanceFill, blockStep, loadEntry, pinCheckStep } from '../../src/modules/gift-cards/plan.js'
import { planPostings } from '../../src/modules/ledger/planner.js'
import { splitRefund } from '../../src/modules/purchases/calculator.js'
import { bindGiftCards } from '../../src/modules/purchases/gift-card-tenders.js'
import { giftCardRefundLegs } from '../../src/modules/purchases/return-plan.js'
import { AppError } from '../../src/shared/errors.js'
import { CODE_ALPHABET } from '../../src/shared/codes.js'

const program = { id: '00000000-0000-4000-8000-000000000001', currency: 'VND' }
const now = new Date('2026-12-03T10:00:00Z')
const codeOf = (err: unknown) => (err instanceof AppError ? err.code : String(err))
const thrown = (fn: () => unknown) => {
  try {
    fn()
  } catch (err) {
    return codeOf(err)
  }
  return undefined
}

t.test('codes: 16 characters of the Crockford alphabet, every character about as likely (80 bits)', async (t) => {
  const codes = Array.from({ length: 4000 }, newGiftCardCode)
  t.ok(codes.every((c) => c.length === GIFT_CARD_CODE_LENGTH && [...c].every((x) => CODE_ALPHABET.includes(x))))
  t.equal(new Set(codes).size, codes.length, 'no two alike')
  const counts = new Map<string, number>()
  for (const c of codes) for (const x of c) counts.set(x, (counts.get(x) ?? 0) + 1)
  t.equal(counts.size, 32, 'all 32 characters appear')
  const expected = (codes.length * GIFT_CARD_CODE_LENGTH) / 32
  for (const [x, n] of counts) t.ok(Math.abs(n - expected) < expected * 0.2, `${x}: ${n} near ${expected}`)
  t.equal(GIFT_CARD_CODE_LENGTH * Math.log2(CODE_ALPHABET.length), 80)
})

t.test('a typed code: case, spaces and hyphens ignored, look-alikes read as digits; anything else is no code', async (t) => {
  t.equal(readGiftCardCode('abcd-efgh jkmn-pqrs'), 'ABCDEFGHJKMNPQRS')
  t.equal(readGiftCardCode('ilo0ILO0ilo0ILO0'), '1100110011001100')
  for (const bad of ['', 'ABC', 'A'.repeat(15), 'A'.repeat(17), 'UUUUUUUUUUUUUUUU', 'ÄAAAAAAAAAAAAAAA', 'A'.repeat(65), 'AAAA_AAAA_AAAA_AAAA']) t.equal(readGiftCardCode(bad), undefined, JSON.stringify(bad))
  t.equal(codeHash('ABCDEFGHJKMNPQRS').length, 64)
  t.not(codeHash('ABCDEFGHJKMNPQRS'), codeHash('ABCDEFGHJKMNPQRT'))
  t.equal(codeLast4('ABCDEFGHJKMNPQRS'), 'PQRS')
})

t.test('the PIN policy: five wrong in a row lock for 15 minutes; a right one clears; a lock that ended starts a new count', async (t) => {
  let state = { pinFailures: 0, pinLockedUntil: null as Date | null }
  for (let i = 1; i < PIN_MAX_FAILURES; i++) {
    const after = afterPinCheck(state, false, now)
    t.same(after, { pinFailures: i, pinLockedUntil: null, attemptsLeft: PIN_MAX_FAILURES - i })
    state = after
  }
  const locked = afterPinCheck(state, false, now)
  t.same(locked, { pinFailures: 0, pinLockedUntil: new Date(now.getTime() + PIN_LOCK_MINUTES * 60_000), attemptsLeft: 0 })
  t.same(pinGate(locked, now), { open: false, retryAfterSeconds: 900 })
  t.same(pinGate(locked, new Date(now.getTime() + 899_500)), { open: false, retryAfterSeconds: 1 }, 'rounded up')
  const later = new Date(now.getTime() + 900_000)
  t.same(pinGate(locked, later), { open: true, failures: 0 })
  t.same(afterPinCheck(locked, false, later), { pinFailures: 1, pinLockedUntil: null, attemptsLeft: 4 }, 'after the lock, a new count')
  t.same(afterPinCheck({ pinFailures: 3, pinLockedUntil: null }, true, now), { pinFailures: 0, pinLockedUntil: null, attemptsLeft: PIN_MAX_FAILURES })
})

t.test('a PIN check writes the card at the count its load saw', async (t) => {
  const step = pinCheckStep({ id: 'c1', pinFailures: 2, pinLockedUntil: null }, false, now)
  t.same(step.step, { op: 'update', table: 'gift_cards', key: { id: 'c1' }, set: { pin_failures: 3, pin_locked_until: null }, expect: { pin_failures: 2, pin_locked_until: null } })
  t.equal(step.attemptsLeft, 2)
})

t.test('a load: the store’s gift card clearing to each card, the i-th card at seq i + 2 (where the answer reads its balance)', async (t) => {
  const entry = loadEntry(program, ['a', 'b', 'c'], 5000n, { tender: 'cash', storeId: 'S1' }, { entryId: 'e', now })
  const postings = planPostings(entry.legs)
  t.same(postings.map((p) => [p.seq, p.account.type, p.account.giftCardId ?? p.account.storeId, p.amount]), [
    [1, 'gift_card_clearing', 'S1', -15000n],
    [2, 'gift_card', 'a', 5000n],
    [3, 'gift_card', 'b', 5000n],
    [4, 'gift_card', 'c', 5000n],
  ])
  t.same(balanceFill(program, ['cards', 1, 'balance'], 1), { path: ['cards', 1, 'balance'], fact: 'entry.0.3', exponent: 0 })
})

t.test('binding tenders to cards: the card and its last four on the tender, locks in card-id order, too little refused', async (t) => {
  const sale = {
    occurredAt: now,
    lines: [],
    tenders: [{ type: 'cash' as const, amount: 10n }, { type: 'giftCard' as const, amount: 300n }, { type: 'giftCard' as const, amount: 200n }],
    giftCards: [
      { tender: 1, code: 'X' },
      { tender: 2, code: 'Y' },
    ],
  }
  const cards = [
    { id: 'b-card', version: '61', codeLast4: 'BBBB', balance: 300n, walletVersion: '7' },
    { id: 'a-card', version: '62', codeLast4: 'AAAA', balance: 900n, walletVersion: '9' },
  ]
  const bound = bindGiftCards(program, sale, cards)
  t.same(bound.sale.tenders[1], { type: 'giftCard', amount: 300n, giftCardId: 'b-card', codeLast4: 'BBBB' })
  t.same(bound.sale.tenders[2], { type: 'giftCard', amount: 200n, giftCardId: 'a-card', codeLast4: 'AAAA' })
  t.same(bound.locks.map((l) => [l.table, l.version ?? null]), [
    ['gift_cards', '62'],
    ['ledger_accounts', '9'],
    ['gift_cards', '61'],
    ['ledger_accounts', '7'],
  ], 'each card row and wallet at the version read: a block or a spend meanwhile makes the plan stale')
  t.equal(thrown(() => bindGiftCards(program, sale, [{ ...cards[0]!, balance: 299n }, cards[1]!])), 'GIFT_CARD_INSUFFICIENT_BALANCE')
  t.equal(thrown(() => bindGiftCards(program, sale, [cards[0]!, cards[0]!])), 'VALIDATION_FAILED', 'one card twice')
})

t.test('block and unblock: a write at the block state read, none when the card is already as asked', async (t) => {
  const now = new Date('2027-01-02T03:04:05.678Z')
  const active = { id: 'c1', blockedAt: null }
  const blocked = { id: 'c1', blockedAt: new Date('2027-01-01T00:00:00.000Z') }
  t.same(blockStep(active, { reason: 'stolen', actor: 'care', now }), {
    op: 'update',
    table: 'gift_cards',
    key: { id: 'c1' },
    set: { blocked_at: '2027-01-02T03:04:05.678Z', blocked_reason: 'stolen', blocked_by: 'care' },
    expect: { blocked_at: null },
  })
  t.same(blockStep(blocked, null), { op: 'update', table: 'gift_cards', key: { id: 'c1' }, set: { blocked_at: null, blocked_reason: null, blocked_by: null }, expect: { blocked_at: '2027-01-01T00:00:00.000Z' } })
  t.equal(blockStep(blocked, { reason: 'again', actor: 'care', now }), undefined, 'blocked already: nothing written')
  t.equal(blockStep(active, null), undefined, 'active already: nothing written')
})

t.test('a refund splits over a gift card tender as over stored value, and a point’s fraction goes to money first', async (t) => {
  const parts = splitRefund(50n, [
    { type: 'giftCard', amount: 60n, giftCardId: 'g' },
    { type: 'cash', amount: 40n },
  ], undefined)
  t.same(parts, [
    { type: 'giftCard', amount: 30n, giftCardId: 'g' },
    { type: 'cash', amount: 20n },
  ])
  const withPoints = splitRefund(
    55n,
    [
      { type: 'points', amount: 50n, points: 5n },
      { type: 'giftCard', amount: 25n, giftCardId: 'g' },
      { type: 'cash', amount: 25n },
    ],
    10n,
  )
  t.equal(withPoints.reduce((s, p) => s + p.amount, 0n), 55n)
  t.equal(withPoints[0]!.points! * 10n, withPoints[0]!.amount, 'whole points')
  t.same(giftCardRefundLegs([{ type: 'giftCard', amount: 30n, giftCardId: 'g' }, { type: 'cash', amount: 20n }, { type: 'giftCard', amount: 0n, giftCardId: 'h' }], 'S1', 'VND').map((l) => [l.account.type, l.amount]), [
    ['gift_card_settlement', -30n],
    ['gift_card', 30n],
  ])
})
