// Input classes the OpenAPI fuzz sends in every position of every operation, whatever its schema
// says (issue 14): control characters and lone surrogates in every string (path, query, header,
// body), numbers past 2^63 in integer fields, very long path segments. Unlike the schema-derived
// cases, each states what the answer must be. (Money strings past 2^63 minor units pass the
// schema, so the service refuses them after the idempotency key is taken: fuzz.test.ts sends
// them with the fractional amounts.)
import { leavesOf, sample, urlOf, withLeaf, type JsonSchema, type Known, type Operation } from './openapi-requests.js'

export type InputClass = 'control text' | 'beyond int64' | 'long path segment'

/** `invalid`: 400 VALIDATION_FAILED naming `path`; `refused`: any 4xx problem; `answered`: no 5xx (a GET may succeed). */
export type Expectation = { kind: 'invalid'; path: string } | { kind: 'refused' } | { kind: 'answered' }

export interface Case {
  op: Operation
  label: string
  url: string
  payload?: string | Buffer
  headers: Record<string, string>
  inputClass?: InputClass
  expect?: Expectation
}

/** What a class case needs from the fuzz: known values, and the headers an operation needs to get past authentication. */
export interface Context {
  known: Known
  headers(op: Operation): Record<string, string>
}

/** U+0000, the other refused C0 characters, and lone surrogates (sent as JSON `\ud800` escapes in bodies). */
const NUL = 'a\u0000b'
const OTHER_C0 = ['\u0001', '\u0008', '\u000b', '\u000c', '\u001b', '\u001f'].map((c) => `x${c}y`)
const SURROGATES = ['\ud800', 'x\udfff']
/** A lone surrogate cannot be percent-encoded as UTF-8; its CESU-8 bytes and an overlong NUL are the nearest a URL can carry. */
const BAD_UTF8 = ['%ED%A0%80', '%C0%80']

const INT64_PAST = ['9223372036854775808', '18446744073709551616', '-9223372036854775809', '1e19', '99999999999999999999999999999999999999']
const LONG_SEGMENTS = [101, 2_000, 100_000]

const PLACEHOLDER = 'FUZZ-PLACEHOLDER-7f3a'
const isInteger = (s: JsonSchema) => s.type === 'integer' || (Array.isArray(s.type) && s.type.includes('integer'))
const isString = (s: JsonSchema) => s.type === 'string' || (Array.isArray(s.type) && s.type.includes('string'))

/** Every string position gets NUL, a lone surrogate and one of the other C0 characters (rotating, so each is sent somewhere). */
function controlValues(position: number, surrogates = true): [string, string][] {
  const c0 = OTHER_C0[position % OTHER_C0.length]!
  return [['NUL', NUL], [`U+${c0.charCodeAt(1).toString(16).padStart(4, '0')}`, c0], ...(surrogates ? [['lone surrogate', SURROGATES[position % 2]!] as [string, string]] : [])]
}

export function inputClassCases(op: Operation, ctx: Context): Case[] {
  const body = op.body ? sample(op.body.schema, ctx.known) : undefined
  const payload = body === undefined ? undefined : JSON.stringify(body)
  const headers = () => ({ ...ctx.headers(op), ...(body === undefined ? {} : { 'content-type': 'application/json' }) })
  const cases: Case[] = []
  const add = (inputClass: InputClass, label: string, url: string, expect: Expectation, over: Partial<Case> = {}) =>
    cases.push({ op, label: `${inputClass}: ${label}`, url, payload, headers: headers(), inputClass, expect, ...over })
  const withRaw = (url: string, raw: string) => url.replace(PLACEHOLDER, raw)
  let position = 0

  for (const p of op.parameters.filter((x) => x.in === 'path')) {
    for (const [label, value] of controlValues(position++, false)) add('control text', `path ${p.name} = ${label}`, urlOf(op, ctx.known, { [p.name]: value }), { kind: 'invalid', path: `params/${p.name}` })
    for (const raw of BAD_UTF8) add('control text', `path ${p.name} = ${raw}`, withRaw(urlOf(op, ctx.known, { [p.name]: PLACEHOLDER }), raw), { kind: 'refused' })
    if (isInteger(p.schema)) for (const n of INT64_PAST) add('beyond int64', `path ${p.name} = ${n}`, urlOf(op, ctx.known, { [p.name]: n }), { kind: 'refused' })
    for (const n of LONG_SEGMENTS) add('long path segment', `path ${p.name} of ${n} characters`, urlOf(op, ctx.known, { [p.name]: 'a'.repeat(n) }), { kind: 'refused' })
  }
  for (const n of LONG_SEGMENTS) add('long path segment', `extra segment of ${n} characters`, `${urlOf(op, ctx.known).split('?')[0]}/${'b'.repeat(n)}`, { kind: 'refused' })

  for (const p of op.parameters.filter((x) => x.in === 'query')) {
    for (const [label, value] of controlValues(position++, false)) add('control text', `query ${p.name} = ${label}`, urlOf(op, ctx.known, {}, { [p.name]: value }), { kind: 'invalid', path: `querystring/${p.name}` })
    for (const raw of BAD_UTF8) add('control text', `query ${p.name} = ${raw}`, withRaw(urlOf(op, ctx.known, {}, { [p.name]: PLACEHOLDER }), raw), { kind: op.method === 'GET' ? 'answered' : 'refused' })
    if (isInteger(p.schema)) for (const n of INT64_PAST) add('beyond int64', `query ${p.name} = ${n}`, urlOf(op, ctx.known, {}, { [p.name]: n }), { kind: 'invalid', path: `querystring/${p.name}` })
  }

  const url = urlOf(op, ctx.known)
  if (op.idempotent) {
    for (const [label, value] of controlValues(position++)) {
      add('control text', `Idempotency-Key ${label}`, url, { kind: 'invalid', path: 'headers/idempotency-key' }, { headers: { ...headers(), 'content-type': 'application/json', 'idempotency-key': `key-${value}` }, payload: payload ?? '{}' })
    }
  }
  if (op.scopes !== null) add('control text', 'authorization with NUL', url, { kind: 'refused' }, { headers: { ...headers(), authorization: `Bearer a${NUL}` } })

  if (op.body && body !== undefined) {
    for (const leaf of leavesOf(op.body.schema)) {
      const at = `body/${leaf.path.join('/')}`
      if (isString(leaf.schema)) {
        for (const [label, value] of controlValues(position++)) add('control text', `${leaf.path.join('.')} = ${label}`, url, { kind: 'invalid', path: at }, { payload: JSON.stringify(withLeaf(body, leaf.path, value)) })
      }
      if (isInteger(leaf.schema)) {
        for (const n of INT64_PAST) {
          const raw = JSON.stringify(withLeaf(body, leaf.path, PLACEHOLDER)).replace(`"${PLACEHOLDER}"`, n)
          add('beyond int64', `${leaf.path.join('.')} = ${n}`, url, { kind: 'invalid', path: at }, { payload: raw })
        }
      }
    }
    add('control text', 'NUL in a property name', url, { kind: 'invalid', path: 'body/x\\u0000' }, { payload: JSON.stringify({ ...(body as object), 'x\u0000': 1 }) })
  }
  return cases
}

/** How an answer falls short of an `invalid` expectation (400 VALIDATION_FAILED naming the field); undefined when it meets it. */
export function unmetExpectation(expect: Expectation | undefined, res: { statusCode: number; body: string }): string | undefined {
  if (expect?.kind !== 'invalid') return undefined
  if (res.statusCode !== 400) return `${res.statusCode}, not 400`
  const problem = JSON.parse(res.body) as { code?: string; errors?: { path: string }[]; error?: string; error_description?: string }
  // The token endpoint's RFC 6749 error: invalid_request, its description naming the field.
  if (problem.error !== undefined) return problem.error === 'invalid_request' && problem.error_description?.includes(expect.path) ? undefined : `error ${problem.error}: ${problem.error_description}`
  if (problem.code !== 'VALIDATION_FAILED') return `code ${problem.code}`
  if (!problem.errors?.some((e) => e.path === expect.path)) return `${expect.path} not named in ${JSON.stringify(problem.errors)}`
  return undefined
}

/** Operations answering 200 with one result per item of a body array, each item refused on its own: the array's name. */
export const PER_ITEM_ARRAYS: Record<string, string> = { 'POST /v1/purchases/batch': 'purchases' }

export interface Answer {
  statusCode: number
  headers: Record<string, unknown>
  body: string
}

/**
 * A per-item operation refuses a malformed item in that item's result (POST /v1/purchases/batch:
 * 200, and the sale's own 400), naming paths relative to the item as the operation on one item
 * would (`body/purchases/0/lines/0/sku` is the sale's `body/lines/0/sku`). The cases send one
 * item; this is that item's result as an answer of its own, and the expectation relative to it,
 * so that the fuzz holds it to the rules of every other refusal. Other answers stay as they are.
 */
export function itemView(op: Operation, res: Answer, expect?: Expectation): { res: Answer; expect?: Expectation } {
  const array = PER_ITEM_ARRAYS[op.id]
  if (array === undefined || res.statusCode !== 200) return { res, expect }
  const results = (JSON.parse(res.body) as { results?: { status: number; body: unknown }[] }).results
  if (!Array.isArray(results) || results.length !== 1) return { res, expect }
  const [result] = results as [{ status: number; body: unknown }]
  const item = `body/${array}/0`
  const relative = expect?.kind === 'invalid' && (expect.path === item || expect.path.startsWith(`${item}/`)) ? { kind: 'invalid' as const, path: `body${expect.path.slice(item.length)}` } : expect
  const type = result.status >= 400 ? 'application/problem+json' : 'application/json; charset=utf-8'
  return { res: { statusCode: result.status, headers: { 'content-type': type }, body: JSON.stringify(result.body) }, expect: relative }
}
