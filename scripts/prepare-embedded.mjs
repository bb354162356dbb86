// postinstall: compiles src/ (scripts/build.mjs) and makes the migrated PGlite data directory a new
// embedded data folder starts from (src/db/pglite-template.ts), so that the first `npm start` on a
// new machine loads it instead of running initdb and every migration (about 4 s more on this
// 2-core machine). A cache in the system's temporary folder: a start remakes it when it is missing.
// Skipped where src/ or esbuild is not there (the Docker image installs before copying src/, and
// without the dev dependencies). A failure here only warns: `npm start` does the same work itself.
import { existsSync } from 'node:fs'
import { fileURLToPath } from 'node:url'

const has = (path) => existsSync(fileURLToPath(new URL(path, import.meta.url)))
if (has('../src/server.ts') && has('../node_modules/esbuild/package.json') && has('../node_modules/@electric-sql/pglite/package.json')) {
  try {
    const { buildIfStale } = await import('./build.mjs')
    await buildIfStale()
    const { migratedTemplate } = await import('../dist/db/pglite-template.js')
    await migratedTemplate()
  } catch (err) {
    console.warn(`loyalty-ledger: could not prepare the embedded database template (npm start will): ${err instanceof Error ? err.message : err}`)
  }
}
