import { readdirSync, readFileSync } from 'node:fs'
import { join, relative } from 'node:path'
import { fileURLToPath } from 'node:url'
import t from 'tap'
import { PROBLEMS, PROBLEM_CODES, codeOfSlug, slugOf } from '../../src/modules/problems/catalog.js'
import { problemType } from '../../src/plugins/errors.js'

// The catalog is generated from the code in the sense that matters: every code string the source
// throws or sends is found here by scanning src/, and must be in the catalog; every catalog entry
// must be used somewhere. A new code without an entry, or a stale entry, fails this test.

const srcRoot = fileURLToPath(new URL('../../src', import.meta.url))
const CATALOG = join(srcRoot, 'modules/problems/catalog.ts')

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((d) => {
    const path = join(dir, d.name)
    if (d.isDirectory()) return sourceFiles(path)
    return d.name.endsWith('.ts') && path !== CATALOG ? [path] : []
  })
}

const CODE = `'([A-Z][A-Z0-9]*(?:_[A-Z0-9]+)*)'`
/** Where a problem code stands in the source, with the literal status when it is written beside it. */
const CODE_POSITIONS: RegExp[] = [
  // new AppError(422, 'CODE', ...), over several lines too
  new RegExp(`new AppError\\(\\s*(\\d{3}|[a-z][\\w.]*)\\s*,\\s*${CODE}`, 'g'),
  // helpers taking the code first, then a title: unprocessable('CODE', 'Title'), refused(409, 'CODE', 'Title')
  new RegExp(`\\b[a-zA-Z]\\w*\\(\\s*(\\d{3}\\s*,\\s*)?${CODE}\\s*,\\s*['\`]`, 'g'),
  // the tables of src/plugins/errors.ts: [415, 'CODE', 'Title']
  new RegExp(`\\[\\s*(\\d{3})\\s*,\\s*${CODE}\\s*,`, 'g'),
  // documents written without an AppError (src/lifecycle.ts): problemType('CODE')
  new RegExp(`problemType\\(\\s*()${CODE}\\s*\\)`, 'g'),
]

export function codesIn(source: string): Array<{ code: string; status?: number }> {
  const found: Array<{ code: string; status?: number }> = []
  for (const pattern of CODE_POSITIONS) {
    for (const m of source.matchAll(pattern)) {
      const status = /^\d{3}/.exec(m[1] ?? '')?.[0]
      found.push({ code: m[2]!, status: status ? Number(status) : undefined })
    }
  }
  return found
}

const used = new Map<string, { files: Set<string>; statuses: Set<number> }>()
for (const file of sourceFiles(srcRoot)) {
  for (const { code, status } of codesIn(readFileSync(file, 'utf8'))) {
    const u = used.get(code) ?? { files: new Set(), statuses: new Set() }
    u.files.add(relative(srcRoot, file))
    if (status !== undefined) u.statuses.add(status)
    used.set(code, u)
  }
}

t.test('the scanner finds codes in every form the source writes them, and nothing else', async (t) => {
  const sample = [
    `throw new AppError(409, 'ALREADY_REVERSED', 'Already reversed')`,
    `return new AppError(\n  422,\n  'AS_OF_IN_FUTURE',\n 'asOf is in the future')`,
    `new AppError(status, 'FORBIDDEN', 'Forbidden')`,
    `throw unprocessable('CURRENCY_MISMATCH', 'Wrong currency', 'x')`,
    `refused(409, 'COUPON_USED_UP', \`Coupon\`)`,
    `  X: [413, 'PAYLOAD_TOO_LARGE', 'Payload too large'],`,
    `type: problemType('SERVICE_UNAVAILABLE'),`,
    `if (asset === 'POINTS') csvRecord(['TOTAL', null]); code: 'LL404'; err.code === 'ECONNRESET'`,
  ].join('\n')
  const found = new Map<string, Set<number | undefined>>()
  for (const { code, status } of codesIn(sample)) found.set(code, (found.get(code) ?? new Set()).add(status))
  t.same(Object.fromEntries([...found].map(([c, s]) => [c, [...s].filter((x) => x !== undefined)])), {
    ALREADY_REVERSED: [409],
    AS_OF_IN_FUTURE: [422],
    FORBIDDEN: [],
    CURRENCY_MISMATCH: [],
    COUPON_USED_UP: [409],
    PAYLOAD_TOO_LARGE: [413],
    SERVICE_UNAVAILABLE: [],
  })
})

t.test('every code the source throws or sends is in the catalog, with its status', async (t) => {
  t.ok(used.size > 50, `the scan found ${used.size} codes`)
  for (const [code, u] of used) {
    const entry = (PROBLEMS as Record<string, { status: readonly number[] }>)[code]
    t.ok(entry, `${code} (${[...u.files].join(', ')}) is in src/modules/problems/catalog.ts`)
    for (const status of u.statuses) t.ok(entry?.status.includes(status), `${code} is answered with ${status}: the catalog lists it`)
  }
})

t.test('every catalog entry is used by the source', async (t) => {
  for (const code of PROBLEM_CODES) t.ok(used.has(code), `${code} is thrown or sent somewhere in src/`)
})

t.test('entries are complete and slugs match the problem type URIs', async (t) => {
  for (const code of PROBLEM_CODES) {
    const e = PROBLEMS[code]
    t.ok(e.title && e.meaning.length > 10 && e.action.length > 5 && e.status.length > 0, `${code} has a title, a meaning, an action and a status`)
    t.equal(problemType(code), `/problems/${slugOf(code)}`)
    t.equal(codeOfSlug(slugOf(code)), code)
  }
  t.equal(codeOfSlug('no-such-problem'), undefined)
})
