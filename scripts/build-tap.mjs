// postinstall: builds tap with the plugins of package.json ("tap"."plugin": the suite's TypeScript
// loader in test/tap-typescript instead of @tapjs/typescript). tap rebuilds by itself when its
// plugins change, but runs that first run with the loaders it had: after npm ci every file failed.
// Skipped where there is no tap or no test folder (the production image installs without either).
import { spawnSync } from 'node:child_process'
import { existsSync } from 'node:fs'
import { fileURLToPath } from 'node:url'

const root = fileURLToPath(new URL('..', import.meta.url))
const tap = fileURLToPath(new URL('../node_modules/tap/dist/esm/run.mjs', import.meta.url))
if (existsSync(tap) && existsSync(fileURLToPath(new URL('../test/tap-typescript/index.cjs', import.meta.url)))) {
  const { status } = spawnSync(process.execPath, [tap, 'build'], { cwd: root, stdio: 'inherit' })
  process.exit(status ?? 1)
}
