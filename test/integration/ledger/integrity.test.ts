import t from 'tap'
import { sql } from 'drizzle-orm'
import { queryRows } from '../../../src/db/client.js'
import { pgErrorOf } from '../../../src/shared/errors.js'
import { accountId, memberPoints, pointsIssued } from '../../../src/modules/ledger/accounts.js'
import { ensureAccounts } from '../../../src/modules/ledger/repository.js'
import { postEntry } from '../../helpers/post-plan.js'
import { transfer } from '../../../src/modules/ledger/planner.js'
import { newId } from '../../../src/shared/ids.js'
import { insertProgram } from '../../../src/modules/programs/repository.js'
import { insertMember } from '../../../src/modules/members/repository.js'
import { openTestDatabase } from '../../helpers/app.js'

// The database itself refuses what the ledger must never contain, whatever code runs against it.
const database = await openTestDatabase()
t.teardown(() => database.close())
const db = database.db
const programId = newId()
await insertProgram(db, { id: programId, name: 'Integrity', currency: 'VND', timezone: 'Asia/Ho_Chi_Minh', country: 'VN' })
const memberId = newId()
await insertMember(db, { programId, id: memberId, name: 'M' })
const posted = await postEntry(database, programId, { kind: 'adjustment', effectiveAt: new Date(), legs: transfer(pointsIssued(), memberPoints(memberId), 100n) }, 'test')

async function sqlState(run: () => Promise<unknown>): Promise<string | undefined> {
  try {
    await run()
    return undefined
  } catch (err) {
    return pgErrorOf(err).code
  }
}

t.test('postings and entries cannot be updated, deleted or truncated', async (t) => {
  t.equal(await sqlState(() => db.execute(sql`update postings set amount = amount * 2 where entry_id = ${posted.entryId}`)), 'LL001')
  t.equal(await sqlState(() => db.execute(sql`delete from postings where entry_id = ${posted.entryId}`)), 'LL001')
  t.equal(await sqlState(() => db.execute(sql`update journal_entries set kind = 'bonus' where id = ${posted.entryId}`)), 'LL001')
  t.equal(await sqlState(() => db.execute(sql`delete from journal_entries where id = ${posted.entryId}`)), 'LL001')
  t.equal(await sqlState(() => db.execute(sql`truncate postings`)), 'LL001')
  const rows = await queryRows<{ n: string }>(db, sql`select count(*) as n from postings where entry_id = ${posted.entryId}`)
  t.equal(rows[0]!.n, '2', 'the postings are still there')
})

t.test('an unbalanced entry cannot be written, in one statement or later', async (t) => {
  const entryId = newId()
  const issued = accountId(programId, pointsIssued())
  const wallet = accountId(programId, memberPoints(memberId))
  const state = await sqlState(() =>
    database.transaction(async (tx) => {
      await tx.execute(sql`insert into journal_entries (program_id, id, kind, effective_at, created_by) values (${programId}, ${entryId}, 'adjustment', now(), 'test')`)
      await tx.execute(sql`insert into postings (program_id, entry_id, seq, account_id, asset, amount) values
        (${programId}, ${entryId}, 1, ${issued}, 'POINTS', -10), (${programId}, ${entryId}, 2, ${wallet}, 'POINTS', 9)`)
    }),
  )
  t.equal(state, 'LL002', 'postings summing to -1 are refused')

  const extra = await sqlState(() =>
    db.execute(sql`insert into postings (program_id, entry_id, seq, account_id, asset, amount) values (${programId}, ${posted.entryId}, 3, ${wallet}, 'POINTS', 5)`),
  )
  t.equal(extra, 'LL002', 'a posting added later to a balanced entry is refused')

  const wrongAsset = await sqlState(() =>
    db.execute(sql`insert into postings (program_id, entry_id, seq, account_id, asset, amount) values
      (${programId}, ${posted.entryId}, 3, ${wallet}, 'VND', 5), (${programId}, ${posted.entryId}, 4, ${issued}, 'VND', -5)`),
  )
  t.equal(wrongAsset, 'LL002', 'postings in an asset the account does not hold are refused')

  const empty = await sqlState(() =>
    database.transaction(async (tx) => {
      await tx.execute(sql`insert into journal_entries (program_id, id, kind, effective_at, created_by) values (${programId}, ${newId()}, 'adjustment', now(), 'test')`)
    }),
  )
  t.equal(empty, 'LL002', 'an entry without postings cannot commit')
  const count = await queryRows<{ n: string }>(db, sql`select count(*) as n from journal_entries where program_id = ${programId}`)
  t.equal(count[0]!.n, '1', 'only the first, balanced entry exists')
})

t.test('a member wallet cannot be pushed below its floor even by hand-written SQL', async (t) => {
  await ensureAccounts(db, programId, [memberPoints(memberId)])
  const state = await sqlState(() => db.execute(sql`update ledger_accounts set debits_posted = debits_posted + 1000 where id = ${accountId(programId, memberPoints(memberId))}`))
  t.equal(state, '23514', 'the floor check constraint refuses it')
})
