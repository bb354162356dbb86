// Runs once before the suite (tap's "before"): migrates the real PostgreSQL test database, or on
// PGlite makes the migrated data directory every test file starts from (test/helpers/pglite-template.ts).
import { migratePostgresUrl } from '../../src/db/migrate.js'
import { migratedTemplate } from '../helpers/pglite-template.js'

const url = process.env.TEST_DATABASE_URL
if (url) {
  await migratePostgresUrl(url)
  console.log('# migrated the test database')
} else {
  await migratedTemplate()
  console.log('# made the migrated PGlite data directory')
}
