import { sql, type SQL } from 'drizzle-orm'
import { queryRows, type Database } from '../../src/db/client.js'

/**
 * What the database holds, table by table (row count and a hash of every row's text), to prove
 * that a batch of refused requests wrote nothing. Tables are read from the catalog, so tables
 * added later are covered without changing this.
 *
 * With a `scope`, only rows of those programs (a `program_id` column, or `programs.id`) and rows
 * created by those actors (`created_by`) count: on a PostgreSQL shared by test files running in
 * parallel, other files' rows change under us. Tables with neither column are left out then.
 */
export interface FingerprintScope {
  programIds: string[]
  actors?: string[]
}

export type Fingerprint = Record<string, string>

const inList = (values: string[]): SQL => sql.join(values.map((v) => sql`${v}`), sql`, `)

export async function fingerprint(database: Database, scope?: FingerprintScope): Promise<Fingerprint> {
  const columns = await queryRows<{ table_name: string; column_name: string }>(
    database.db,
    sql`select c.table_name, c.column_name from information_schema.columns c
          join information_schema.tables t on t.table_schema = c.table_schema and t.table_name = c.table_name
         where c.table_schema = 'public' and t.table_type = 'BASE TABLE' and c.table_name not like '\_\_drizzle%'
         order by c.table_name`,
  )
  const tables = new Map<string, Set<string>>()
  for (const c of columns) (tables.get(c.table_name) ?? tables.set(c.table_name, new Set()).get(c.table_name)!).add(c.column_name)

  const out: Fingerprint = {}
  for (const [table, cols] of tables) {
    let where: SQL | undefined
    if (scope) {
      const conditions: SQL[] = []
      const ids = scope.programIds.length ? scope.programIds : ['00000000-0000-0000-0000-000000000000']
      if (cols.has('program_id')) conditions.push(sql`program_id::text in (${inList(ids)})`)
      if (table === 'programs') conditions.push(sql`id::text in (${inList(ids)})`)
      if (cols.has('created_by') && scope.actors?.length) conditions.push(sql`created_by in (${inList(scope.actors)})`)
      if (conditions.length === 0) continue
      where = sql.join(conditions, sql` or `)
    }
    const [row] = await queryRows<{ n: number | string; h: string | null }>(
      database.db,
      sql`select count(*) as n, md5(string_agg(t::text, '|' order by t::text)) as h from ${sql.identifier(table)} t ${where ? sql`where ${where}` : sql``}`,
    )
    out[table] = `${Number(row!.n)}:${row!.h ?? ''}`
  }
  return out
}

/** The tables whose fingerprint differs, for a failure message. */
export function changedTables(before: Fingerprint, after: Fingerprint): string[] {
  return [...new Set([...Object.keys(before), ...Object.keys(after)])].filter((t) => before[t] !== after[t])
}

/** Every row of the given programs (every table with a program_id) whose text contains one of `needles`. */
export async function rowsContaining(database: Database, programIds: string[], needles: string[]): Promise<{ table: string; needle: string }[]> {
  const tables = await queryRows<{ table_name: string }>(
    database.db,
    sql`select table_name from information_schema.columns where table_schema = 'public' and column_name = 'program_id' order by table_name`,
  )
  const found: { table: string; needle: string }[] = []
  for (const { table_name } of tables) {
    for (const needle of needles) {
      const [row] = await queryRows<{ n: number | string }>(
        database.db,
        sql`select count(*) as n from ${sql.identifier(table_name)} t where program_id::text in (${inList(programIds)}) and strpos(lower(t::text), lower(${needle})) > 0`,
      )
      if (Number(row!.n) > 0) found.push({ table: table_name, needle })
    }
  }
  return found
}
