import t from 'tap'
import { relationsOf, walByRelation, walReport, type WalRecord } from '../bench/wal-figures.js'

const rec = (rmgr: string, type: string, bytes: number, xid: string, blockRef: string | null, fpiBytes = 0): WalRecord => ({ rmgr, type, bytes, fpiBytes, xid, blockRef })

t.test('block references name the database and relfilenode of each block', async (t) => {
  t.same(relationsOf('blkref #0: rel 1663/19275/19287 fork main blk 1 blkref #2: rel 1663/19275/19288 fork main blk 0'), [
    { db: 19275, relfilenode: 19287 },
    { db: 19275, relfilenode: 19288 },
  ])
  t.same(relationsOf(null), [])
  t.same(relationsOf(''), [])
})

t.test('per relation: this database only; heap rows, HOT updates, index entries; commits of its transactions', async (t) => {
  const names = new Map([
    [100, 'events'],
    [101, 'events_pkey'],
    [102, 'events_pending_idx'],
  ])
  const records = [
    rec('Heap', 'INSERT+INIT', 200, '7', 'blkref #0: rel 1663/5/100 fork main blk 0'),
    rec('Btree', 'INSERT_LEAF', 80, '7', 'blkref #0: rel 1663/5/101 fork main blk 1'),
    rec('Btree', 'SPLIT_L', 900, '7', 'blkref #0: rel 1663/5/102 fork main blk 1 blkref #1: rel 1663/5/102 fork main blk 2', 400),
    rec('Btree', 'DEDUP', 60, '7', 'blkref #0: rel 1663/5/102 fork main blk 1'),
    rec('Transaction', 'COMMIT', 34, '7', null),
    rec('Heap', 'HOT_UPDATE', 70, '8', 'blkref #0: rel 1663/5/100 fork main blk 0'),
    rec('Heap', 'UPDATE', 90, '8', 'blkref #0: rel 1663/5/100 fork main blk 0'),
    rec('Heap', 'INSERT', 500, '9', 'blkref #0: rel 1663/6/100 fork main blk 0', 300),
    rec('Transaction', 'COMMIT', 34, '9', null),
    rec('Btree', 'INSERT_LEAF', 80, '8', 'blkref #0: rel 1663/5/103 fork main blk 1'),
  ]
  const r = walByRelation(records, 5, names)
  t.same(r.relations.map((x) => [x.relation, x.inserts, x.updates, x.hotUpdates, x.indexEntries, x.records, x.bytes, x.fpiBytes]), [
    ['events_pending_idx', 0, 0, 0, 1, 2, 960, 400],
    ['events', 1, 2, 1, 0, 3, 360, 0],
    ['events_pkey', 0, 0, 0, 1, 1, 80, 0],
    ['relfilenode 103', 0, 0, 0, 1, 1, 80, 0],
  ])
  t.equal(r.fpiBytes, 400, 'full-page images of this database only')
  t.equal(r.bytes, 200 + 80 + 900 + 60 + 34 + 70 + 90 + 80, 'the other database (6) and its commit are left out')
  t.equal(r.commits, 1)
  const report = walReport(r, 2)
  t.match(report, /per sale \(2 sales\)/)
  t.match(report, /total \(with commit records\)\s+ins\s+0\.50\s+upd\s+1\.00 \(hot\s+0\.50\)\s+index entries\s+1\.50\s+WAL B\s+757 \(FPI\s+200\)/)
})
