import { fileURLToPath } from 'node:url'
import t from 'tap'
import { cyclesOf, cyclicComponents, describeCycle, lineCount, moduleGraph, moduleOf, readSourceTree, shortestCycle, specifiersOf, type Graph } from '../helpers/import-graph.js'

// The module structure of src/, checked on the source itself: no import cycle between the files of
// src/db/, no dependency cycle between the modules of src/modules/ (a folder is a module), no
// source file longer than MAX_LINES. Type-only imports count: a cycle of types is still two
// modules that cannot be understood, tested or moved one without the other.

const repoRoot = fileURLToPath(new URL('../..', import.meta.url))
const tree = readSourceTree(repoRoot, 'src')

const MAX_LINES = 300

/** Over MAX_LINES while other engineers rewrite them; each entry goes when its rewrite lands. */
// None: the dispatcher was split (events/fan-out.ts, deliver.ts).
const LONG_FILE_EXEMPTIONS = new Set<string>([])

/** File cycles allowed to stay for now, each exactly this set of files. */
// None: db/core.ts holds what client.ts and apply.ts share.
const DB_CYCLE_EXEMPTIONS: string[][] = []

const sameSet = (a: string[], b: string[]) => a.length === b.length && [...a].sort().every((x, i) => x === [...b].sort()[i])

t.test('the checker reads the whole tree: every relative import names a file of src/', async (t) => {
  t.ok(tree.files.size > 100, `${tree.files.size} files read under src/`)
  t.ok(new Set([...tree.files.keys()].map(moduleOf).filter(Boolean)).size > 10, 'more than ten modules under src/modules/')
  t.same(tree.unresolved, [], 'no relative specifier the checker could not resolve (it would hide an edge)')
})

t.test('no import cycle between the files of src/db/', async (t) => {
  const involvingDb = cyclicComponents(tree.graph).filter((c) => c.some((f) => f.startsWith('src/db/')))
  for (const component of involvingDb) {
    for (const cycle of cyclesOf(tree.graph, component)) t.comment(`db cycle: ${describeCycle(cycle)}`)
  }
  const offending = involvingDb.filter((c) => !DB_CYCLE_EXEMPTIONS.some((e) => sameSet(c, e)))
  t.same(
    offending.map((c) => cyclesOf(tree.graph, c).map((cycle) => describeCycle(cycle))),
    [],
    'file cycles through src/db/ (beyond the exempted ones)',
  )
  for (const exemption of DB_CYCLE_EXEMPTIONS) {
    t.ok(
      involvingDb.some((c) => sameSet(c, exemption)),
      `the exempted cycle ${exemption.join(' <-> ')} still exists (remove its exemption when it is gone)`,
    )
  }
})

t.test('no dependency cycle between the modules of src/modules/', async (t) => {
  const modules = moduleGraph(tree.graph)
  const components = cyclicComponents(modules.graph)
  const cycles = components.flatMap((c) => cyclesOf(modules.graph, c))
  for (const cycle of cycles) t.comment(`module cycle: ${describeCycle(cycle, modules.witnesses)}`)
  t.same(
    components.map((c) => c.join(', ')),
    [],
    'modules that depend on each other, directly or through other modules (each cycle is printed above)',
  )
})

t.test(`no source file over ${MAX_LINES} lines`, async (t) => {
  const long = [...tree.files].filter(([, text]) => lineCount(text) > MAX_LINES).map(([path, text]) => `${path} (${lineCount(text)})`)
  for (const file of long) t.comment(`long file: ${file}`)
  t.same(
    long.filter((f) => !LONG_FILE_EXEMPTIONS.has(f.replace(/ \(\d+\)$/, ''))),
    [],
    `files over ${MAX_LINES} lines: split them (one file, one thing)`,
  )
  for (const path of LONG_FILE_EXEMPTIONS) {
    const text = tree.files.get(path)
    t.ok(text !== undefined && lineCount(text) > MAX_LINES, `${path} is still over ${MAX_LINES} lines (remove its exemption when it is not)`)
  }
})

// The checker itself, on graphs small enough to see by eye.
t.test('the checker finds a cycle of three, a two-way pair and a self-import, and nothing in a tree', async (t) => {
  const graph: Graph = new Map([
    ['a', new Set(['b'])],
    ['b', new Set(['c', 'd'])],
    ['c', new Set(['a'])],
    ['d', new Set(['e'])],
    ['e', new Set(['d'])],
    ['f', new Set(['f', 'a'])],
    ['g', new Set(['a', 'd'])],
  ])
  t.same(cyclicComponents(graph), [['a', 'b', 'c'], ['d', 'e'], ['f']])
  t.same(shortestCycle(graph, 'b'), ['b', 'c', 'a', 'b'])
  t.same(shortestCycle(graph, 'g'), undefined, 'g reaches cycles but is on none')
  t.same(cyclesOf(graph, ['a', 'b', 'c']), [['a', 'b', 'c', 'a']], 'one cycle, named once whichever node it is found from')
  t.same(cyclicComponents(new Map([['x', new Set(['y'])], ['y', new Set<string>()]])), [])
})

t.test('the checker sees every form of import and only real ones', async (t) => {
  const text = [
    `import type { A } from './a.js'`,
    `import {`,
    `  b,`,
    `} from './b.js'`,
    `export * from './c.js'`,
    `export { d } from './d.js'`,
    `const e = await import('./e.js')`,
    `// import { f } from './commented.js'`,
    `const g = "from './quoted.js'"`,
  ].join('\n')
  t.same(specifiersOf(text), ['./a.js', './b.js', './c.js', './d.js', './e.js'])
})

t.test('module dependencies come from imports between module files, with the files that make them', async (t) => {
  const files: Graph = new Map([
    ['src/modules/a/x.ts', new Set(['src/modules/b/y.ts', 'src/modules/a/z.ts', 'src/shared/s.ts'])],
    ['src/modules/b/y.ts', new Set(['src/db/schema.ts'])],
    ['src/db/schema.ts', new Set(['src/modules/a/z.ts'])],
    ['src/modules/a/z.ts', new Set<string>()],
  ])
  const { graph, witnesses } = moduleGraph(files)
  t.same([...graph].map(([m, to]) => [m, [...to]]), [['a', ['b']], ['b', []]], 'b reaches a only through src/db/schema.ts: not a module dependency')
  t.same(witnesses.get('a -> b'), ['src/modules/a/x.ts imports src/modules/b/y.ts'])
  t.equal(describeCycle(['a', 'b', 'a'], new Map([['a -> b', ['1']], ['b -> a', ['2', '3']]])), 'a -> b -> a\n  a -> b: 1\n  b -> a: 2; 3')
})
