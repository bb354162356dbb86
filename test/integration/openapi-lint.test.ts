import t from 'tap'
import { fileURLToPath } from 'node:url'
import { lint, lintFromString, loadConfig } from '@redocly/openapi-core'

// The committed document is what integrators lint; openapi.test.ts keeps it equal to the code.
const document = fileURLToPath(new URL('../../openapi/openapi.yaml', import.meta.url))
const configPath = fileURLToPath(new URL('../../redocly.yaml', import.meta.url))
const config = await loadConfig({ configPath })

const describeProblems = (problems: Awaited<ReturnType<typeof lint>>) =>
  problems.map((p) => `${p.severity} ${p.ruleId}: ${p.message} at ${p.location.map((l) => l.pointer).join(', ')}`)

t.test('openapi/openapi.yaml passes Redocly lint (recommended rules, redocly.yaml) with no error and no warning', async (t) => {
  const lines = describeProblems(await lint({ ref: document, config }))
  t.same(lines, [], lines.length ? `Redocly lint problems:\n${lines.join("\n")}` : "no lint problems")
})

t.test('the configured linter does report what the recommended rules forbid', async (t) => {
  // An operation without operationId, 4xx response or security: the rules the document once broke.
  const source = 'openapi: 3.1.0\ninfo: { title: x, version: "1", license: { name: MIT, identifier: MIT } }\nservers: [{ url: / }]\npaths:\n  /x:\n    get:\n      summary: x\n      responses: { "200": { description: ok } }\n'
  const rules = (await lintFromString({ source, absoluteRef: 'inline.yaml', config })).map((p) => p.ruleId)
  t.ok(rules.includes('operation-operationId'), 'a missing operationId is reported')
  t.ok(rules.includes('security-defined'), 'missing security is reported')
  t.ok(rules.includes('operation-4xx-response'), 'a missing 4xx response is reported')
})
