import { createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto'
import { mkdir, readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { calculateJwkThumbprint, createLocalJWKSet, exportJWK, type JWK, type JWTVerifyGetKey } from 'jose'

export type SigningAlgorithm = 'EdDSA' | 'ES256'
export const ACCEPTED_ALGORITHMS: SigningAlgorithm[] = ['EdDSA', 'ES256']

/** The service's asymmetric keys: one signs, every published one verifies. Private material never leaves here. */
export interface KeyRing {
  privateKey: KeyObject
  alg: SigningAlgorithm
  kid: string
  jwks: { keys: JWK[] }
  keySet: JWTVerifyGetKey
}

export interface KeyRingSource {
  signingKeyPem?: string
  signingKeyId?: string
  verificationJwks?: string
  /** Embedded mode keeps a generated key here; 'memory://' keeps it in memory only. */
  dataDir?: string
}

export async function loadKeyRing(source: KeyRingSource): Promise<KeyRing> {
  const privateKey = createPrivateKey(source.signingKeyPem ?? (await embeddedKeyPem(source.dataDir)))
  const alg = algorithmOf(privateKey)
  const publicJwk = await exportJWK(createPublicKey(privateKey))
  const kid = source.signingKeyId ?? (await calculateJwkThumbprint(publicJwk))
  const keys: JWK[] = [{ ...publicJwk, kid, alg, use: 'sig' }, ...extraKeys(source.verificationJwks)]
  return { privateKey, alg, kid, jwks: { keys }, keySet: createLocalJWKSet({ keys }) }
}

function algorithmOf(key: KeyObject): SigningAlgorithm {
  if (key.asymmetricKeyType === 'ed25519') return 'EdDSA'
  if (key.asymmetricKeyType === 'ec' && key.asymmetricKeyDetails?.namedCurve === 'prime256v1') return 'ES256'
  throw new Error(`SIGNING_KEY must be an Ed25519 or P-256 private key, not ${key.asymmetricKeyType}`)
}

function extraKeys(jwksJson: string | undefined): JWK[] {
  if (!jwksJson) return []
  const parsed = JSON.parse(jwksJson) as { keys?: JWK[] }
  if (!Array.isArray(parsed.keys)) throw new Error('VERIFICATION_JWKS must be a JWKS document: {"keys": [...]}')
  for (const k of parsed.keys) {
    if ('d' in k) throw new Error('VERIFICATION_JWKS must hold public keys only')
    if (!k.kid || !k.alg || !ACCEPTED_ALGORITHMS.includes(k.alg as SigningAlgorithm)) throw new Error('each VERIFICATION_JWKS key needs a kid and alg EdDSA or ES256')
  }
  return parsed.keys
}

async function embeddedKeyPem(dataDir: string | undefined): Promise<string> {
  const generate = () => generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }).toString()
  if (!dataDir || dataDir.startsWith('memory://')) return generate()
  const path = join(dataDir, 'signing-key.pem')
  try {
    return await readFile(path, 'utf8')
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err
  }
  await mkdir(dataDir, { recursive: true })
  const pem = generate()
  await writeFile(path, pem, { mode: 0o600, flag: 'wx' })
  return pem
}
