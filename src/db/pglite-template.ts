// A new PGlite database starts from one migrated data directory instead of an empty one: creating
// a cluster runs initdb in WebAssembly, several seconds of CPU, then every migration, where loading
// a dump takes well under one. The service does it on a new data folder, the tests for each file
// (test/helpers/app.ts). The dump is made once per set of migrations and installed PGlite (tap's
// "before" step makes it, test/setup/migrate.ts; else the first use) and kept in the system's
// temporary folder: a cache, remade when missing.
import { createHash } from 'node:crypto'
import { existsSync, readdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import { dirname, join, relative } from 'node:path'
import { openDatabase } from './client.js'
import { migrateDatabase, migrationsFolder } from './migrate.js'

function filesUnder(dir: string): string[] {
  return readdirSync(dir)
    .sort()
    .flatMap((name) => (statSync(join(dir, name)).isDirectory() ? filesUnder(join(dir, name)) : [join(dir, name)]))
}

/** Where the dump of the current migrations, made by the installed PGlite, is kept. */
function templatePath(): string {
  const hash = createHash('sha256')
  // The installed PGlite's own package.json (not exported): its data directories are its own.
  let dir = dirname(createRequire(import.meta.url).resolve('@electric-sql/pglite'))
  while (!existsSync(join(dir, 'package.json'))) dir = dirname(dir)
  hash.update(readFileSync(join(dir, 'package.json')))
  for (const file of filesUnder(migrationsFolder)) hash.update(relative(migrationsFolder, file)).update(readFileSync(file))
  return join(tmpdir(), `loyalty-ledger-pglite-${hash.digest('hex').slice(0, 16)}.tar`)
}

/** The migrated data directory as PGlite's `loadDataDir` takes it; made and kept on first use. */
export async function migratedTemplate(): Promise<Blob> {
  const path = templatePath()
  if (!existsSync(path)) {
    const database = await openDatabase({ dataDir: 'memory://', poolSize: 1 })
    try {
      await migrateDatabase(database)
      const dump = await (database.db as unknown as { $client: { dumpDataDir(c: 'none'): Promise<Blob> } }).$client.dumpDataDir('none')
      // Written aside and renamed: test processes starting together never read half a file.
      const partial = `${path}.${process.pid}`
      writeFileSync(partial, Buffer.from(await dump.arrayBuffer()))
      renameSync(partial, path)
    } finally {
      await database.close()
    }
  }
  return new Blob([readFileSync(path)])
}

/** The template when `dataDir` holds no database yet (a new data folder), else undefined. */
export async function templateForNewDataDir(dataDir: string): Promise<Blob | undefined> {
  if (dataDir.startsWith('memory://') || existsSync(join(dataDir, 'pgdata', 'PG_VERSION'))) return undefined
  return migratedTemplate()
}
