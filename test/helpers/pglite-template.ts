// The migrated data directory every PGlite test file starts from: made by the service's own code.
export { migratedTemplate } from '../../src/db/pglite-template.js'
