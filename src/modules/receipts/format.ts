import { exponentOf, formatMinorUnits, parseMinorUnits } from '../../shared/money.js'
import { pad2, zonedParts } from '../../shared/zoned-time.js'

export type ReceiptLanguage = 'vi' | 'en'

/** Vietnamese labels for a VND program, English otherwise. */
export const receiptLanguage = (currency: string): ReceiptLanguage => (currency === 'VND' ? 'vi' : 'en')

const groupDigits = (digits: string, separator: string) => digits.replace(/\B(?=(\d{3})+(?!\d))/g, separator)

/**
 * A decimal amount (major units, as the API writes it) for people: "125000" VND is "125.000 ₫",
 * "12.34" USD is "$12.34". Exact: the digits are regrouped, never passed through a float.
 * Spaces are plain spaces (the HTML keeps amounts on one line with CSS).
 */
export function formatMoney(amount: string, currency: string, language: ReceiptLanguage): string {
  const negative = amount.startsWith('-')
  const [whole, fraction] = (negative ? amount.slice(1) : amount).split('.')
  const sign = negative ? '-' : ''
  if (currency === 'VND') return `${sign}${groupDigits(whole!, '.')}${fraction ? `,${fraction}` : ''} ₫`
  const decimalSep = language === 'vi' ? ',' : '.'
  const groupSep = language === 'vi' ? '.' : ','
  const number = `${groupDigits(whole!, groupSep)}${fraction ? `${decimalSep}${fraction}` : ''}`
  const symbol = currencySymbol(currency)
  if (symbol) return `${sign}${symbol}${number}`
  return `${sign}${number} ${currency}`
}

const SYMBOLS: Record<string, string> = { USD: '$', EUR: '€', GBP: '£', JPY: '¥', SGD: 'S$', AUD: 'A$', CAD: 'CA$', HKD: 'HK$' }
const currencySymbol = (currency: string): string | undefined => SYMBOLS[currency]

/** The same amount for an SMS, GSM-7 only: "125.000 VND", "$12.34", "12,50 EUR" (no ₫, no €). */
export function formatMoneySms(amount: string, currency: string, language: ReceiptLanguage): string {
  if (currency === 'VND') return formatMoney(amount, currency, language).replace(' ₫', ' VND')
  if (currency === 'USD') return formatMoney(amount, currency, language)
  const negative = amount.startsWith('-')
  const [whole, fraction] = (negative ? amount.slice(1) : amount).split('.')
  const [groupSep, decimalSep] = language === 'vi' ? ['.', ','] : [',', '.']
  return `${negative ? '-' : ''}${groupDigits(whole!, groupSep)}${fraction ? `${decimalSep}${fraction}` : ''} ${currency}`
}

// receipts/statement.ts reads exponentOf from here.
export { exponentOf }

/** Minor units to the API's decimal string. */
export const moneyText = (minor: bigint | string, currency: string) => formatMinorUnits(BigInt(minor), exponentOf(currency))

/** The API's decimal string back to minor units. */
export const minorOf = (text: string, currency: string): bigint => parseMinorUnits(text, exponentOf(currency)) ?? 0n

/**
 * A line's quantity for people: pieces as they are ("2"), a measure with its unit and the
 * language's decimal mark ("0,375 kg" in Vietnamese, "0.375 kg" in English).
 */
export function formatQuantity(quantity: number | string, unit: string | undefined, language: ReceiptLanguage): string {
  if (!unit) return String(quantity)
  const text = String(quantity)
  return `${language === 'vi' ? text.replace('.', ',') : text} ${unit}`
}

export function formatPoints(points: number, language: ReceiptLanguage): string {
  return groupDigits(String(Math.abs(points)), language === 'vi' ? '.' : ',').replace(/^/, points < 0 ? '-' : '')
}

/**
 * Receipts travel (SMS, shared links), so a phone keeps only its first two and last three digits:
 * "+84912345678" shows as "+84******678", enough for the member to recognise, useless to others.
 */
export function maskPhone(e164: string | null): string | null {
  if (!e164) return null
  const plus = e164.startsWith('+') ? '+' : ''
  const digits = e164.slice(plus.length)
  if (digits.length <= 6) return plus + '*'.repeat(digits.length)
  return `${plus}${digits.slice(0, 2)}${'*'.repeat(digits.length - 5)}${digits.slice(-3)}`
}

/** "14:03 01/05/2026" (vi) or "2026-05-01 14:03" (en), on the program's clock. */
export function localDateTime(at: Date, timeZone: string, language: ReceiptLanguage): string {
  const p = zonedParts(at, timeZone)
  const time = `${pad2(p.hour)}:${pad2(p.minute)}`
  return language === 'vi' ? `${time} ${pad2(p.day)}/${pad2(p.month)}/${p.year}` : `${p.year}-${pad2(p.month)}-${pad2(p.day)} ${time}`
}

// GSM 03.38: the basic set costs one septet, the extension table two (escape + char).
const GSM_BASIC = new Set(
  '@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !"#¤%&\'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà',
)
const GSM_EXTENDED = new Set('^{}\\[~]|€\f')

/** Septets a text takes in GSM-7, or undefined when it holds a character GSM-7 cannot carry. */
export function gsm7Length(text: string): number | undefined {
  let n = 0
  for (const ch of text) {
    if (GSM_BASIC.has(ch)) n += 1
    else if (GSM_EXTENDED.has(ch)) n += 2
    else return undefined
  }
  return n
}

/**
 * Plain GSM-7 text without diacritics: "Cà phê Sáng" becomes "Ca phe Sang", đ becomes d;
 * anything GSM-7 cannot carry is dropped.
 */
export function toGsm7(text: string): string {
  const stripped = text
    .replace(/đ/g, 'd')
    .replace(/Đ/g, 'D')
    .normalize('NFD')
    .replace(/[\u0300-\u036f]/g, '')
  let out = ''
  for (const ch of stripped) if (GSM_BASIC.has(ch) && ch !== '\r') out += ch === '\n' ? ' ' : ch
  return out.replace(/\s+/g, ' ').trim()
}
