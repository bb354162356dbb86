import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto'

// Standard Webhooks (standardwebhooks.com): headers webhook-id, webhook-timestamp and
// webhook-signature = "v1," + base64(HMAC-SHA256(key, "{id}.{timestamp}.{body}")), where the key
// is the base64 part of the endpoint secret "whsec_<base64>".

const PREFIX = 'whsec_'

/** A new endpoint secret: 32 random bytes. Shown once to the program; kept to sign deliveries. */
export const newWebhookSecret = () => `${PREFIX}${randomBytes(32).toString('base64')}`

const keyOf = (secret: string) => Buffer.from(secret.startsWith(PREFIX) ? secret.slice(PREFIX.length) : secret, 'base64')

export function webhookSignature(secret: string, id: string, timestampSeconds: number, body: string): string {
  return `v1,${createHmac('sha256', keyOf(secret)).update(`${id}.${timestampSeconds}.${body}`).digest('base64')}`
}

/** The headers of one attempt; several secrets (a rotation's overlap): one `v1,` signature each, space-separated. */
export function webhookHeaders(secrets: string | readonly string[], id: string, timestampSeconds: number, body: string): Record<string, string> {
  return {
    'webhook-id': id,
    'webhook-timestamp': String(timestampSeconds),
    'webhook-signature': (typeof secrets === 'string' ? [secrets] : secrets).map((s) => webhookSignature(s, id, timestampSeconds, body)).join(' '),
  }
}

/** Receiver side (and tests): does any of the space-separated signatures match? Constant-time compare. */
export function verifyWebhookSignature(secret: string, headers: { id: string; timestamp: string; signature: string }, body: string): boolean {
  const expected = Buffer.from(webhookSignature(secret, headers.id, Number(headers.timestamp), body))
  return headers.signature.split(' ').some((candidate) => {
    const given = Buffer.from(candidate)
    return given.length === expected.length && timingSafeEqual(given, expected)
  })
}
