// Applies pending migrations to DATABASE_URL (`npm run migrate`); embedded mode migrates itself at start.
import { migratePostgresUrl } from '../db/migrate.js'

const url = process.env.DATABASE_URL
if (!url) {
  console.error('DATABASE_URL is not set: the embedded database migrates itself when the service starts.')
  process.exit(1)
}
await migratePostgresUrl(url)
console.log('migrations applied')
