// Purchase-shaped inputs for the receipt builders: rows as the purchases table keeps them.
import type { ReceiptProgram, ReturnRecord, SaleRecord, WalletsAfter } from '../../../src/modules/receipts/builders.js'

export const VND_PROGRAM: ReceiptProgram = { id: '01900000-0000-7000-8000-000000000001', name: 'Cà phê Sáng Đà Nẵng', currency: 'VND', timezone: 'Asia/Ho_Chi_Minh' }
export const USD_PROGRAM: ReceiptProgram = { id: '01900000-0000-7000-8000-000000000002', name: 'Corner Deli', currency: 'USD', timezone: 'America/New_York' }
export const MEMBER = { id: '01900000-0000-7000-8000-0000000000aa', phone: '+84912345678' }
export const US_MEMBER = { id: '01900000-0000-7000-8000-0000000000bb', phone: '+12124567890' }

export const ident = (n = 1, at = '2026-05-01T07:03:00Z') => ({
  id: `01900000-0000-7000-8000-00000000010${n}`,
  number: `260501-AAAAA-BBBB${n}`,
  issuedAt: new Date(at),
})

export const wallets = (points: bigint, storedValue: bigint): WalletsAfter => ({ points: { available: points }, storedValue: { available: storedValue } })

/**
 * A VND sale: 2 coffees at 45,000 with a 10,000 line discount (VAT 8%), a sandwich at 65,000
 * (VAT 10%), a bottle of water at 10,000 (no rate). Subtotal 165,000, discount 10,000, total
 * 155,000: 60,000 stored value, 400 points (40,000 at 100 VND), 55,000 cash. Earns 11 points.
 */
export function vndSale(overrides: Partial<SaleRecord> = {}): SaleRecord & { memberId: string } {
  return {
    id: '01900000-0000-7000-8000-000000000201',
    memberId: MEMBER.id,
    status: 'completed',
    storeId: 'HN-01',
    terminalId: 'T2',
    externalId: 'POS-000123',
    occurredAt: new Date('2026-05-01T07:02:00Z'),
    lines: [
      { sku: 'CF-SUA', name: 'Cà phê sữa đá', quantity: 2, unitPrice: '45000', discount: '10000', amount: '80000', category: 'coffee', taxRate: '8', returnedQuantity: 0, returnedAmount: '0' },
      { sku: 'BANH-MI', name: 'Bánh mì thịt', quantity: 1, unitPrice: '65000', discount: '0', amount: '65000', category: null, taxRate: '10', returnedQuantity: 0, returnedAmount: '0' },
      { sku: 'NUOC', name: 'Nước suối', quantity: 1, unitPrice: '10000', discount: '0', amount: '10000', category: null, taxRate: null, returnedQuantity: 0, returnedAmount: '0' },
    ],
    tenders: [
      { type: 'storedValue', amount: '60000', refundedAmount: '0' },
      { type: 'points', amount: '40000', points: '400', refundedAmount: '0', refundedPoints: '0' },
      { type: 'cash', amount: '55000', refundedAmount: '0' },
    ],
    subtotal: 165000n,
    discountTotal: 10000n,
    total: 155000n,
    pointsEarned: 11n,
    pointsRedeemed: 400n,
    storedValueUsed: 60000n,
    invoice: { sellerTaxCode: '0101234567', symbol: '1C26TAA', number: '00001234', lookupCode: 'ABC123XYZ', lookupUrl: 'https://hoadon.example.vn/tra-cuu' },
    entryId: '01900000-0000-7000-8000-000000000301',
    holds: {},
    ...overrides,
  }
}

export function usdSale(overrides: Partial<SaleRecord> = {}): SaleRecord & { memberId: string } {
  return {
    id: '01900000-0000-7000-8000-000000000202',
    memberId: US_MEMBER.id,
    status: 'completed',
    storeId: 'NYC-5',
    terminalId: 'REG-1',
    externalId: 'R-77',
    occurredAt: new Date('2026-05-01T16:30:00Z'),
    lines: [{ sku: 'TEE', name: 'T-shirt', quantity: 2, unitPrice: '1299', discount: '0', amount: '2598', taxRate: null }],
    tenders: [{ type: 'card', amount: '2598' }],
    subtotal: 2598n,
    discountTotal: 0n,
    total: 2598n,
    pointsEarned: 25n,
    pointsRedeemed: 0n,
    storedValueUsed: 0n,
    invoice: null,
    entryId: '01900000-0000-7000-8000-000000000302',
    ...overrides,
  }
}

/** Returning one of the two coffees of vndSale: 40,000 back, split over the tenders. */
export const coffeeReturn: ReturnRecord = {
  id: '01900000-0000-7000-8000-000000000401',
  purchaseId: '01900000-0000-7000-8000-000000000201',
  amount: 40000n,
  refunds: [
    { type: 'storedValue', amount: 15484n },
    { type: 'points', amount: 10300n, points: 103n },
    { type: 'cash', amount: 14216n },
  ],
  pointsClawedBack: 3n,
  pointsDebt: 0n,
  entryId: '01900000-0000-7000-8000-000000000402',
  createdAt: new Date('2026-05-02T03:15:00Z'),
  reason: 'Khách đổi ý',
}
