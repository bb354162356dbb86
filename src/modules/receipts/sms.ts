import { formatMoneySms, gsm7Length, toGsm7 } from './format.js'
import type { ReceiptDocument } from './schemas.js'

/** One SMS segment in GSM-7: longer texts are split and billed as several messages. */
export const SMS_LIMIT = 160

const WORDS = {
  vi: {
    action: { purchase: 'Thanh toan', pending: 'Giu tien don hang', capture: 'Thanh toan', void: 'Huy don, hoan', return: 'Hoan tra', top_up: 'Nap the' },
    short: { purchase: 'TT', pending: 'Giu', capture: 'TT', void: 'Huy', return: 'Hoan', top_up: 'Nap' },
    balance: 'So du the',
    balanceShort: 'SD',
    points: (delta: string, total: string) => `Diem ${delta}, con ${total}`,
    pointsShort: (delta: string, total: string) => `Diem ${delta}/${total}`,
    link: 'Chi tiet',
  },
  en: {
    action: { purchase: 'Paid', pending: 'On hold', capture: 'Paid', void: 'Cancelled, released', return: 'Refund', top_up: 'Top-up' },
    short: { purchase: 'Paid', pending: 'Hold', capture: 'Paid', void: 'Void', return: 'Refund', top_up: 'Top-up' },
    balance: 'Card balance',
    balanceShort: 'Bal',
    points: (delta: string, total: string) => `Points ${delta}, total ${total}`,
    pointsShort: (delta: string, total: string) => `Pts ${delta}/${total}`,
    link: 'Details',
  },
}

/**
 * The SMS a member gets after a transaction (article 004: amount, balance left): one GSM-7
 * message of at most 160 characters, no diacritics, with the amount, the stored value left,
 * the points and the short link. Long program names are shortened, then parts are dropped
 * (program name, points, balance) until it fits; the amount and the link always stay.
 */
export function renderSms(doc: ReceiptDocument, publicUrl: string): string {
  const w = WORDS[doc.language]
  const kind = doc.kind === 'purchase' && doc.status === 'pending' ? 'pending' : doc.kind
  const money = (v: string) => formatMoneySms(v, doc.currency, doc.language)
  const amount = money(doc.totals.total)
  const pointsDelta = doc.points.earned - doc.points.redeemed + doc.points.returned - doc.points.clawedBack
  const touchesStoredValue = doc.tenders.some((t) => t.type === 'storedValue') || doc.kind === 'top_up'
  const showBalance = touchesStoredValue || doc.storedValue.balanceAfter.replace(/[0.]/g, '') !== ''
  const showPoints = pointsDelta !== 0 || doc.points.balanceAfter !== 0
  const delta = pointsDelta > 0 ? `+${pointsDelta}` : String(pointsDelta)
  const balance = money(doc.storedValue.balanceAfter)
  const name = toGsm7(doc.program.name)

  const compose = (o: { name?: string; short?: boolean; points?: boolean; balance?: boolean }) =>
    [
      `${o.name ? `${o.name}: ` : ''}${(o.short ? w.short : w.action)[kind]} ${amount}`,
      o.balance && showBalance ? `${o.short ? w.balanceShort : w.balance} ${balance}` : undefined,
      o.points && showPoints ? (o.short ? w.pointsShort : w.points)(delta, String(doc.points.balanceAfter)) : undefined,
      `${w.link}: ${publicUrl}`,
    ]
      .filter((p): p is string => p !== undefined)
      .join('. ')

  const candidates = [
    compose({ name, points: true, balance: true }),
    compose({ name: name.slice(0, 20).trim(), points: true, balance: true }),
    compose({ name: name.slice(0, 20).trim(), short: true, points: true, balance: true }),
    compose({ short: true, points: true, balance: true }),
    compose({ short: true, balance: true }),
    compose({ short: true }),
  ]
  for (const text of candidates) {
    const length = gsm7Length(text)
    if (length !== undefined && length <= SMS_LIMIT) return text
  }
  return candidates[candidates.length - 1]!
}
