// `npm start`: compiles src/ when it changed since the last build (scripts/build.mjs), then runs
// the compiled server in this same process, so a signal sent to this process reaches the server.
// Production runs `node dist/server.js` after `npm run build` (the Dockerfile does).
import { buildIfStale } from './build.mjs'

process.setSourceMapsEnabled(true)
await buildIfStale()
await import('../dist/server.js')
