import t from 'tap'
import { sql } from 'drizzle-orm'
import { onRealPostgres, startTestApp } from '../../helpers/app.js'
import { csvObjects } from '../../helpers/csv.js'
import { Till, VND_RULES } from '../../helpers/pos.js'
import { queryRows } from '../../../src/db/client.js'
import { inSnapshot, streamSnapshot } from '../../../src/db/snapshot.js'

const ctx = await startTestApp(t)
const program = await ctx.createProgram({ rules: VND_RULES })
const till = new Till(ctx, program.token)
const members = await Promise.all(Array.from({ length: 4 }, () => ctx.enrol(program.token)))
for (const m of members) {
  await till.topUp(m.id, '1000000')
  await till.grantPoints(m.id, 1000)
}

/** A sale paying with stored value and points, so it moves both assets and several accounts. */
const sale = (memberId: string) =>
  till.purchase(memberId, [{ sku: 'COFFEE', quantity: 1, unitPrice: '50000' }], [
    { type: 'storedValue', amount: '30000' },
    { type: 'points', points: 100 },
    { type: 'cash', amount: '10000' },
  ])

const window = () => `from=2000-01-01&to=${encodeURIComponent(new Date(Date.now() + 3_600_000).toISOString())}`

t.test('an export and a roll-forward taken while purchases are posting still balance', async (t) => {
  const sales = Array.from({ length: 24 }, (_, i) => sale(members[i % members.length]!.id))
  const [journal, liability] = await Promise.all([
    ctx.call(program.token, 'GET', `/v1/exports/journal?${window()}`),
    ctx.call(program.token, 'GET', `/v1/exports/liability?${window()}`),
    ...sales,
  ])
  for (const res of await Promise.all(sales)) t.equal(res.statusCode, 201)

  const rows = csvObjects(journal.body).rows
  const perEntry = new Map<string, bigint>()
  const perAsset = new Map<string, bigint>()
  for (const r of rows) {
    const signed = BigInt(r.credit || '0') - BigInt(r.debit || '0')
    perEntry.set(`${r.entry_id}/${r.asset}`, (perEntry.get(`${r.entry_id}/${r.asset}`) ?? 0n) + signed)
    perAsset.set(r.asset!, (perAsset.get(r.asset!) ?? 0n) + signed)
  }
  t.same([...perEntry.values()].filter((v) => v !== 0n), [], 'every exported entry is complete and balances')
  t.same(Object.fromEntries([...perAsset].map(([a, v]) => [a, v.toString()])), { POINTS: '0', VND: '0' }, 'the export sums to zero per asset')

  for (const a of liability.json().assets) {
    const n = (f: string) => BigInt(a[f])
    t.equal(n('opening') + n('issued') - n('clawedBack') - n('redeemed') + n('refunded') - n('expired') + n('adjusted') + n('reversed') + n('other'), n('closing'), `${a.asset} closes`)
  }
  const after = csvObjects((await ctx.call(program.token, 'GET', `/v1/exports/journal?${window()}`)).body).rows
  t.ok(after.length >= rows.length, 'a later export sees at least as much')
  t.equal(after.length, 4 * 4 + 24 * 5, 'and, once the sales are done, all of them (top-up, grant: 2 postings each; a sale: 5)')
})

t.test('a snapshot does not see what commits after it began', { skip: onRealPostgres ? false : 'PGlite has one connection: a write waits for the snapshot to end' }, async (t) => {
  const count = async (ex: Parameters<Parameters<typeof inSnapshot>[1]>[0]) =>
    Number((await queryRows<{ n: string }>(ex, sql`select count(*)::text as n from postings where program_id = ${program.id}`))[0]!.n)
  await inSnapshot(ctx.database, async (tx) => {
    const before = await count(tx)
    const res = await sale(members[0]!.id)
    t.equal(res.statusCode, 201, 'a purchase commits meanwhile')
    t.equal(await count(tx), before, 'the snapshot still reads the ledger as it was')
    t.equal(await count(ctx.database.db), before + 5, 'outside it, the purchase is there')
  })
})

t.test('a reader that goes away stops the export and releases its snapshot', async (t) => {
  let written = 0
  const chunk = 'x'.repeat(100_000)
  const stream = await streamSnapshot(
    ctx.database,
    async (_tx, write) => {
      for (let i = 0; i < 1000; i++) {
        await write(chunk)
        written += 1
      }
    },
    { highWaterMark: 16 * 1024 },
  )
  await new Promise<void>((resolve) => stream.once('data', () => resolve()))
  stream.destroy()
  // If the producer still held the transaction, this would wait forever on PGlite (and the test time out).
  const [row] = await queryRows<{ ok: number }>(ctx.database.db, sql`select 1 as ok`)
  t.equal(Number(row!.ok), 1, 'the database answers again')
  t.ok(written < 10, `the producer stopped after ${written} chunks instead of writing 1000`)
})

t.test('a failure before any output is an error, not a truncated stream', async (t) => {
  await t.rejects(
    streamSnapshot(ctx.database, async (tx) => {
      await tx.execute(sql`select * from no_such_table`)
    }),
  )
  const stream = await streamSnapshot(ctx.database, async () => {})
  const chunks: Buffer[] = []
  for await (const c of stream) chunks.push(c as Buffer)
  t.equal(Buffer.concat(chunks).length, 0, 'a producer that writes nothing gives an empty body')
})
