// Members enrolled before referrals existed get a referral code from the migration that adds the
// column: each its own. Replays the migrations on a fresh embedded database, stopping before
// coupons_referrals to enrol members the old way.
import t from 'tap'
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { PGlite } from '@electric-sql/pglite'
import { migrationsFolder } from '../../../src/db/migrate.js'

const journal = JSON.parse(await readFile(join(migrationsFolder, 'meta/_journal.json'), 'utf8')) as { entries: { tag: string }[] }
const tags = journal.entries.map((e) => e.tag)
const target = tags.findIndex((tag) => tag.endsWith('_coupons_referrals'))

const db = new PGlite()
t.teardown(() => db.close())
const apply = async (tag: string) => {
  for (const statement of (await readFile(join(migrationsFolder, `${tag}.sql`), 'utf8')).split('--> statement-breakpoint')) {
    if (statement.trim()) await db.exec(statement)
  }
}

t.test('existing members get distinct referral codes, new ones get theirs at enrolment', async (t) => {
  t.ok(target > 0, 'the coupons_referrals migration is in the journal')
  for (const tag of tags.slice(0, target)) await apply(tag)
  const programId = '0190a0a0-0000-7000-8000-0000000000aa'
  await db.query(`insert into programs (id, name, currency, timezone, country) values ($1, 'Old', 'VND', 'Asia/Ho_Chi_Minh', 'VN')`, [programId])
  for (let i = 0; i < 200; i++) {
    await db.query(`insert into members (program_id, id, name) values ($1, gen_random_uuid(), $2)`, [programId, `Member ${i}`])
  }
  await apply(tags[target]!)
  const { rows } = await db.query<{ referral_code: string; referred_by: string | null }>('select referral_code, referred_by from members')
  t.equal(rows.length, 200)
  t.ok(
    rows.every((r) => /^[0-9A-HJKMNP-TV-Z]{10}$/.test(r.referral_code)),
    'every member has a 10-character Crockford base32 code',
  )
  t.equal(new Set(rows.map((r) => r.referral_code)).size, 200, 'no two alike')
  t.ok(
    rows.every((r) => r.referred_by === null),
    'nobody is referred',
  )
  const fresh = await db.query<{ referral_code: string }>(`insert into members (program_id, id, name) values ($1, gen_random_uuid(), 'New') returning referral_code`, [programId])
  t.match(fresh.rows[0]!.referral_code, /^[0-9A-HJKMNP-TV-Z]{10}$/, 'a member inserted later gets one by default')
})
