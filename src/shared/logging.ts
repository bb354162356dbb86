import { stdSerializers, type LoggerOptions } from 'pino'
import { causesOf } from './errors.js'

/**
 * What the service logs, and what it never logs. Personal data (names, phones, emails, birthdays)
 * travels in bodies, query strings and SQL parameters: bodies are never logged, query strings are
 * logged by key only, credentials are redacted, and a failed query's parameters and PostgreSQL's
 * row details ("Key (phone)=(+84...)", "Failing row contains ...") are cut from logged errors.
 */
export function loggerOptions(level: string): LoggerOptions {
  return {
    level,
    redact: { paths: ['req.headers.authorization', 'req.headers.cookie', 'req.headers["x-api-key"]'], censor: '[redacted]' },
    serializers: { req: requestSerializer, err: errorSerializer },
  }
}

/** Request log lines carry method and path; of the query string only the keys (values can be phone numbers). */
export function requestSerializer(req: { method: string; url: string }) {
  const [path, query] = req.url.split('?')
  const keys = query ? [...new URLSearchParams(query).keys()] : []
  return { method: req.method, url: keys.length ? `${path}?${keys.map((k) => `${k}=…`).join('&')}` : path }
}

/** Fields of driver and query errors that can hold the values of a row or a statement. */
const VALUE_FIELDS = ['params', 'parameters', 'detail', 'args']

export function errorSerializer(err: unknown): unknown {
  if (!(err instanceof Error)) return err
  // drizzle's DrizzleQueryError spells the parameters into its message and stack: `\nparams: a,b`.
  const spelled = [...causesOf(err)].filter((e) => Array.isArray(e.params)).map((e) => `\nparams: ${String(e.params)}`)
  const scrub = (text: unknown) => (typeof text === 'string' ? spelled.reduce((s, p) => s.split(p).join('\nparams: [redacted]'), text) : text)
  const out = stdSerializers.err(err) as unknown as Record<string, unknown>
  const clean: Record<string, unknown> = {}
  for (const [key, value] of Object.entries(out)) {
    if (VALUE_FIELDS.includes(key)) continue
    clean[key] = key === 'message' || key === 'stack' ? scrub(value) : value
  }
  return clean
}
