// The import graph of src/, for the architecture test. Specifiers are read with TypeScript's own
// scanner (ts.preProcessFile), so an import split over lines, `import type`, `export ... from` and
// `import()` are all seen, and a specifier quoted in a comment or a string is not.
import { readdirSync, readFileSync } from 'node:fs'
import { join, posix } from 'node:path'
import ts from 'typescript'

/** Files by path relative to the repository root (posix), each with the files it imports. */
export type Graph = Map<string, Set<string>>

export interface SourceTree {
  /** Path -> text of every .ts file under the root folder. */
  files: Map<string, string>
  graph: Graph
  /** Relative specifiers that name no file of the tree (`from` the file, the specifier). */
  unresolved: { from: string; specifier: string }[]
}

export function readSourceTree(repoRoot: string, folder: string): SourceTree {
  const files = new Map<string, string>()
  const walk = (dir: string) => {
    for (const entry of readdirSync(join(repoRoot, dir), { withFileTypes: true })) {
      const path = posix.join(dir, entry.name)
      if (entry.isDirectory()) walk(path)
      else if (entry.name.endsWith('.ts')) files.set(path, readFileSync(join(repoRoot, path), 'utf8'))
    }
  }
  walk(folder)
  const graph: Graph = new Map()
  const unresolved: SourceTree['unresolved'] = []
  for (const [path, text] of files) {
    const targets = new Set<string>()
    for (const specifier of specifiersOf(text)) {
      if (!specifier.startsWith('.')) continue
      const target = resolveSpecifier(path, specifier, files)
      if (target) targets.add(target)
      else unresolved.push({ from: path, specifier })
    }
    graph.set(path, targets)
  }
  return { files, graph, unresolved }
}

export const specifiersOf = (text: string): string[] => ts.preProcessFile(text, true, true).importedFiles.map((f) => f.fileName)

/** NodeNext spelling: './x.js' is ./x.ts on disk; a folder import would be its index.ts. */
function resolveSpecifier(from: string, specifier: string, files: Map<string, string>): string | undefined {
  const base = posix.normalize(posix.join(posix.dirname(from), specifier))
  const candidates = [base.replace(/\.js$/, '.ts'), base, `${base}.ts`, `${base}/index.ts`]
  return candidates.find((c) => files.has(c))
}

export const lineCount = (text: string) => (text === '' ? 0 : text.split('\n').length - (text.endsWith('\n') ? 1 : 0))

/** Strongly connected components with more than one node (or a node importing itself), each sorted. */
export function cyclicComponents(graph: Graph): string[][] {
  let counter = 0
  const index = new Map<string, number>()
  const low = new Map<string, number>()
  const stack: string[] = []
  const onStack = new Set<string>()
  const found: string[][] = []
  const visit = (v: string) => {
    index.set(v, counter)
    low.set(v, counter)
    counter += 1
    stack.push(v)
    onStack.add(v)
    for (const w of graph.get(v) ?? []) {
      if (!index.has(w)) {
        visit(w)
        low.set(v, Math.min(low.get(v)!, low.get(w)!))
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!))
    }
    if (low.get(v) === index.get(v)) {
      const component: string[] = []
      let w: string
      do {
        w = stack.pop()!
        onStack.delete(w)
        component.push(w)
      } while (w !== v)
      if (component.length > 1 || graph.get(v)?.has(v)) found.push(component.sort())
    }
  }
  for (const v of [...graph.keys()].sort()) if (!index.has(v)) visit(v)
  return found.sort((a, b) => a[0]!.localeCompare(b[0]!))
}

/** The shortest cycle through `start` (breadth first), as the nodes from start back to start; undefined if none. */
export function shortestCycle(graph: Graph, start: string): string[] | undefined {
  const previous = new Map<string, string>()
  const queue = [...[...(graph.get(start) ?? [])].sort()]
  for (const n of queue) previous.set(n, start)
  while (queue.length > 0) {
    const v = queue.shift()!
    if (v === start) {
      const path = [start]
      for (let at = previous.get(start)!; at !== start; at = previous.get(at)!) path.unshift(at)
      return [start, ...path]
    }
    for (const w of [...(graph.get(v) ?? [])].sort()) {
      if (previous.has(w)) continue
      previous.set(w, v)
      queue.push(w)
    }
  }
  return undefined
}

/** The distinct shortest cycles through the nodes of a component, each rotated to start at its smallest node. */
export function cyclesOf(graph: Graph, component: string[]): string[][] {
  const seen = new Map<string, string[]>()
  for (const node of component) {
    const cycle = shortestCycle(graph, node)
    if (!cycle) continue
    const ring = cycle.slice(0, -1)
    const at = ring.indexOf([...ring].sort()[0]!)
    const rotated = [...ring.slice(at), ...ring.slice(0, at)]
    seen.set(rotated.join(' '), [...rotated, rotated[0]!])
  }
  return [...seen.values()]
}

/** The folder under src/modules/ a file belongs to, if any. */
export const moduleOf = (path: string): string | undefined => /^src\/modules\/([^/]+)\//.exec(path)?.[1]

export interface ModuleGraph {
  graph: Graph
  /** `a -> b`: the file imports that make module a depend on module b. */
  witnesses: Map<string, string[]>
}

/**
 * Module A depends on module B when a file of A imports a file of B. Only imports between module
 * files count: src/db/schema.ts gathers every module's tables for drizzle and src/plugins/ holds
 * infrastructure the routes use, so following paths through them would tie every module to every
 * other one without saying anything about how the modules depend on each other.
 */
export function moduleGraph(files: Graph): ModuleGraph {
  const graph: Graph = new Map()
  const witnesses = new Map<string, string[]>()
  for (const [from, targets] of files) {
    const a = moduleOf(from)
    if (!a) continue
    if (!graph.has(a)) graph.set(a, new Set())
    for (const to of targets) {
      const b = moduleOf(to)
      if (!b || b === a) continue
      graph.get(a)!.add(b)
      const key = `${a} -> ${b}`
      witnesses.set(key, [...(witnesses.get(key) ?? []), `${from} imports ${to}`])
    }
  }
  return { graph, witnesses }
}

/** A cycle as a reader wants it: the path, then for each step the imports that make it. */
export function describeCycle(cycle: string[], witnesses?: Map<string, string[]>): string {
  const lines = [cycle.join(' -> ')]
  if (witnesses) {
    for (let i = 0; i + 1 < cycle.length; i += 1) {
      const step = `${cycle[i]} -> ${cycle[i + 1]}`
      lines.push(`  ${step}: ${(witnesses.get(step) ?? []).join('; ')}`)
    }
  }
  return lines.join('\n')
}
