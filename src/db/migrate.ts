import { fileURLToPath } from 'node:url'
import { migrate as migratePostgres } from 'drizzle-orm/postgres-js/migrator'
import { drizzle as drizzlePostgres } from 'drizzle-orm/postgres-js'
import postgres from 'postgres'
import type { PgliteDatabase } from 'drizzle-orm/pglite'
import type { Database } from './client.js'

export const migrationsFolder = fileURLToPath(new URL('../../migrations', import.meta.url))

/** Arbitrary constant: one migration run at a time per database, whatever instance starts it. */
const MIGRATION_LOCK_KEY = 7_301_122_001

export async function migrateDatabase(database: Database, url?: string): Promise<void> {
  if (database.kind === 'pglite') {
    const { migrate: migratePglite } = await import('drizzle-orm/pglite/migrator')
    await migratePglite(database.db as unknown as PgliteDatabase<Record<string, never>>, { migrationsFolder })
    return
  }
  if (!url) throw new Error('migrating PostgreSQL needs its URL')
  await migratePostgresUrl(url)
}

/**
 * One connection holds a session advisory lock while drizzle's migrator runs,
 * so instances starting together do not apply the same migration twice.
 */
export async function migratePostgresUrl(url: string): Promise<void> {
  const client = postgres(url, { max: 1, onnotice: () => {} })
  try {
    await client`select pg_advisory_lock(${MIGRATION_LOCK_KEY})`
    await migratePostgres(drizzlePostgres(client), { migrationsFolder })
    await client`select pg_advisory_unlock(${MIGRATION_LOCK_KEY})`
  } finally {
    await client.end({ timeout: 5 })
  }
}
