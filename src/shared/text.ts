import type { FieldProblem } from './errors.js'

/**
 * Text no request may carry, wherever it is (body, query, path, the headers the service reads):
 * U+0000, which PostgreSQL's text and jsonb cannot hold (the insert failed and the request
 * answered 500); a lone UTF-16 surrogate, which is not Unicode and would be stored as U+FFFD; and
 * the other C0 control characters except TAB, LF and CR, which no field means (a scanner's stray
 * byte) and which would reach receipts, exports and webhooks unseen.
 */
const UNSTORABLE = /[\u0000-\u0008\u000B\u000C\u000E-\u001F]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/
const UNSTORABLE_ALL = new RegExp(UNSTORABLE.source, 'g')
/** The cheap first look: no control character and no surrogate at all (nearly every string). */
const SUSPECT = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\uD800-\uDFFF]/

/** At most this many problems are named: a megabyte of NULs is refused as fast as one. */
const MAX_PROBLEMS = 10

const codePoint = (c: string) => `U+${c.charCodeAt(0).toString(16).toUpperCase().padStart(4, '0')}`

/** Why `text` cannot be accepted, or undefined when it can. */
export function unstorableText(text: string): string | undefined {
  const found = SUSPECT.test(text) ? UNSTORABLE.exec(text) : null
  if (!found) return undefined
  const c = found[0]
  const at = `at character ${found.index}`
  if (c >= '\uD800') return `contains a lone surrogate (${codePoint(c)}) ${at}: text must be well-formed Unicode`
  return `contains the control character ${codePoint(c)} ${at}: control characters other than TAB, LF and CR are refused`
}

/** A property name as a problem path shows it: refused characters written as `\u0000`. */
const shown = (key: string) => key.replace(UNSTORABLE_ALL, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`)

/** Parsed JSON, and the null-prototype objects fastify parses query strings, forms and path parameters into. */
const isWalkable = (value: unknown): value is Record<string, unknown> => value !== null && typeof value === 'object' && !ArrayBuffer.isView(value)

/**
 * Every string (and property name) in a parsed request part that holds refused text, with its
 * path in the form validation errors use (`body/lines/0/sku`), outermost first. Breadth-first
 * over a queue, so a body nested 50,000 deep cannot exhaust the stack; a path is only spelled
 * out for a problem (each queued node keeps its parent's index and its key).
 */
export function unstorableTextIn(value: unknown, root: string): FieldProblem[] {
  const problems: FieldProblem[] = []
  const nodes: unknown[] = [value]
  const parents: number[] = [-1]
  const keys: string[] = [root]
  const pathOf = (index: number, last?: string): string => {
    const parts = last === undefined ? [] : [last]
    for (let i = index; i >= 0; i = parents[i]!) parts.push(keys[i]!)
    return parts.reverse().join('/')
  }
  for (let next = 0; next < nodes.length && problems.length < MAX_PROBLEMS; next++) {
    const node = nodes[next]
    if (typeof node === 'string') {
      const message = unstorableText(node)
      if (message) problems.push({ path: pathOf(next), message })
    } else if (isWalkable(node)) {
      for (const key of Object.keys(node)) {
        const message = unstorableText(key)
        if (message) {
          problems.push({ path: pathOf(next, shown(key)), message: `property name ${message}` })
        } else {
          nodes.push(node[key])
          parents.push(next)
          keys.push(key)
        }
      }
    }
  }
  return problems.slice(0, MAX_PROBLEMS)
}
