// `node --import ./test/setup/ts-loader.mjs file.ts`: runs TypeScript (see ts-hooks.mjs).
import { register } from 'node:module'

register('./ts-hooks.mjs', import.meta.url)
