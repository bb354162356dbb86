import { generateKeyPairSync } from 'node:crypto'
import { buildApp } from './app.js'
import { loadConfig } from './config.js'
import { openDatabase } from './db/client.js'
import { migratedTemplate } from './db/pglite-template.js'

/**
 * The OpenAPI document as YAML, from an app on a throwaway in-memory database started from the
 * migrated template (a new cluster and every migration took seconds of CPU, and under load more than
 * the plugins' start-up timeout).
 */
export async function renderOpenApi(): Promise<string> {
  const config = loadConfig({ DATA_DIR: 'memory://', LOG_LEVEL: 'silent' })
  config.tokens.signingKeyPem = generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }).toString()
  const database = await openDatabase({ dataDir: 'memory://', poolSize: 1, loadDataDir: await migratedTemplate() })
  try {
    const app = await buildApp(config, { logger: false, database })
    try {
      await app.ready()
      return app.swagger({ yaml: true })
    } finally {
      await app.close()
    }
  } finally {
    await database.close()
  }
}
