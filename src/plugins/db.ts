import fp from 'fastify-plugin'
import { openDatabase, type Database } from '../db/client.js'
import { migrateDatabase } from '../db/migrate.js'

declare module 'fastify' {
  interface FastifyInstance {
    db: Database
  }
}

export interface DbPluginOptions {
  /** A database opened by the caller (tests share one); otherwise the plugin opens and closes its own. */
  database?: Database
}

export default fp<DbPluginOptions>(
  async (app, opts) => {
    const { database: cfg } = app.config
    const database = opts.database ?? (await openDatabase({ ...cfg, loadDataDir: cfg.url ? undefined : await (await import('../db/pglite-template.js')).templateForNewDataDir(cfg.dataDir) }))
    if (!opts.database && cfg.migrateOnStart) {
      await migrateDatabase(database, cfg.url)
      app.log.info({ driver: database.kind }, 'database migrated')
    }
    app.decorate('db', database)
    if (!opts.database) app.addHook('onClose', async () => database.close())
    app.log.info({ driver: database.kind, dataDir: database.kind === 'pglite' ? cfg.dataDir : undefined }, 'database ready')
  },
  { name: 'db' },
)
