// A receipt's identity: its id, its number (the local date, then random digits) and the token of
// its public link. The receipt itself is written by a plan (plan-steps.ts builds its steps).
import { randomBytes } from 'node:crypto'
import { newId } from '../../shared/ids.js'
import { pad2, zonedParts } from '../../shared/zoned-time.js'
import type { ReceiptIdentity, ReceiptProgram } from './inputs.js'

/** The program fields receipts and events need: a programs row fits. */
export interface RecordProgram extends ReceiptProgram {
  rules: unknown
}

const CROCKFORD = '0123456789ABCDEFGHJKMNPQRSTVWXYZ'

/** "260501-7K3F9-QX2M7": the local date, then 50 random bits; unique in the program (checked by an index). */
export function newReceiptNumber(issuedAt: Date, timeZone: string, random: Buffer = randomBytes(7)): string {
  const p = zonedParts(issuedAt, timeZone)
  // 50 bits as 10 Crockford base-32 digits: 5 bits at a time from the first 7 bytes.
  let code = ''
  for (let i = 0; i < 10; i++) {
    const bit = i * 5
    const pair = (random[bit >> 3]! << 8) | (random[(bit >> 3) + 1] ?? 0)
    code += CROCKFORD[(pair >> (11 - (bit & 7))) & 31]
  }
  return `${String(p.year).slice(2)}${pad2(p.month)}${pad2(p.day)}-${code.slice(0, 5)}-${code.slice(5)}`
}

/** 96 random bits, base64url: 16 characters, short enough for an SMS, far beyond guessing. */
export const newPublicToken = (random: Buffer = randomBytes(12)) => random.toString('base64url')

export function newReceiptIdentity(program: { timezone: string }, issuedAt: Date): ReceiptIdentity & { token: string } {
  const random = randomBytes(19)
  return { id: newId(), number: newReceiptNumber(issuedAt, program.timezone, random.subarray(0, 7)), issuedAt, token: newPublicToken(random.subarray(7)) }
}
