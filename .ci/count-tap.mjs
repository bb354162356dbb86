// Counts test cases in tap's TAP output: the points one level inside each test file
// (each t.test block, or a bare assertion at file level). A file that fails without a
// failing case inside (a crash, a timeout) counts as one failure of its own.
// A skipped case is counted as skipped, never as passed.
// Usage: node .ci/count-tap.mjs FILE... ; prints "passed failed skipped".
import { readFileSync } from 'node:fs'

let passed = 0
let failed = 0
let skipped = 0
for (const file of process.argv.slice(2)) {
  let failedInFile = 0
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    if (/^    ok \d+.*# (SKIP|TODO)/i.test(line)) skipped += 1
    else if (/^    ok \d+/.test(line)) passed += 1
    else if (/^    not ok \d+/.test(line)) {
      failed += 1
      failedInFile += 1
    } else if (/^not ok \d+/.test(line)) {
      if (failedInFile === 0) failed += 1
      failedInFile = 0
    } else if (/^ok \d+/.test(line)) failedInFile = 0
  }
}
console.log(`${passed} ${failed} ${skipped}`)
