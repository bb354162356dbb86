// Issue 17: an integrator generates a TypeScript client from openapi/openapi.yaml with
// openapi-typescript's DEFAULT options, codes the main flows against it with openapi-fetch
// (test/client/flows.ts), and it type-checks strictly and works against a running service.
import t from 'tap'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import openapiTS, { astToString } from 'openapi-typescript'
import ts from 'typescript'
import { ADMIN, startTestApp } from '../helpers/app.js'

const root = fileURLToPath(new URL('../..', import.meta.url))
const flowsFile = join(root, 'test/client/flows.ts')

// Generated once for the file, into a folder of its own that goes when the file's tests end.
const folder = await mkdtemp(join(tmpdir(), 'loyalty-ledger-client-'))
t.teardown(() => rm(folder, { recursive: true, force: true }))
const typesFile = join(folder, 'openapi.ts')
await writeFile(typesFile, astToString(await openapiTS(new URL('../../openapi/openapi.yaml', import.meta.url))))

/** Errors of the client and the generated types under the project's compiler options (strict), as `file:line message`. */
function typeErrors(): string[] {
  const config = ts.getParsedCommandLineOfConfigFile(join(root, 'tsconfig.json'), {}, { ...ts.sys, onUnRecoverableConfigFileDiagnostic: () => {} })!
  const options: ts.CompilerOptions = { ...config.options, strict: true, noEmit: true, rootDir: undefined, outDir: undefined, paths: { 'loyalty-ledger-openapi': [typesFile] } }
  const program = ts.createProgram([flowsFile, typesFile], options)
  return ts.getPreEmitDiagnostics(program).map((d) => {
    const where = d.file ? `${d.file.fileName.replace(root, '')}:${d.file.getLineAndCharacterOfPosition(d.start ?? 0).line + 1} ` : ''
    return `${where}${ts.flattenDiagnosticMessageText(d.messageText, '\n').slice(0, 600)}`
  })
}

t.test('the generated types and the client written against them type-check (strict)', async (t) => {
  const errors = typeErrors()
  t.same(errors, [], errors.join('\n'))
})

t.test('the client runs the main flows against a listening service', async (t) => {
  const ctx = await startTestApp(t)
  await ctx.app.listen({ port: 0, host: '127.0.0.1' })
  const { port } = ctx.app.server.address() as { port: number }
  // Imported by URL: the project's typecheck must not follow it (its types exist only in this test).
  const { runFlows } = (await import(pathToFileURL(flowsFile).href)) as { runFlows: (base: string, admin: typeof ADMIN) => Promise<Record<string, any>> }
  const r = await runFlows(`http://127.0.0.1:${port}`, ADMIN)

  t.equal(r.wrongSecret.status, 401, 'a wrong client secret is refused')
  t.ok(r.wrongSecret.code, `and the error body names why (${r.wrongSecret.code})`)
  t.equal(r.currency, 'VND')
  t.equal(r.topUpBalance, '200000', 'the top-up is on the stored value balance')
  t.match(r.purchase, { status: 'completed', total: '150000', pointsEarned: 15, storedValueUsed: '50000' }, '1 point per 10,000 VND; 50,000 VND from stored value')
  t.equal(r.purchaseReplayed, 'true', 'the same sale sent again under its key is a replay')
  t.match(r.return, { amount: '75000', pointsClawedBack: 8 }, 'one cup of two returned: 15 earned less the 7 the kept cup earns')
  t.equal(r.receipt.total, '150000', "the sale's receipt carries its total")
  t.equal(r.receipt.memberId, r.memberId)
  t.not(r.return.receiptId, r.purchase.receiptId, 'the return has a receipt of its own')
  t.not(r.returnReceiptKind, r.receipt.kind, 'of another kind than the sale')
  const storedValueReturned = BigInt(r.return.storedValueReturned)
  t.equal(r.balances.storedValue, String(200_000n - 50_000n + storedValueReturned), 'stored value: topped up, less the sale, plus what the return refunded to it')
  t.equal(r.balances.points, 15 - 8, 'points: earned less clawed back')
})
