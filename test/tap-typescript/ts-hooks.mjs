// Module hooks that run the TypeScript of src/ and test/ (registered by ts-loader.mjs). Each file
// is transpiled alone by TypeScript's transpileModule, as tap's ts-node did, with lines kept and
// an inline source map, so coverage maps back to the .ts lines (tsx minifies whitespace and its
// coverage reads 100% everywhere). The output is cached on disk by a hash of the source: loading
// the compiler costs about a second of CPU, so a process that finds everything cached never does.
import { createHash } from 'node:crypto'
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

const cacheDir = join(tmpdir(), 'loyalty-ledger-ts-cache')
let ts

function transpile(source, file) {
  ts ??= import('typescript').then((m) => m.default)
  return ts.then((typescript) =>
    typescript.transpileModule(source, {
      fileName: file,
      compilerOptions: {
        target: typescript.ScriptTarget.ES2022,
        module: typescript.ModuleKind.ESNext,
        verbatimModuleSyntax: true,
        esModuleInterop: true,
        inlineSourceMap: true,
        inlineSources: true,
      },
    }).outputText,
  )
}

async function compiled(file) {
  const source = readFileSync(file, 'utf8')
  const key = createHash('sha256').update(transpilerVersion()).update(file).update('\0').update(source).digest('hex')
  const cached = join(cacheDir, `${key}.mjs`)
  if (existsSync(cached)) return readFileSync(cached, 'utf8')
  const output = await transpile(source, file)
  mkdirSync(cacheDir, { recursive: true })
  // Written aside and renamed: test processes starting together never read half a file.
  const partial = `${cached}.${process.pid}`
  writeFileSync(partial, output)
  renameSync(partial, cached)
  return output
}

let loaderVersion
/** What else decides the output: the installed TypeScript and these hooks (their compiler options). */
function transpilerVersion() {
  loaderVersion ??= readFileSync(createRequire(import.meta.url).resolve('typescript/package.json'), 'utf8') + readFileSync(fileURLToPath(import.meta.url), 'utf8')
  return loaderVersion
}

/** The project imports its TypeScript files by their .js names (NodeNext): `./x.js` is `./x.ts` when only that exists. */
export async function resolve(specifier, context, next) {
  if (/^\.{1,2}\/.*\.js$/.test(specifier) && context.parentURL?.endsWith('.ts')) {
    const ts = new URL(specifier.replace(/\.js$/, '.ts'), context.parentURL)
    if (!existsSync(new URL(specifier, context.parentURL)) && existsSync(ts)) return { url: ts.href, shortCircuit: true }
  }
  return next(specifier, context)
}

export async function load(url, context, next) {
  if (!url.startsWith('file:') || !url.endsWith('.ts')) return next(url, context)
  return { format: 'module', source: await compiled(fileURLToPath(url)), shortCircuit: true }
}
