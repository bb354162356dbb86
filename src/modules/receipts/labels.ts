import type { ReceiptLanguage } from './format.js'
import type { ReceiptDocument } from './schemas.js'

/** Every word a receipt prints, per language. Vietnamese for VND programs. */
export const LABELS = {
  vi: {
    title: {
      purchase: 'Biên nhận bán hàng',
      pending: 'Đơn hàng đang giữ tiền',
      capture: 'Biên nhận thanh toán',
      void: 'Biên nhận hủy đơn',
      return: 'Biên nhận trả hàng',
      top_up: 'Biên nhận nạp tiền',
    },
    store: 'Cửa hàng',
    terminal: 'Quầy',
    number: 'Số biên nhận',
    posNumber: 'Số hóa đơn bán lẻ',
    time: 'Thời gian',
    member: 'Khách hàng',
    original: 'Biên nhận gốc',
    item: 'Mặt hàng',
    qty: 'SL',
    amount: 'Thành tiền',
    subtotal: 'Tạm tính',
    discount: 'Giảm giá',
    total: { purchase: 'Tổng cộng', pending: 'Số tiền giữ', capture: 'Đã thanh toán', void: 'Đã hoàn lại (giữ tiền được giải phóng)', return: 'Tổng tiền hoàn', top_up: 'Số tiền nạp' },
    authorized: 'Đã giữ trước',
    taxIncluded: 'Giá đã bao gồm thuế GTGT',
    taxIncludedShort: 'đã gồm trong giá',
    tax: 'Thuế GTGT',
    tenders: { purchase: 'Thanh toán', return: 'Hoàn lại vào', top_up: 'Hình thức nạp', void: 'Đã giải phóng' },
    tender: {
      storedValue: 'Thẻ trả trước',
      giftCard: 'Thẻ quà tặng',
      points: 'Điểm',
      cash: 'Tiền mặt',
      card: 'Thẻ ngân hàng',
      other: 'Khác',
      bank_transfer: 'Chuyển khoản',
      e_wallet: 'Ví điện tử',
    } as Record<string, string>,
    balanceAfter: 'Số dư còn lại',
    points: 'Điểm thưởng',
    pointsUnit: 'điểm',
    earned: 'Điểm tích lũy',
    redeemed: 'Điểm đã dùng',
    returnedPoints: 'Điểm hoàn lại',
    clawedBack: 'Điểm bị thu hồi',
    debt: 'Điểm còn nợ',
    pointsBalance: 'Số dư điểm',
    storedValueBalance: 'Số dư thẻ trả trước',
    tier: 'Hạng thành viên',
    nextTier: (remaining: string, name: string) => `Còn ${remaining} để lên hạng ${name}`,
    invoice: 'Hóa đơn điện tử',
    sellerTaxCode: 'MST người bán',
    invoiceSymbol: 'Ký hiệu',
    invoiceNumber: 'Số',
    lookupCode: 'Mã tra cứu',
    lookup: 'Tra cứu hóa đơn',
    note: 'Ghi chú',
    notInvoice: 'Biên nhận này không thay thế hóa đơn GTGT.',
    verify: 'Xác thực chữ ký số (JWS)',
    thanks: 'Cảm ơn quý khách!',
  },
  en: {
    title: {
      purchase: 'Sales receipt',
      pending: 'Order on hold',
      capture: 'Payment receipt',
      void: 'Cancellation receipt',
      return: 'Return receipt',
      top_up: 'Top-up receipt',
    },
    store: 'Store',
    terminal: 'Terminal',
    number: 'Receipt no.',
    posNumber: 'POS receipt no.',
    time: 'Date',
    member: 'Member',
    original: 'Original receipt',
    item: 'Item',
    qty: 'Qty',
    amount: 'Amount',
    subtotal: 'Subtotal',
    discount: 'Discount',
    total: { purchase: 'Total', pending: 'Amount on hold', capture: 'Paid', void: 'Released (hold cancelled)', return: 'Refund total', top_up: 'Amount loaded' },
    authorized: 'Authorised',
    taxIncluded: 'Prices include tax',
    taxIncludedShort: 'included in the prices',
    tax: 'Tax',
    tenders: { purchase: 'Paid with', return: 'Refunded to', top_up: 'Paid with', void: 'Released' },
    tender: {
      storedValue: 'Stored value',
      giftCard: 'Gift card',
      points: 'Points',
      cash: 'Cash',
      card: 'Card',
      other: 'Other',
      bank_transfer: 'Bank transfer',
      e_wallet: 'E-wallet',
    } as Record<string, string>,
    balanceAfter: 'Balance left',
    points: 'Loyalty points',
    pointsUnit: 'points',
    earned: 'Points earned',
    redeemed: 'Points redeemed',
    returnedPoints: 'Points given back',
    clawedBack: 'Points taken back',
    debt: 'Points owed',
    pointsBalance: 'Points balance',
    storedValueBalance: 'Stored value balance',
    tier: 'Tier',
    nextTier: (remaining: string, name: string) => `${remaining} more to reach ${name}`,
    invoice: 'E-invoice',
    sellerTaxCode: 'Seller tax code',
    invoiceSymbol: 'Symbol',
    invoiceNumber: 'Number',
    lookupCode: 'Lookup code',
    lookup: 'Look up the invoice',
    note: 'Note',
    notInvoice: 'This receipt is not a tax invoice.',
    verify: 'Verify the digital signature (JWS)',
    thanks: 'Thank you!',
  },
} satisfies Record<ReceiptLanguage, unknown>

export type Labels = (typeof LABELS)['vi']

export function titleOf(doc: ReceiptDocument): string {
  const l = LABELS[doc.language]
  return doc.kind === 'purchase' && doc.status === 'pending' ? l.title.pending : l.title[doc.kind]
}

export function totalLabelOf(doc: ReceiptDocument): string {
  const l = LABELS[doc.language]
  return doc.kind === 'purchase' && doc.status === 'pending' ? l.total.pending : l.total[doc.kind]
}

export function tendersLabelOf(doc: ReceiptDocument): string {
  const t = LABELS[doc.language].tenders
  return doc.kind === 'return' ? t.return : doc.kind === 'top_up' ? t.top_up : doc.kind === 'void' ? t.void : t.purchase
}
