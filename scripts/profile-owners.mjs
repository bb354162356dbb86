// Where a V8 CPU profile's busy time goes: each sample is given to the nearest frame of a package
// (node_modules/<pkg>) or of src/<module>, natives (socket writes, GC) to their caller or kept apart.
// Usage: node scripts/profile-owners.mjs <file.cpuprofile>   (profiles: BENCH_CPU_PROF=<dir> npm run bench)
import { readFileSync } from 'node:fs'
const prof = JSON.parse(readFileSync(process.argv[2], 'utf8'))
const nodes = new Map(prof.nodes.map((n) => [n.id, n])); const parent = new Map()
for (const n of prof.nodes) for (const c of n.children ?? []) parent.set(c, n.id)
const self = new Map(); prof.samples.forEach((s, i) => self.set(s, (self.get(s) ?? 0) + (prof.timeDeltas[i] ?? 0)))
const owner = (id) => {
  const leaf = nodes.get(id).callFrame
  if (['(idle)', '(garbage collector)', '(program)'].includes(leaf.functionName)) return leaf.functionName
  for (let cur = id; cur !== undefined; cur = parent.get(cur)) {
    const u = nodes.get(cur).callFrame.url
    const m = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(u); if (m) return m[1]
    if (u.includes('/src/')) { const p = u.split('/src/')[1].split('/'); return 'src/' + (p[0] === 'modules' ? p.slice(0, 2).join('/') : p[0]) }
  }
  return 'node internals (http, timers)'
}
const by = new Map(); let busy = 0
for (const [id, t] of self) { const o = owner(id); by.set(o, (by.get(o) ?? 0) + t); if (o !== '(idle)') busy += t }
console.log('busy', (busy / 1e6).toFixed(1), 's')
for (const [k, t] of [...by].filter(([k]) => k !== '(idle)').sort((a, b) => b[1] - a[1]).slice(0, 30)) console.log(((100 * t) / busy).toFixed(1).padStart(5) + '%', k)
