// Runs once before the suite (tap's "before"): migrates the real PostgreSQL test database.
// On PGlite every test file migrates its own in-memory database instead.
import { migratePostgresUrl } from '../../src/db/migrate.js'

const url = process.env.TEST_DATABASE_URL
if (url) {
  await migratePostgresUrl(url)
  console.log('# migrated the test database')
}
