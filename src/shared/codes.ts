import { randomBytes } from 'node:crypto'

/** Crockford base32: no I, L, O or U, so a code read aloud or typed from paper is not misread. */
export const CODE_ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZ'

/**
 * An unguessable code people type (coupon and referral codes), from the operating system's
 * random source: 10 characters carry 50 bits, so guessing one of a million issued codes takes
 * about a billion tries. 256 is a multiple of 32, so `byte & 31` picks every character with the
 * same probability. (Migration 0013's loyalty_random_code makes the same codes in SQL.)
 */
export function randomCode(length = 10): string {
  let code = ''
  for (const b of randomBytes(length)) code += CODE_ALPHABET[b & 31]
  return code
}

/** Codes are matched in upper case, trimmed: "summer10 " is SUMMER10. */
export const normalizeCode = (text: string): string => text.trim().toUpperCase()
