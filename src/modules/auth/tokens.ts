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

/** Verifies signature, algorithm, issuer, audience and lifetime; any failure is a 401 with no hint of which. */
export async function verifyAccessToken(keys: KeyRing, settings: TokenSettings, token: string): Promise<AccessClaims> {
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
