// Compiles src/ to dist/ (one JavaScript file per TypeScript file, the same layout, so paths
// relative to a module such as ../../migrations still hold) with esbuild: about a second where
// tsx compiled the same files at every start. Type checking is `npm run typecheck`'s job.
// `node scripts/build.mjs` builds; `buildIfStale()` (scripts/start.mjs) builds only when a file
// under src/ changed since the last build, known by a hash of their contents kept in dist/.
import { createHash } from 'node:crypto'
import { mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { join, relative } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = fileURLToPath(new URL('..', import.meta.url))
const src = join(root, 'src')
const dist = join(root, 'dist')
const stamp = join(dist, '.sources-sha256')

function filesUnder(dir) {
  return readdirSync(dir)
    .sort()
    .flatMap((name) => (statSync(join(dir, name)).isDirectory() ? filesUnder(join(dir, name)) : [join(dir, name)]))
}

function sourcesHash(files) {
  const hash = createHash('sha256')
  for (const file of files) hash.update(relative(src, file)).update('\0').update(readFileSync(file))
  return hash.digest('hex')
}

export async function build() {
  const files = filesUnder(src).filter((f) => f.endsWith('.ts'))
  const hash = sourcesHash(files)
  const { build: esbuild } = await import('esbuild')
  rmSync(dist, { recursive: true, force: true })
  await esbuild({ entryPoints: files, outdir: dist, outbase: src, platform: 'node', format: 'esm', target: 'node20', sourcemap: true, logLevel: 'warning' })
  mkdirSync(dist, { recursive: true })
  writeFileSync(stamp, hash) // last: a build cut short is seen as stale
}

/** Builds when dist/ is missing or older than src/; true when it built. */
export async function buildIfStale() {
  const files = filesUnder(src).filter((f) => f.endsWith('.ts'))
  let built
  try {
    built = readFileSync(stamp, 'utf8')
  } catch {
    built = undefined
  }
  if (built === sourcesHash(files)) return false
  await build()
  return true
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await build()
