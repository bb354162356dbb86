// Every answer an in-process app gives during the tests, checked against openapi/openapi.yaml: the
// status is declared for the operation the request matched, the content type is one the response
// declares, the body satisfies its schema, required headers are present and present ones satisfy
// theirs, and the contract headers (x-request-id, Idempotent-Replayed, RateLimit...) the answer
// carries are declared. The committed file is the document (test/integration/openapi.test.ts fails
// on drift); it is read and each schema compiled once per process.
import { readFileSync } from 'node:fs'
import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js'
import addFormatsModule from 'ajv-formats'
import { parse } from 'yaml'

type Json = Record<string, any>

/** Routes the service answers that the API document leaves out on purpose (operational, or the docs UI itself). */
export const UNDOCUMENTED_ROUTES: ReadonlySet<string> = new Set(['GET /metrics', 'GET /docs', 'GET /docs/', 'GET /docs/*', 'GET /docs/json', 'GET /docs/yaml', 'GET /docs/static/*', 'GET /docs/static/index.html', 'GET /docs/static/swagger-initializer.js'])

/** Headers of the contract (conventions of issue 17): an answer carrying one must declare it. */
export const CONTRACT_HEADERS = ['x-request-id', 'idempotent-replayed', 'retry-after', 'ratelimit', 'ratelimit-policy', 'content-disposition', 'www-authenticate', 'location']

export interface Answer {
  method: string
  /** The fastify route (`/v1/members/:memberId`), undefined when no route matched (the 404 handler). */
  route: string | undefined
  /** The concrete URL, for messages. */
  url: string
  status: number
  headers: Record<string, unknown>
  /** The body as sent; `undefined` when it was a stream (not read). */
  body: string | Buffer | null | undefined
  streamed?: boolean
}

const DOC_ID = 'https://loyalty-ledger.test/openapi.json'
let loaded: { doc: Json; ajv: Ajv2020 } | undefined
const validators = new Map<string, ValidateFunction>()

function load(): { doc: Json; ajv: Ajv2020 } {
  if (loaded) return loaded
  const doc = parse(readFileSync(new URL('../../openapi/openapi.yaml', import.meta.url), 'utf8')) as Json
  const ajv = new Ajv2020({ strict: false, allErrors: true, validateFormats: true })
  const addFormats = (addFormatsModule as unknown as { default?: typeof addFormatsModule }).default ?? addFormatsModule
  ;(addFormats as unknown as (a: Ajv2020) => void)(ajv)
  ajv.addSchema({ ...doc, $id: DOC_ID })
  loaded = { doc, ajv }
  return loaded
}

/** The document path of a fastify route: `:name` (and `:name(regex)`) become `{name}`. */
export function documentPath(route: string): string {
  return route.replace(/:([A-Za-z0-9_]+)(\([^)]*\))?/g, '{$1}')
}

/**
 * The document path a concrete URL answers on, for answers seen from outside the process
 * (test/helpers/service.ts): the template with the most literal segments wins (`/v1/members/by-phone`
 * over `/v1/members/{memberId}`); undefined when none of the method's paths match.
 */
export function documentedRoute(method: string, url: string): string | undefined {
  const segments = url.split('?')[0]!.split('/')
  const paths = load().doc.paths ?? {}
  let best: string | undefined
  let bestLiterals = -1
  for (const template of Object.keys(paths)) {
    if (!paths[template][method.toLowerCase()]) continue
    const parts = template.split('/')
    if (parts.length !== segments.length) continue
    let literals = 0
    const fits = parts.every((part, i) => /^\{[^}]+\}$/.test(part) ? segments[i] !== '' : part === segments[i] && ++literals > 0)
    if (fits && literals > bestLiterals) {
      best = template
      bestLiterals = literals
    }
  }
  return best
}

const pointer = (parts: string[]) => '#/' + parts.map((p) => encodeURIComponent(p.replace(/~/g, '~0').replace(/\//g, '~1'))).join('/')

/** A node of the document and where it is, following `$ref`s to other places (components/responses, components/headers). */
function deref(doc: Json, node: Json | undefined, parts: string[]): { node: Json | undefined; parts: string[] } {
  let n = node
  let at = parts
  for (let i = 0; n && typeof n.$ref === 'string' && n.$ref.startsWith('#/') && i < 10; i++) {
    at = (n.$ref as string)
      .slice(2)
      .split('/')
      .map((k) => decodeURIComponent(k).replace(/~1/g, '/').replace(/~0/g, '~'))
    n = at.reduce((o: any, k: string) => o?.[k], doc)
  }
  return { node: n, parts: at }
}

function validatorAt(parts: string[]): ValidateFunction {
  const ref = pointer(parts)
  let v = validators.get(ref)
  if (!v) {
    v = load().ajv.compile({ $ref: `${DOC_ID}${ref}` })
    validators.set(ref, v)
  }
  return v
}

function mediaMatches(declared: string, actual: string): boolean {
  if (declared === actual || declared === '*/*') return true
  return declared.endsWith('/*') && actual.startsWith(declared.slice(0, -1))
}

const isJson = (media: string) => media === 'application/json' || media.endsWith('+json')

function headerValue(headers: Record<string, unknown>, name: string): string | undefined {
  const v = headers[name.toLowerCase()]
  if (v === undefined) return undefined
  return Array.isArray(v) ? v.join(', ') : String(v)
}

/**
 * What is wrong with one answer, as short sentences (empty when it matches the document). An
 * unmatched request (404 handler) and the routes in UNDOCUMENTED_ROUTES are not checked.
 */
export function violationsOf(answer: Answer): string[] {
  if (answer.route === undefined) return []
  const method = answer.method === 'HEAD' ? 'GET' : answer.method
  if (UNDOCUMENTED_ROUTES.has(`${method} ${answer.route}`) || answer.method === 'OPTIONS') return []
  const { doc } = load()
  const path = documentPath(answer.route)
  const operation = doc.paths?.[path]?.[method.toLowerCase()] as Json | undefined
  if (!operation) return [`route ${method} ${answer.route} is not in the document (document it, or name it in UNDOCUMENTED_ROUTES)`]
  const status = String(answer.status)
  const key = [status, `${status[0]}XX`, 'default'].find((k) => operation.responses?.[k])
  if (!key) return [`status ${status} is not declared (declared: ${Object.keys(operation.responses ?? {}).join(', ')})`]
  const { node: response, parts: base } = deref(doc, operation.responses[key], ['paths', path, method.toLowerCase(), 'responses', key]) as { node: Json; parts: string[] }
  const problems: string[] = []

  const contentType = headerValue(answer.headers, 'content-type')?.split(';')[0]!.trim().toLowerCase()
  const content = (response.content ?? {}) as Json
  const bodyText = answer.body == null ? '' : answer.body.toString()
  const empty = !answer.streamed && bodyText === '' && answer.method !== 'HEAD'
  const declaredMedia = Object.keys(content)
  if (!contentType || empty) {
    if (!empty && declaredMedia.length > 0) problems.push(`an answer without a content type (declared: ${declaredMedia.join(', ')})`)
    if (empty && declaredMedia.length > 0 && answer.method !== 'HEAD' && status !== '304') problems.push(`an empty body where the response declares ${declaredMedia.join(', ')}`)
  } else {
    const media = declaredMedia.find((m) => mediaMatches(m.toLowerCase(), contentType))
    if (!media) problems.push(`content type ${contentType} is not declared (declared: ${declaredMedia.join(', ') || 'no body'})`)
    else if (isJson(contentType) && !answer.streamed && answer.method !== 'HEAD' && content[media].schema) {
      let body: unknown
      try {
        body = JSON.parse(bodyText)
      } catch {
        problems.push(`a body that is not JSON under ${contentType}`)
      }
      if (body !== undefined) {
        const check = validatorAt([...base, 'content', media, 'schema'])
        if (!check(body)) problems.push(`body: ${describe(check, body)}`)
      }
    }
  }

  const declaredHeaders = new Map<string, { node: Json; parts: string[] }>()
  for (const [name, h] of Object.entries<Json>(response.headers ?? {})) declaredHeaders.set(name.toLowerCase(), deref(doc, h, [...base, 'headers', name]) as { node: Json; parts: string[] })
  for (const [name, { node: h, parts }] of declaredHeaders) {
    const value = headerValue(answer.headers, name)
    if (value === undefined) {
      if (h.required) problems.push(`required header ${name} is missing`)
      continue
    }
    if (h.schema) {
      const check = validatorAt([...parts, 'schema'])
      const typed = headerTyped(h.schema, value)
      if (!check(typed)) problems.push(`header ${name}: ${JSON.stringify(value)} ${describe(check, typed)}`)
    }
  }
  for (const name of CONTRACT_HEADERS) {
    if (headerValue(answer.headers, name) !== undefined && !declaredHeaders.has(name)) problems.push(`header ${name} is sent but not declared`)
  }
  return problems
}

/** A header's text as the type its schema names (headers are strings on the wire). */
function headerTyped(schema: Json, value: string): unknown {
  const type = Array.isArray(schema.type) ? schema.type[0] : schema.type
  if ((type === 'integer' || type === 'number') && /^-?[0-9]+(\.[0-9]+)?$/.test(value)) return Number(value)
  if (type === 'boolean' && (value === 'true' || value === 'false')) return value === 'true'
  return value
}

/** Ajv's first errors, each with the value it found there (so a code outside the declared enum is named). */
function describe(check: ValidateFunction, data: unknown): string {
  const at = (pointer: string) =>
    pointer
      .split('/')
      .slice(1)
      .reduce((o: any, k) => o?.[k.replace(/~1/g, '/').replace(/~0/g, '~')], data)
  return (check.errors ?? [])
    .slice(0, 4)
    .map((e) => {
      const extra = e.params && 'additionalProperty' in e.params ? ` (${e.params.additionalProperty})` : e.keyword === 'required' ? '' : ` (got ${JSON.stringify(at(e.instancePath))?.slice(0, 80)})`
      return `${e.instancePath || '/'} ${e.message}${extra}`
    })
    .join('; ')
}

/** The answers of one app that broke the document, grouped: operation, status and problem once, with a count and one URL. */
export class ContractLog {
  private readonly seen = new Map<string, { count: number; url: string }>()
  answers = 0

  record(answer: Answer): void {
    this.answers += 1
    for (const problem of violationsOf(answer)) {
      const key = `${answer.method === 'HEAD' ? 'GET' : answer.method} ${answer.route === undefined ? answer.url : documentPath(answer.route)} -> ${answer.status}: ${problem}`
      const entry = this.seen.get(key)
      if (entry) entry.count += 1
      else this.seen.set(key, { count: 1, url: `${answer.method} ${answer.url}` })
    }
  }

  get violations(): { key: string; count: number; url: string }[] {
    return [...this.seen].map(([key, v]) => ({ key, ...v }))
  }

  /** The failure message of a test whose answers broke the document, or undefined. */
  report(): string | undefined {
    const v = this.violations
    if (v.length === 0) return undefined
    const lines = v.map((x) => `  ${x.key}${x.count > 1 ? ` (x${x.count})` : ''} [e.g. ${x.url}]`)
    return `${v.length} kind(s) of answer disagree with openapi/openapi.yaml:\n${lines.join('\n')}`
  }
}
