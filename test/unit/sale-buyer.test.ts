// The pure pieces of a sale by phone or card (purchases/buyer.ts) and the fills of a sale's receipt
// made by a plan (receipts/plan-steps.ts saleReceiptFills).
import t from 'tap'
import { buyerKey, buyerOf, byMemberId } from '../../src/modules/purchases/buyer.js'
import type { PurchaseCreate } from '../../src/modules/purchases/schemas.js'
import { saleReceiptFills } from '../../src/modules/receipts/plan-steps.js'

const refusal = (fn: () => unknown) => {
  try {
    fn()
  } catch (err) {
    const e = err as { status: number; code: string; extensions: { errors?: unknown } }
    return { status: e.status, code: e.code, errors: e.extensions.errors }
  }
  return undefined
}

t.test('buyerKey: a national phone read in the program country, E.164 as it is, a card as sent', async (t) => {
  t.same(buyerKey({ country: 'VN' }, { phone: '0912345678' }), { phone: '+84912345678' })
  t.same(buyerKey({ country: 'VN' }, { phone: '+84 91 234 5678' }), { phone: '+84912345678' })
  t.same(buyerKey({ country: 'US' }, { phone: '(212) 456-7890' }), { phone: '+12124567890' })
  t.same(buyerKey({ country: 'VN' }, { cardNumber: 'CARD-1' }), { cardNumber: 'CARD-1' })
})

t.test('buyerKey: a phone that is not a valid number is a 400 on body/phone', async (t) => {
  for (const phone of ['0912', 'abc', '0912345678 OR 1=1', '\u0000']) {
    t.match(refusal(() => buyerKey({ country: 'VN' }, { phone })), { status: 400, code: 'VALIDATION_FAILED', errors: [{ path: 'body/phone' }] }, JSON.stringify(phone))
  }
  t.match(refusal(() => buyerKey({ country: 'US' }, { phone: '0912345678' })), { status: 400 }, 'a VN national number in a US program')
})

t.test('buyerOf: nobody is 404, an erased member 409, else the member', async (t) => {
  t.match(refusal(() => buyerOf([])), { status: 404, code: 'MEMBER_NOT_FOUND' })
  t.match(refusal(() => buyerOf([{ id: 'm', erased_at: new Date() }])), { status: 409, code: 'MEMBER_ERASED' })
  t.same(buyerOf([{ id: 'm', erased_at: null }]), { id: 'm', erased_at: null })
})

t.test('byMemberId: the same sale naming the member by id only', async (t) => {
  const sale = { phone: '0912345678', storeId: 'S1', terminalId: 'T1', externalId: 'X', currency: 'VND', lines: [], tenders: [], capture: false, couponCodes: ['A'] } as unknown as PurchaseCreate
  t.same(byMemberId(sale, 'm-1'), { storeId: 'S1', terminalId: 'T1', externalId: 'X', currency: 'VND', lines: [], tenders: [], capture: false, couponCodes: ['A'], memberId: 'm-1' })
  t.notOk('cardNumber' in byMemberId({ ...sale, phone: undefined, cardNumber: 'C' } as PurchaseCreate, 'm-1'))
  t.equal(sale.phone, '0912345678', 'the sale as sent is not changed (its hash is the request hash)')
})

t.test('saleReceiptFills: each tender paid from a wallet shows its balance after', async (t) => {
  const fills = saleReceiptFills({ tenders: [{ type: 'storedValue', amount: '1', balanceAfter: '0' }, { type: 'points', amount: '1', points: 1, pointsBalanceAfter: 0 }, { type: 'cash', amount: '1' }] } as never)
  t.same(fills.slice(3), [
    { path: ['tenders', 0, 'balanceAfter'], fact: 'storedValue.available' },
    { path: ['tenders', 1, 'pointsBalanceAfter'], fact: 'points.available' },
  ])
  t.same(fills.slice(0, 3).map((f) => f.fact), ['points.available', 'storedValue.available', 'member.phone'])
  t.equal(saleReceiptFills({ tenders: [{ type: 'cash', amount: '1' }] } as never).length, 3, 'a cash sale fills the wallets and the phone only')
})
