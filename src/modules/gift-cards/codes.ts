// Gift card codes and PINs, pure. A code is a bearer credential printed on a card: 16 Crockford
// base32 characters from the operating system's random source (80 bits: guessing one of a million
// issued cards takes about 10^18 tries). It is kept only as its SHA-256, so the table cannot give
// it away; a plain hash is enough for 80 random bits (no dictionary to try), and keeps lookups one
// index probe. PINs are a few digits, so they are scrypt-hashed (src/shared/secrets.ts) and their
// wrong guesses counted (pin-policy.ts).
import { createHash } from 'node:crypto'
import { CODE_ALPHABET, randomCode } from '../../shared/codes.js'

export const GIFT_CARD_CODE_LENGTH = 16

/** A new code, as the API shows it once: 16 characters, no separators. */
export const newGiftCardCode = (): string => randomCode(GIFT_CARD_CODE_LENGTH)

const ALIASES: Record<string, string> = { I: '1', L: '1', O: '0' }

/**
 * A code as typed or scanned, normalized: upper case, spaces and hyphens dropped, the letters
 * Crockford reads as digits (I, L -> 1; O -> 0) mapped. Undefined when what is left is not 16
 * characters of the alphabet (U included): such a code was never issued, and is refused before
 * anything is read.
 */
export function readGiftCardCode(text: string): string | undefined {
  if (text.length > 64) return undefined
  const code = text
    .toUpperCase()
    .replace(/[\s-]/g, '')
    .replace(/[ILO]/g, (c) => ALIASES[c]!)
  if (code.length !== GIFT_CARD_CODE_LENGTH) return undefined
  for (const c of code) if (!CODE_ALPHABET.includes(c)) return undefined
  return code
}

/** What the table keeps of a code, and looks it up by. */
export const codeHash = (code: string): string => createHash('sha256').update(code).digest('hex')

/** The last four characters, shown on lists and receipts ("…7KQ2"). */
export const codeLast4 = (code: string): string => code.slice(-4)

/** A PIN: 4 to 8 digits. */
export const PIN_PATTERN = /^[0-9]{4,8}$/
