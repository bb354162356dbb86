// Pure arithmetic of test/bench/wal.ts: the WAL records of one database between two positions
// (pg_walinspect), per relation. Unlike the counters of figures.ts it counts the index entries
// actually written (a partial index that a row's predicate leaves out gets none) and the WAL bytes
// of this database alone, whatever the other databases of a shared server write meanwhile.

/** One row of pg_get_wal_records_info. */
export interface WalRecord {
  rmgr: string
  type: string
  /** record_length + fpi_length */
  bytes: number
  /** fpi_length: full-page images, written at the first change of a page after a checkpoint. */
  fpiBytes: number
  xid: string
  blockRef: string | null
}

/** Every "rel <tablespace>/<database>/<relfilenode>" a record's block references name. */
export function relationsOf(blockRef: string | null): { db: number; relfilenode: number }[] {
  return [...(blockRef ?? '').matchAll(/rel \d+\/(\d+)\/(\d+)/g)].map((m) => ({ db: Number(m[1]), relfilenode: Number(m[2]) }))
}

export interface RelationWal {
  relation: string
  /** Heap: tuples inserted (INSERT, MULTI_INSERT counted once per record). */
  inserts: number
  /** Heap: non-HOT and HOT updates. */
  updates: number
  hotUpdates: number
  /** Btree: entries added (INSERT_LEAF, INSERT_POST, and the new entry a split carries). */
  indexEntries: number
  records: number
  bytes: number
  fpiBytes: number
}

const INDEX_ENTRY = new Set(['INSERT_LEAF', 'INSERT_POST', 'SPLIT_L', 'SPLIT_R'])

/**
 * The records touching database `db`, per relation (`names`: relfilenode to a name; unknown ones
 * keep their number), busiest first, and the WAL bytes of the database: its records plus those of
 * its transactions that touch no block (COMMIT).
 */
export function walByRelation(records: readonly WalRecord[], db: number, names: ReadonlyMap<number, string>): { relations: RelationWal[]; bytes: number; fpiBytes: number; commits: number } {
  const rows = new Map<string, RelationWal>()
  const xids = new Set<string>()
  let bytes = 0
  let fpiBytes = 0
  for (const r of records) {
    const rel = relationsOf(r.blockRef).find((b) => b.db === db)
    if (!rel) continue
    xids.add(r.xid)
    bytes += r.bytes
    fpiBytes += r.fpiBytes
    const relation = names.get(rel.relfilenode) ?? `relfilenode ${rel.relfilenode}`
    const row = rows.get(relation) ?? { relation, inserts: 0, updates: 0, hotUpdates: 0, indexEntries: 0, records: 0, bytes: 0, fpiBytes: 0 }
    row.records += 1
    row.bytes += r.bytes
    row.fpiBytes += r.fpiBytes
    const type = r.type.replace(/\+INIT$/, '')
    if (r.rmgr === 'Heap' && type === 'INSERT') row.inserts += 1
    if (r.rmgr === 'Heap2' && type === 'MULTI_INSERT') row.inserts += 1
    if (r.rmgr === 'Heap' && (type === 'UPDATE' || type === 'HOT_UPDATE')) row.updates += 1
    if (r.rmgr === 'Heap' && type === 'HOT_UPDATE') row.hotUpdates += 1
    if (r.rmgr === 'Btree' && INDEX_ENTRY.has(type)) row.indexEntries += 1
    rows.set(relation, row)
  }
  let commits = 0
  for (const r of records) {
    if (relationsOf(r.blockRef).length > 0 || !xids.has(r.xid)) continue
    bytes += r.bytes
    if (r.rmgr === 'Transaction' && r.type === 'COMMIT') commits += 1
  }
  return { relations: [...rows.values()].sort((a, b) => b.bytes - a.bytes || a.relation.localeCompare(b.relation)), bytes, fpiBytes, commits }
}

/** The printed table: one relation a line, per sale. */
export function walReport(result: ReturnType<typeof walByRelation>, sales: number): string {
  const per = (n: number, digits = 2) => (sales === 0 ? '0' : (n / sales).toFixed(digits))
  const sum = (pick: (r: RelationWal) => number) => result.relations.reduce((s, r) => s + pick(r), 0)
  const line = (name: string, ins: number, upd: number, hot: number, idx: number, bytes: number, fpi: number) =>
    `  ${name.padEnd(44)} ins ${per(ins).padStart(5)}  upd ${per(upd).padStart(5)} (hot ${per(hot).padStart(5)})  index entries ${per(idx).padStart(5)}  WAL B ${per(bytes, 0).padStart(6)} (FPI ${per(fpi, 0).padStart(5)})`
  return [
    `per sale (${sales} sales), WAL of this database only:`,
    ...result.relations.map((r) => line(r.relation, r.inserts, r.updates, r.hotUpdates, r.indexEntries, r.bytes, r.fpiBytes)),
    line('total (with commit records)', sum((r) => r.inserts), sum((r) => r.updates), sum((r) => r.hotUpdates), sum((r) => r.indexEntries), result.bytes, result.fpiBytes),
  ].join('\n')
}
