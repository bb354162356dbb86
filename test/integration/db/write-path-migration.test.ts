// Migration 0019 (write_path) on a database holding receipts of every kind: the one index that
// replaces two still allows exactly one receipt per kind and source, the top-ups' included (their
// purchase is null: NULLS NOT DISTINCT), and the check refuses what would make it allow more.
import t from 'tap'
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { PGlite } from '@electric-sql/pglite'
import { migrationsFolder } from '../../../src/db/migrate.js'

const journal = JSON.parse(await readFile(join(migrationsFolder, 'meta/_journal.json'), 'utf8')) as { entries: { tag: string }[] }
const tags = journal.entries.map((e) => e.tag)
const target = tags.findIndex((tag) => tag.endsWith('_write_path'))

const db = new PGlite()
t.teardown(() => db.close())
const apply = async (tag: string) => {
  for (const statement of (await readFile(join(migrationsFolder, `${tag}.sql`), 'utf8')).split('--> statement-breakpoint')) {
    if (statement.trim()) await db.exec(statement)
  }
}

const PROGRAM = '0190a0a0-0000-7000-8000-0000000000bb'
const SALE = '0190a0a0-0000-7000-8000-000000000001'
const RETURN = '0190a0a0-0000-7000-8000-000000000002'
const TOP_UP = '0190a0a0-0000-7000-8000-000000000003'
const MEMBER = '0190a0a0-0000-7000-8000-000000000004'
let n = 0
const receipt = (kind: string, source: string, purchase: string | null) =>
  db.query(
    `insert into receipts (program_id, id, number, kind, source_id, member_id, purchase_id, public_token, issued_at, document)
     values ($1, gen_random_uuid(), $2, $3, $4, $5, $6, $7, now(), '{}')`,
    [PROGRAM, `N-${++n}`, kind, source, MEMBER, purchase, `token-${n}`],
  )
const refusal = (p: Promise<unknown>) => p.then(() => ({ code: 'none', constraint: undefined }), (err: { code?: string; constraint?: string }) => ({ code: err.code, constraint: err.constraint }))

t.test('receipts written before 0019 keep their one-per-kind-and-source rule after it', async (t) => {
  t.ok(target > 0, 'the write_path migration is in the journal')
  for (const tag of tags.slice(0, target)) await apply(tag)
  await db.query(`insert into programs (id, name, currency, timezone, country) values ($1, 'Old', 'VND', 'Asia/Ho_Chi_Minh', 'VN')`, [PROGRAM])
  await receipt('purchase', SALE, SALE)
  await receipt('capture', SALE, SALE)
  await receipt('void', SALE, SALE)
  await receipt('return', RETURN, SALE)
  await receipt('top_up', TOP_UP, null)
  await apply(tags[target]!)

  const key = 'receipts_program_purchase_source_key'
  t.match(await refusal(receipt('purchase', SALE, SALE)), { code: '23505', constraint: key }, 'a second receipt of the sale')
  t.match(await refusal(receipt('return', RETURN, SALE)), { code: '23505', constraint: key }, 'a second receipt of the return')
  t.match(await refusal(receipt('top_up', TOP_UP, null)), { code: '23505', constraint: key }, 'a second receipt of the top-up, whose purchase is null')
  const other = '0190a0a0-0000-7000-8000-000000000009'
  t.match(await refusal(receipt('capture', SALE, other)), { code: '23514', constraint: 'receipts_source_check' }, 'a sale’s receipt is of its own purchase')
  t.match(await refusal(receipt('top_up', TOP_UP, SALE)), { code: '23514', constraint: 'receipts_source_check' }, 'a top-up has no purchase')
  t.match(await refusal(receipt('return', RETURN, null)), { code: '23514', constraint: 'receipts_source_check' }, 'a return has its purchase')
  t.match(await refusal(receipt('top_up', other, null)), { code: 'none' }, 'another top-up gets its receipt')
  const { rows } = await db.query<{ kind: string }>(`select kind from receipts where program_id = $1 and purchase_id = $2 order by kind`, [PROGRAM, SALE])
  t.same(rows.map((r) => r.kind), ['capture', 'purchase', 'return', 'void'], 'the receipts of a purchase')
})
