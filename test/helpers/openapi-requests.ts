// Requests derived from the app's own OpenAPI document: every operation, its parameters, body
// schema and accepted scopes. The fuzz and isolation suites iterate over this, so an endpoint
// added later is covered without touching them.
import { Ajv2020 } from 'ajv/dist/2020.js'
import fc from 'fast-check'
import type { FastifyInstance } from 'fastify'

export type JsonSchema = Record<string, any>

export interface Parameter {
  name: string
  in: 'path' | 'query' | 'header'
  required: boolean
  schema: JsonSchema
}

export interface Operation {
  method: string
  path: string
  /** `METHOD /path`, for messages. */
  id: string
  parameters: Parameter[]
  body?: { schema: JsonSchema; required: boolean; contentTypes: string[] }
  /** Scopes accepted (any one of them); null for a public operation. */
  scopes: string[] | null
  idempotent: boolean
}

/** The app's OpenAPI document with every `$ref` resolved in place. */
export async function documentOf(app: FastifyInstance): Promise<JsonSchema> {
  await app.ready()
  const doc = JSON.parse(JSON.stringify(app.swagger())) as JsonSchema
  const resolve = (node: unknown, depth = 0): unknown => {
    if (depth > 40 || node === null || typeof node !== 'object') return node
    if (Array.isArray(node)) return node.map((n) => resolve(n, depth + 1))
    const obj = node as JsonSchema
    if (typeof obj.$ref === 'string' && obj.$ref.startsWith('#/')) {
      const target = obj.$ref
        .slice(2)
        .split('/')
        .reduce((o: any, k: string) => o?.[k.replace(/~1/g, '/').replace(/~0/g, '~')], doc)
      const { $ref: _ref, ...rest } = obj
      return resolve({ ...target, ...rest }, depth + 1)
    }
    return Object.fromEntries(Object.entries(obj).map(([k, v]) => [k, resolve(v, depth + 1)]))
  }
  return { ...doc, paths: resolve(doc.paths) }
}

const METHODS = ['get', 'post', 'put', 'patch', 'delete']

export function operationsOf(doc: JsonSchema): Operation[] {
  const ops: Operation[] = []
  for (const [path, item] of Object.entries<JsonSchema>(doc.paths ?? {})) {
    for (const method of METHODS) {
      const op = item[method]
      if (!op) continue
      const parameters: Parameter[] = (op.parameters ?? []).map((p: JsonSchema) => ({ name: p.name, in: p.in, required: !!p.required, schema: p.schema ?? {} }))
      const content = op.requestBody?.content as Record<string, { schema: JsonSchema }> | undefined
      const json = content?.['application/json']
      const security = op.security as Record<string, string[]>[] | undefined
      ops.push({
        method: method.toUpperCase(),
        path,
        id: `${method.toUpperCase()} ${path}`,
        parameters,
        body: json ? { schema: json.schema ?? {}, required: !!op.requestBody.required, contentTypes: Object.keys(content!) } : undefined,
        scopes: security && security.length > 0 ? security.flatMap((s) => Object.values(s).flat()) : null,
        // Required keys only: an optional key (POST /v1/webhooks) cannot be missing.
        idempotent: parameters.some((p) => p.in === 'header' && p.name.toLowerCase() === 'idempotency-key' && p.required),
      })
    }
  }
  return ops
}

const bodyAjv = new Ajv2020({ strict: false, validateFormats: false, allErrors: false })
const paramAjv = new Ajv2020({ strict: false, validateFormats: false, allErrors: false, coerceTypes: true })
const compiled = new WeakMap<object, (v: unknown) => boolean>()

const compiledCoercing = new WeakMap<object, (v: unknown) => boolean>()

/** Whether `value` satisfies `schema` (JSON Schema 2020-12, formats by their patterns); `coerce` reads strings as a query string would. */
export function satisfies(schema: JsonSchema, value: unknown, coerce = false): boolean {
  const cache = coerce ? compiledCoercing : compiled
  let check = cache.get(schema)
  if (!check) {
    const fn = (coerce ? paramAjv : bodyAjv).compile(stripMeta(schema))
    check = (v: unknown) => fn(structuredClone(v)) as boolean
    cache.set(schema, check)
  }
  return check(value)
}

function stripMeta(schema: JsonSchema): JsonSchema {
  const { $schema: _s, $id: _i, ...rest } = schema
  return rest
}

/** Known-good values for names the domain uses; everything else is derived from the schema. */
export type Known = Record<string, unknown>

/** A value the schema accepts, preferring `known[name]` for a property of that name. */
export function sample(schema: JsonSchema, known: Known = {}, name?: string, depth = 0): unknown {
  if (name !== undefined && name in known && satisfies(schema, known[name])) return known[name]
  if (schema.const !== undefined) return schema.const
  if (Array.isArray(schema.enum)) return schema.enum[0]
  if (schema.default !== undefined && schema.default !== null && satisfies(schema, schema.default)) return schema.default
  for (const key of ['anyOf', 'oneOf'] as const) {
    if (Array.isArray(schema[key])) {
      const options = (schema[key] as JsonSchema[]).filter((s) => s.type !== 'null')
      for (const option of options) {
        const v = sample(option, known, name, depth + 1)
        if (satisfies(schema, v)) return v
      }
      return sample(options[0] ?? {}, known, name, depth + 1)
    }
  }
  if (Array.isArray(schema.allOf)) return sample(Object.assign({}, ...schema.allOf), known, name, depth + 1)
  const type = Array.isArray(schema.type) ? schema.type.find((t: string) => t !== 'null') : schema.type
  switch (type) {
    case 'string':
      return sampleString(schema)
    case 'integer':
    case 'number': {
      const min = schema.minimum ?? (schema.exclusiveMinimum !== undefined ? schema.exclusiveMinimum + 1 : 1)
      return Math.max(min, Math.min(schema.maximum ?? min, 1))
    }
    case 'boolean':
      return true
    case 'array': {
      const n = Math.max(schema.minItems ?? 0, depth < 4 ? 1 : 0)
      return Array.from({ length: n }, () => sample(schema.items ?? {}, known, undefined, depth + 1))
    }
    case 'object':
    default: {
      if (type !== 'object' && !schema.properties) return null
      const out: Record<string, unknown> = {}
      const required = new Set<string>(schema.required ?? [])
      for (const [prop, sub] of Object.entries<JsonSchema>(schema.properties ?? {})) {
        if (required.has(prop) || prop in known) out[prop] = sample(sub, known, prop, depth + 1)
      }
      return out
    }
  }
}

function sampleString(schema: JsonSchema): string {
  if (schema.format === 'uuid') return '00000000-0000-4000-8000-000000000000'
  if (schema.format === 'date-time') return new Date().toISOString()
  if (schema.format === 'date') return '1990-05-01'
  if (schema.format === 'email') return 'someone@example.com'
  if (schema.format === 'uri') return 'https://example.com/x'
  const fits = (s: string) => satisfies(schema, s)
  const candidates = ['10000', 'VND', 'VN', 'x', 'Asia/Ho_Chi_Minh', 'S1', '1', '2026-01-01', '2026-01-01T00:00:00Z', '2026-01', 'a'.repeat(schema.minLength ?? 1)]
  for (const candidate of candidates) if (fits(candidate)) return candidate
  if (schema.pattern) {
    const [generated] = fc.sample(fc.stringMatching(new RegExp(schema.pattern)).filter(fits), { numRuns: 1, seed: 42 })
    if (generated !== undefined) return generated
  }
  return 'x'.repeat(Math.max(1, schema.minLength ?? 1))
}

/** Every leaf location of a body schema (properties and array items), with the schema there. */
export function leavesOf(schema: JsonSchema, at: (string | number)[] = [], depth = 0): { path: (string | number)[]; schema: JsonSchema }[] {
  if (depth > 5) return []
  const variant = (schema.anyOf ?? schema.oneOf)?.find((s: JsonSchema) => s.type !== 'null') as JsonSchema | undefined
  const s = variant ? { ...variant } : schema
  const out = at.length ? [{ path: at, schema: s }] : []
  if (s.properties) for (const [k, v] of Object.entries<JsonSchema>(s.properties)) out.push(...leavesOf(v, [...at, k], depth + 1))
  if (s.type === 'array' && s.items) out.push(...leavesOf(s.items, [...at, 0], depth + 1))
  return out
}

/** `value` with the location `path` set to `leaf` (creating the containers on the way). */
export function withLeaf(value: unknown, path: (string | number)[], leaf: unknown): unknown {
  if (path.length === 0) return leaf
  const [head, ...rest] = path
  if (typeof head === 'number') {
    const arr = Array.isArray(value) ? [...value] : []
    arr[head] = withLeaf(arr[head], rest, leaf)
    return arr
  }
  const obj = value && typeof value === 'object' && !Array.isArray(value) ? { ...(value as object) } : {}
  ;(obj as Record<string, unknown>)[head!] = withLeaf((obj as Record<string, unknown>)[head!], rest, leaf)
  return obj
}

export function withoutKey(value: unknown, path: (string | number)[]): unknown {
  if (path.length === 0 || !value || typeof value !== 'object') return value
  const [head, ...rest] = path
  if (rest.length === 0) {
    if (Array.isArray(value)) return value.filter((_, i) => i !== head)
    const { [head as string]: _gone, ...kept } = value as Record<string, unknown>
    return kept
  }
  const copy: any = Array.isArray(value) ? [...value] : { ...(value as object) }
  copy[head!] = withoutKey(copy[head!], rest)
  return copy
}

/** The concrete URL of an operation with path parameters taken from `known` (or sampled). */
export function urlOf(op: Operation, known: Known, overrides: Record<string, string> = {}, query?: Record<string, string>): string {
  let url = op.path
  for (const p of op.parameters.filter((x) => x.in === 'path')) {
    const v = overrides[p.name] ?? (known[p.name] as string | undefined) ?? String(sample(p.schema, known, p.name))
    url = url.replace(`{${p.name}}`, encodeURIComponent(v.replace(/[\uD800-\uDFFF]/g, '\uFFFD')))
  }
  // Required query parameters get a valid value unless the caller sets them.
  const fullQuery: Record<string, string> = { ...query }
  for (const p of op.parameters.filter((x) => x.in === 'query' && x.required && !(x.name in fullQuery))) {
    fullQuery[p.name] = String((known[p.name] as string | undefined) ?? sample(p.schema, known, p.name))
  }
  const qs = new URLSearchParams(fullQuery).toString()
  return qs ? `${url}?${qs}` : url
}
