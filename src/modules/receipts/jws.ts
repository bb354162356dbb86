import { CompactSign, jwtVerify, type JWTVerifyGetKey } from 'jose'
import { ACCEPTED_ALGORITHMS, type KeyRing } from '../auth/keys.js'
import type { ReceiptDocument } from './schemas.js'

/** The JWS `typ` of a signed receipt: never confused with an access token (at+jwt). */
export const RECEIPT_JWS_TYPE = 'receipt+jwt'

const encoder = new TextEncoder()

/**
 * The receipt signed with the service's key as a compact JWS (a JWT without expiry):
 * `{iss, sub: receipt id, iat: issue time, receipt}`. Anyone can verify it offline with the
 * public keys of /.well-known/jwks.json. Ed25519 signatures are deterministic, so the same
 * receipt always gives the same JWS while the key is the same.
 */
export async function signReceipt(keys: KeyRing, issuer: string, receipt: ReceiptDocument): Promise<string> {
  const payload = { iss: issuer, sub: receipt.id, iat: Math.floor(Date.parse(receipt.issuedAt) / 1000), receipt }
  return new CompactSign(encoder.encode(JSON.stringify(payload))).setProtectedHeader({ alg: keys.alg, kid: keys.kid, typ: RECEIPT_JWS_TYPE }).sign(keys.privateKey)
}

/** Verifies a signed receipt against a key set (e.g. createRemoteJWKSet of the JWKS URL); throws when it is not authentic. */
export async function verifyReceipt(jws: string, keySet: JWTVerifyGetKey, issuer: string): Promise<ReceiptDocument> {
  const { payload } = await jwtVerify(jws, keySet, { issuer, typ: RECEIPT_JWS_TYPE, algorithms: ACCEPTED_ALGORITHMS })
  return payload.receipt as ReceiptDocument
}
