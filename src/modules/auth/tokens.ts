import { randomUUID } from 'node:crypto'
import { SignJWT, jwtVerify, errors as joseErrors } from 'jose'
import { ACCEPTED_ALGORITHMS, type KeyRing } from './keys.js'
import { unauthorized } from '../../shared/errors.js'

export interface TokenSettings {
  issuer: string
  audience: string
  ttlSeconds: number
}

export interface AccessClaims {
  clientId: string
  scopes: string[]
  /** Absent for the platform admin. */
  programId?: string
}

export async function issueAccessToken(keys: KeyRing, settings: TokenSettings, claims: AccessClaims): Promise<string> {
  const payload: Record<string, unknown> = { scope: claims.scopes.join(' ') }
  if (claims.programId) payload.pid = claims.programId
  return new SignJWT(payload)
    .setProtectedHeader({ alg: keys.alg, kid: keys.kid, typ: 'at+jwt' })
    .setIssuer(settings.issuer)
    .setAudience(settings.audience)
    .setSubject(claims.clientId)
    .setJti(randomUUID())
    .setIssuedAt()
    .setExpirationTime(`${settings.ttlSeconds}s`)
    .sign(keys.privateKey)
}

/**
 * Tokens already verified, with their expiry: a POS sends the same token on every request, and
 * the signature check was a visible share of the purchase path. Only the signature work is
 * skipped; lifetime is checked on every use and the client's status is still read per request.
 */
const verified = new Map<string, { claims: AccessClaims; exp: number; keys: KeyRing }>()
const VERIFIED_LIMIT = 10_000

/** Verifies signature, algorithm, issuer, audience and lifetime; any failure is a 401 with no hint of which. */
export async function verifyAccessToken(keys: KeyRing, settings: TokenSettings, token: string): Promise<AccessClaims> {
  const known = verified.get(token)
  if (known && known.keys === keys) {
    if (known.exp * 1000 > Date.now() - 5000) return known.claims
    verified.delete(token)
  }
  const claims = await verifyUncached(keys, settings, token)
  if (verified.size >= VERIFIED_LIMIT) verified.clear()
  verified.set(token, { claims, exp: decodeExp(token), keys })
  return claims
}

function decodeExp(token: string): number {
  const payload = JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString('utf8')) as { exp: number }
  return payload.exp
}

async function verifyUncached(keys: KeyRing, settings: TokenSettings, token: string): Promise<AccessClaims> {
  try {
    const { payload } = await jwtVerify(token, keys.keySet, {
      issuer: settings.issuer,
      audience: settings.audience,
      algorithms: ACCEPTED_ALGORITHMS,
      typ: 'at+jwt',
      requiredClaims: ['sub', 'exp', 'iat', 'scope'],
      clockTolerance: 5,
    })
    if (typeof payload.scope !== 'string' || (payload.pid !== undefined && typeof payload.pid !== 'string')) {
      throw unauthorized('The access token is malformed')
    }
    return { clientId: payload.sub!, scopes: payload.scope.split(' ').filter(Boolean), programId: payload.pid as string | undefined }
  } catch (err) {
    if (err instanceof joseErrors.JWTExpired) throw unauthorized('The access token has expired')
    if (err instanceof joseErrors.JOSEError || err instanceof TypeError || err instanceof SyntaxError) throw unauthorized('The access token is not valid')
    throw err
  }
}
