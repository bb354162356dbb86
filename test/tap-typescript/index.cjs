// A tap plugin in place of @tapjs/typescript (ts-node, which spent about 3 s of CPU per test file
// loading the compiler and transpiling every import): tap finds .ts test files, also in a directory
// given on the command line, and every test process loads TypeScript through ts-loader.mjs.
const { join } = require('node:path')
const { pathToFileURL } = require('node:url')

exports.testFileExtensions = ['test.ts']
exports.importLoader = pathToFileURL(join(__dirname, 'ts-loader.mjs')).href
