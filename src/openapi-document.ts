import { generateKeyPairSync } from 'node:crypto'
import { buildApp } from './app.js'
import { loadConfig } from './config.js'

/** The OpenAPI document as YAML, from an app on a throwaway in-memory database. */
export async function renderOpenApi(): Promise<string> {
  const config = loadConfig({ DATA_DIR: 'memory://', LOG_LEVEL: 'silent' })
  config.tokens.signingKeyPem = generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }).toString()
  const app = await buildApp(config, { logger: false })
  try {
    await app.ready()
    return app.swagger({ yaml: true })
  } finally {
    await app.close()
  }
}
