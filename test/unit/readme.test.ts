// The README stays something a newcomer reads in five minutes, and its table of documents is true:
// every document it names exists and every document under docs/ is named.
import t from 'tap'
import { readdirSync, readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'

const root = fileURLToPath(new URL('../..', import.meta.url))
const readme = readFileSync(`${root}README.md`, 'utf8')

t.test('the README is at most 200 lines', async (t) => {
  t.ok(readme.split('\n').length <= 200, `${readme.split('\n').length} lines`)
})

t.test('the README names every document under docs/, and each one it names exists', async (t) => {
  const named = new Set([...readme.matchAll(/^\| (docs\/[a-z0-9-]+\.md) \|/gm)].map((m) => m[1]!))
  const present = new Set(readdirSync(`${root}docs`).filter((f) => f.endsWith('.md')).map((f) => `docs/${f}`))
  t.same([...present].filter((f) => !named.has(f)), [], 'documents the README does not name')
  t.same([...named].filter((f) => !present.has(f)), [], 'documents the README names that do not exist')
})
