import { getTableColumns, type Table } from 'drizzle-orm'
import { toSnakeCase } from 'drizzle-orm/casing'

/**
 * A row as jsonb_populate_record reads it: every column of the drizzle table under its database
 * name (the snake_case casing the app's drizzle uses), bigints as decimal strings, timestamps as
 * ISO strings, jsonb columns as they are. Every column is present (absent ones become null), so an
 * insert through it names none by hand.
 */
export function rowJson<T extends Table>(table: T, row: T['$inferSelect']): Record<string, unknown> {
  const out: Record<string, unknown> = {}
  for (const [key, column] of columnsOf(table)) {
    const value = (row as Record<string, unknown>)[key]
    out[column] = typeof value === 'bigint' ? value.toString() : value instanceof Date ? value.toISOString() : (value ?? null)
  }
  return out
}

/** Each table's (property, column) names, worked out once: a sale writes its row through this. */
const columns = new WeakMap<Table, [string, string][]>()

function columnsOf(table: Table): [string, string][] {
  let names = columns.get(table)
  if (!names) {
    names = Object.keys(getTableColumns(table)).map((key) => [key, toSnakeCase(key)])
    columns.set(table, names)
  }
  return names
}
