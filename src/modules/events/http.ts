import { BlockList, isIP } from 'node:net'
import { lookup as dnsLookup, type LookupAddress } from 'node:dns'
import http from 'node:http'
import https from 'node:https'

/** Loopback, private, link-local, carrier-grade NAT, multicast and reserved ranges: never a webhook target in production. */
const PRIVATE = new BlockList()
for (const [net, prefix] of [
  ['0.0.0.0', 8],
  ['10.0.0.0', 8],
  ['100.64.0.0', 10],
  ['127.0.0.0', 8],
  ['169.254.0.0', 16],
  ['172.16.0.0', 12],
  ['192.0.0.0', 24],
  ['192.168.0.0', 16],
  ['198.18.0.0', 15],
  ['224.0.0.0', 3],
] as const)
  PRIVATE.addSubnet(net, prefix, 'ipv4')
for (const [net, prefix] of [
  ['::', 128],
  ['::1', 128],
  ['fc00::', 7],
  ['fe80::', 10],
  ['ff00::', 8],
] as const)
  PRIVATE.addSubnet(net, prefix, 'ipv6')

export function isPrivateAddress(address: string): boolean {
  const family = isIP(address)
  if (family === 4) return PRIVATE.check(address, 'ipv4')
  if (family === 6) {
    const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address)
    return mapped ? PRIVATE.check(mapped[1]!, 'ipv4') : PRIVATE.check(address, 'ipv6')
  }
  return false
}

/** Why a URL may not be a webhook endpoint, or null. DNS answers are checked again at each delivery. */
export function webhookUrlProblem(url: string, allowPrivate: boolean): string | null {
  let parsed: URL
  try {
    parsed = new URL(url)
  } catch {
    return 'not a URL'
  }
  if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:') return 'must be an https URL'
  if (parsed.username || parsed.password) return 'must not contain credentials'
  if (allowPrivate) return null
  if (parsed.protocol !== 'https:') return 'must be an https URL'
  const host = parsed.hostname.replace(/^\[|\]$/g, '')
  if (host === 'localhost' || host.endsWith('.localhost') || isPrivateAddress(host)) return 'must not point to a private or loopback address'
  return null
}

/** A DNS lookup that refuses private answers, so a public name cannot be re-pointed at the internal network. */
export function guardedLookup(hostname: string, options: object, callback: (err: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void) {
  dnsLookup(hostname, { ...options, all: true }, (err, addresses) => {
    if (err) return callback(err, [])
    const list = addresses as LookupAddress[]
    const bad = list.find((a) => isPrivateAddress(a.address))
    if (bad) return callback(Object.assign(new Error(`${hostname} resolves to a private address`), { code: 'EPRIVATEADDRESS' }), [])
    const wantsAll = (options as { all?: boolean }).all
    if (wantsAll) return callback(null, list)
    return callback(null, list[0]!.address, list[0]!.family)
  })
}

export interface PostResult {
  statusCode?: number
  error?: string
  /** The first 500 characters of the answer. */
  body?: string
  durationMs: number
}

export interface PostOptions {
  timeoutMs: number
  allowPrivate: boolean
  signal?: AbortSignal
}

/** POSTs a JSON body; never throws: a refusal, a timeout or a network error is a result too. Redirects are not followed. */
export function postJson(url: string, headers: Record<string, string>, body: string, options: PostOptions): Promise<PostResult> {
  const started = performance.now()
  const elapsed = () => Math.round(performance.now() - started)
  return new Promise((resolve) => {
    let parsed: URL
    try {
      parsed = new URL(url)
    } catch {
      return resolve({ error: 'invalid URL', durationMs: 0 })
    }
    const problem = webhookUrlProblem(url, options.allowPrivate)
    if (problem) return resolve({ error: `refused: ${problem}`, durationMs: 0 })
    const client = parsed.protocol === 'https:' ? https : http
    const req = client.request(
      parsed,
      {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'user-agent': 'loyalty-ledger-webhooks/1', 'content-length': Buffer.byteLength(body), ...headers },
        timeout: options.timeoutMs,
        signal: options.signal,
        ...(options.allowPrivate ? {} : { lookup: guardedLookup as never }),
      },
      (res) => {
        let text = ''
        res.setEncoding('utf8')
        res.on('data', (chunk: string) => {
          if (text.length < 500) text += chunk
        })
        res.on('end', () => resolve({ statusCode: res.statusCode, body: text.slice(0, 500), durationMs: elapsed() }))
        res.on('error', (err) => resolve({ statusCode: res.statusCode, error: err.message, durationMs: elapsed() }))
      },
    )
    req.on('timeout', () => req.destroy(new Error(`no answer within ${options.timeoutMs} ms`)))
    req.on('error', (err) => resolve({ error: err.message, durationMs: elapsed() }))
    req.end(body)
  })
}
