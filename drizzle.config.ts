import { defineConfig } from 'drizzle-kit'

// drizzle-kit only generates SQL from the schema; the service applies it with
// drizzle's migrator on PGlite and on PostgreSQL alike (src/db/migrate.ts).
export default defineConfig({
  dialect: 'postgresql',
  schema: './src/db/schema.ts',
  out: './migrations',
  casing: 'snake_case',
})
