import { randomBytes } from 'node:crypto'
import type { Readable } from 'node:stream'
import { eq, sql } from 'drizzle-orm'
import type { Database } from '../../src/db/client.js'
import { programs, type ProgramRow } from '../../src/modules/programs/tables.js'

/**
 * A program whose ledger holds the exports' edge cases, written row by row with fixed ids and
 * times so that its exports are the same bytes on every run and both drivers: assets of exponent
 * 0 (POINTS, VND, XTS), 2 (USD) and 3 (KWD); debits and credits; the largest amount; text with
 * commas, quotes, CR/LF, tabs, backslashes, "\." and unicode; empty and null fields; times with
 * microseconds on a daylight-saving change; two entries at the same instant (ordered by id); a
 * reversal; entries before and after the period.
 *
 * Every id is `<prefix>-…` with a prefix drawn per run (the ledger is append-only, so a shared
 * PostgreSQL keeps earlier runs' rows): `normalize` turns the prefix into "pppppppp".
 */
export interface ExportFixture {
  prefix: string
  program: ProgramRow
  normalize(text: string): string
}

const id = (prefix: string, kind: number, n: number) => `${prefix}-0000-7000-8${kind.toString(16).padStart(3, '0')}-${n.toString(16).padStart(12, '0')}`

export const FIXTURE_PERIOD = { from: new Date('2025-01-01T05:00:00.000Z'), to: new Date('2026-01-01T05:00:00.000Z') }
export const FIXTURE_AS_OF = new Date('2025-12-31T00:00:00.000Z')

export async function seedExportFixture(database: Database, timezone = 'America/New_York'): Promise<ExportFixture> {
  const prefix = randomBytes(4).toString('hex')
  const programId = id(prefix, 0, 0)
  const memberA = id(prefix, 1, 1)
  const memberB = id(prefix, 1, 2)
  const acc = (n: number) => id(prefix, 2, n)
  const entry = (n: number) => id(prefix, 3, n)
  const accounts: [number, string, string, string, string | null, string | null][] = [
    // n, code, type, asset, member, store
    [1, 'points_issued', 'points_issued', 'POINTS', null, null],
    [2, `member:${memberA}:points`, 'member_points', 'POINTS', memberA, null],
    [3, `member:${memberB}:points`, 'member_points', 'POINTS', memberB, null],
    [4, 'points_adjustments', 'points_adjustments', 'POINTS', null, null],
    [5, 'store:Café, "Nord":tender_clearing', 'tender_clearing', 'USD', null, 'Café, "Nord"'],
    [6, `member:${memberA}:stored_value`, 'member_stored_value', 'USD', memberA, null],
    [7, 'store:S1:stored_value_settlement', 'stored_value_settlement', 'USD', null, 'S1'],
    [8, 'stored_value_adjustments:VND', 'stored_value_adjustments', 'VND', null, null],
    [9, `member:${memberB}:stored_value:VND`, 'member_stored_value', 'VND', memberB, null],
    [10, 'stored_value_adjustments:KWD', 'stored_value_adjustments', 'KWD', null, null],
    [11, `member:${memberB}:stored_value:KWD`, 'member_stored_value', 'KWD', memberB, null],
    [12, 'test:XTS', 'points_adjustments', 'XTS', null, null],
    [13, 'test:XTS:wallet', 'member_points', 'XTS', memberA, null],
  ]
  type Entry = {
    n: number
    kind: string
    at: string
    created: string
    store?: string | null
    refType?: string | null
    refId?: string | null
    reverses?: number
    reason?: string | null
    postings: [number, string, bigint][]
  }
  const entries: Entry[] = [
    { n: 1, kind: 'purchase', at: '2024-12-31 23:00:00+00', created: '2024-12-31 23:00:01.5+00', store: 'S1', refType: 'purchase', refId: 'R-0', postings: [[1, 'POINTS', -1000n], [3, 'POINTS', 1000n]] },
    { n: 2, kind: 'purchase', at: '2025-03-09 06:59:59.999999+00', created: '2025-03-09 07:00:00.123456+00', store: 'Café, "Nord"', refType: 'purchase', refId: 'R-1',
      postings: [[1, 'POINTS', -150n], [2, 'POINTS', 150n], [5, 'USD', -1234n], [6, 'USD', 1234n]] },
    { n: 3, kind: 'purchase', at: '2025-03-09 07:00:00+00', created: '2025-03-09 07:00:00+00', store: 'S1', refType: 'receipt "2", x', refId: 'R "2", x\nline',
      postings: [[7, 'USD', 5n], [6, 'USD', -5n]] },
    { n: 5, kind: 'adjustment', at: '2025-06-30 23:59:59.5+00', created: '2025-07-01 00:00:00.000999+00', reason: 'Goodwill, "VIP" customer\r\nsecond line ünïcødé 🎉',
      postings: [[4, 'POINTS', -7n], [3, 'POINTS', 7n]] },
    { n: 4, kind: 'adjustment', at: '2025-06-30 23:59:59.5+00', created: '2025-07-01 00:00:00.0005+00', reason: 'tab\there back\\slash \\. "', store: '',
      postings: [[8, 'VND', -1000000000000000n], [9, 'VND', 1000000000000000n], [10, 'KWD', -1n], [11, 'KWD', 1n], [12, 'XTS', -42n], [13, 'XTS', 42n]] },
    { n: 6, kind: 'reversal', at: '2025-07-01 00:00:00.000001+00', created: '2025-07-01 00:00:00.000001+00', reverses: 2, reason: '',
      postings: [[1, 'POINTS', 150n], [2, 'POINTS', -150n], [5, 'USD', 1234n], [6, 'USD', -1234n]] },
    { n: 7, kind: 'adjustment', at: '2025-11-02 05:30:00.25+00', created: '2025-11-02 06:00:00+00', reason: '\\.', refType: ',', refId: '"',
      postings: [[8, 'VND', 999n], [9, 'VND', -999n], [4, 'POINTS', 3n], [2, 'POINTS', -3n]] },
    { n: 8, kind: 'purchase', at: '2026-01-02 00:00:00+00', created: '2026-01-02 00:00:00+00', store: 'S1', postings: [[1, 'POINTS', -5n], [2, 'POINTS', 5n]] },
  ]
  await database.transaction(async (tx) => {
    await tx.insert(programs).values({ id: programId, name: 'Export fixture', currency: 'USD', timezone, country: 'US', rules: { pointValue: '0.01' }, rulesEffectiveFrom: new Date('2020-01-01T00:00:00Z') })
    for (const [n, code, type, asset, member, store] of accounts) {
      await tx.execute(sql`insert into ledger_accounts (program_id, id, code, type, asset, member_id, store_id, tracks_balance)
                           values (${programId}, ${acc(n)}, ${code}, ${type}, ${asset}, ${member}, ${store}, false)`)
    }
    for (const e of entries) {
      await tx.execute(sql`insert into journal_entries (program_id, id, kind, effective_at, created_at, member_id, store_id, reason, reference_type, reference_id, reverses_entry_id, created_by)
                           values (${programId}, ${entry(e.n)}, ${e.kind}, ${e.at}::timestamptz, ${e.created}::timestamptz, null, ${e.store ?? null}, ${e.reason ?? null},
                                   ${e.refType ?? null}, ${e.refId ?? null}, ${e.reverses ? entry(e.reverses) : null}, 'fixture')`)
      // One statement per entry: the balance check runs per statement.
      const rows = e.postings.map(([n, asset, amount], i) => sql`(${programId}::uuid, ${entry(e.n)}::uuid, ${i + 1}, ${acc(n)}::uuid, ${asset}, ${amount.toString()}::bigint)`)
      await tx.execute(sql`insert into postings (program_id, entry_id, seq, account_id, asset, amount) values ${sql.join(rows, sql`, `)}`)
    }
  })
  const [program] = await database.db.select().from(programs).where(eq(programs.id, programId))
  return { prefix, program: program!, normalize: (text) => text.split(prefix).join('pppppppp') }
}

export async function collect(stream: Readable): Promise<string> {
  const chunks: Buffer[] = []
  for await (const chunk of stream) chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as string))
  return Buffer.concat(chunks).toString('utf8')
}
