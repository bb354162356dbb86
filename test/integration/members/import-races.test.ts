// Two imports of one file at once (PostgreSQL, where they really run together): each member is
// created once and its opening balances posted once, whichever import reaches it first; the other
// import finds it there (unchanged); nothing is refused and the ledger verifies clean after.
import t from 'tap'
import { sql } from 'drizzle-orm'
import { queryRows } from '../../../src/db/client.js'
import { onRealPostgres, startTestApp } from '../../helpers/app.js'
import { idemKey, VND_RULES } from '../../helpers/pos.js'

const skip = onRealPostgres ? false : 'two imports run at once only on PostgreSQL (PGlite serves one connection)'
const ctx = await startTestApp(t)
const program = await ctx.createProgram({ rules: VND_RULES })

const ROWS = 1_200 // three chunks of 500 rows
const file = [
  'name,phone,external_id,opening_points,opening_stored_value',
  ...Array.from({ length: ROWS }, (_, i) => `Khách ${i},0982${String(i).padStart(6, '0')},R-${i},${10 + (i % 7)},${1000 * (1 + (i % 3))}`),
].join('\n')
const pointsInFile = Array.from({ length: ROWS }, (_, i) => 10 + (i % 7)).reduce((a, b) => a + b, 0)
const valueInFile = Array.from({ length: ROWS }, (_, i) => 1000 * (1 + (i % 3))).reduce((a, b) => a + b, 0)

t.test('two imports of the same file at once create each member once and post its balances once', { skip }, async (t) => {
  const post = () => ctx.call(program.token, 'POST', '/v1/members/imports', file, { 'content-type': 'text/csv', 'idempotency-key': idemKey('race') })
  const [a, b] = await Promise.all([post(), post()])
  t.equal(a.statusCode, 201, a.body)
  t.equal(b.statusCode, 201, b.body)
  const [x, y] = [a.json(), b.json()]
  for (const i of [x, y]) t.match(i, { status: 'completed', rows: ROWS, refused: 0, updated: 0 }, 'every row created or found unchanged')
  t.equal(x.created + y.created, ROWS, 'each member created by exactly one of the two')
  t.equal(x.unchanged + y.unchanged, ROWS, 'and found there by the other')
  t.equal(BigInt(x.openingBalances.points) + BigInt(y.openingBalances.points), BigInt(pointsInFile), 'the opening points posted once')
  t.equal(BigInt(x.openingBalances.storedValue) + BigInt(y.openingBalances.storedValue), BigInt(valueInFile), 'the opening stored value posted once')

  const [members] = await queryRows<{ n: string; wallets: string }>(
    ctx.database.db,
    sql`select (select count(*) from members where program_id = ${program.id})::text as n,
               (select count(*) from ledger_accounts where program_id = ${program.id} and member_id is not null)::text as wallets`,
  )
  t.equal(Number(members!.n), ROWS, 'one member a row')
  t.equal(Number(members!.wallets), 2 * ROWS, 'two wallets a member')
  const some = (await ctx.call(program.token, 'GET', '/v1/members?externalId=R-7')).json().data[0]
  t.match((await ctx.call(program.token, 'GET', `/v1/members/${some.id}/balances`)).json(), { points: { balance: 10 }, storedValue: { balance: '2000' } })
  await ctx.assertLedgerClean(t, program.token)
})
