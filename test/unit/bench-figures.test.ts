import t from 'tap'
import { latency, lessIdle, parseProcStat, phaseReport, percentile, summaryTable, tableActivity, tableBreakdown, targetChecks, ticksBetween, totalWrites, type Phase, type TableCounters } from '../bench/figures.js'

const counters = (table: string, inserted: number, updated: number, hotUpdated: number, deleted: number, indexes: number): TableCounters => ({ table, inserted, updated, hotUpdated, deleted, indexes })

t.test('latency percentiles are nearest-rank over the samples, in any order', async (t) => {
  const samples = Array.from({ length: 100 }, (_, i) => 100 - i) // 100 .. 1
  t.same(latency(samples), { p50: 51, p95: 96, p99: 100 })
  t.equal(percentile([7], 99), 7, 'one sample is every percentile')
  t.same(latency([]), { p50: 0, p95: 0, p99: 0 }, 'no samples')
})

t.test('a phase writes the counter deltas; index entries are inserts and non-HOT updates times the indexes', async (t) => {
  const before = [counters('postings', 100, 0, 0, 0, 4), counters('member_wallets', 10, 50, 20, 0, 2), counters('members', 10, 5, 5, 0, 6), counters('holds', 3, 3, 0, 1, 3)]
  const after = [
    counters('postings', 130, 0, 0, 0, 4), // 30 inserted: 120 entries
    counters('member_wallets', 10, 70, 30, 0, 2), // 20 updated, 10 of them HOT: 20 entries
    counters('members', 10, 5, 5, 0, 6), // untouched: left out
    counters('holds', 3, 3, 0, 2, 3), // a delete adds no entry
    counters('receipts', 10, 0, 0, 0, 2), // a table created in between counts from 0
  ]
  const tables = tableActivity(before, after)
  t.same(tables, [
    { table: 'postings', inserted: 30, updated: 0, hotUpdated: 0, deleted: 0, indexEntries: 120 },
    { table: 'member_wallets', inserted: 0, updated: 20, hotUpdated: 10, deleted: 0, indexEntries: 20 },
    { table: 'receipts', inserted: 10, updated: 0, hotUpdated: 0, deleted: 0, indexEntries: 20 },
    { table: 'holds', inserted: 0, updated: 0, hotUpdated: 0, deleted: 1, indexEntries: 0 },
  ], 'busiest first')
  t.same(totalWrites(tables), { inserted: 40, updated: 20, hotUpdated: 10, deleted: 1, indexEntries: 160 })
})

t.test('CPU ticks are utime + stime of /proc/<pid>/stat, whatever the command name holds', async (t) => {
  // Fields of a real line: pid (comm) state ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt utime stime ...
  t.same(parseProcStat('2200 (postgres) S 2196 2196 2196 0 -1 4194368 120 0 0 0 37 15 0 0 20 0 1 0 1000 226074624 1520'), { comm: 'postgres', ticks: 52 })
  t.same(parseProcStat('42 (a) b (c)) R 1 42 42 0 -1 0 0 0 0 0 5 6 7 8'), { comm: 'a) b (c)', ticks: 11 }, 'spaces and parentheses in the name')
})

t.test('ticks between two readings: a process started in between counts from 0, one that ended is lost', async (t) => {
  const before = new Map([[1, 100], [2, 50]])
  const after = new Map([[1, 130], [3, 7]])
  t.equal(ticksBetween(before, after), 37)
})

const phase = (over: Partial<Phase>): Phase => ({
  name: 'low',
  connections: 32,
  purchases: 1000,
  returns: 50,
  errors: 0,
  seconds: 10,
  latency: { p50: 10, p95: 30, p99: 40 },
  verifyClean: true,
  writes: { inserted: 11_500, updated: 2000, hotUpdated: 1500, deleted: 0, indexEntries: 72_000 },
  tables: [{ table: 'postings', inserted: 3000, updated: 0, hotUpdated: 0, deleted: 0, indexEntries: 12_000 }],
  walBytes: 9_000_000,
  walFullPageImages: 250,
  serviceCpuMs: 2500,
  postgresBackendCpuMs: 1200,
  postgresBackgroundCpuMs: 100,
  driverCpuMs: 800,
  windowSeconds: 25,
  quietWalBytesPerSecond: 2048,
  ...over,
})

t.test('idle CPU, read over a quiet span, is taken out at its rate over the window and never below zero', async (t) => {
  const window = { serviceCpuMs: 3000, postgresBackendCpuMs: 2600, postgresBackgroundCpuMs: 50, other: 'kept' }
  const quiet = { serviceCpuMs: 30, postgresBackendCpuMs: 60, postgresBackgroundCpuMs: 20 }
  // 3 s of quiet, a 20 s window: 200, 400 and 133 ms of it were idle polling.
  t.same(lessIdle(window, 20, quiet, 3), { serviceCpuMs: 2800, postgresBackendCpuMs: 2200, postgresBackgroundCpuMs: 0, other: 'kept' })
  t.same(lessIdle(window, 20, quiet, 0), window, 'no quiet span read: nothing taken out')
})

t.test('the summary gives each phase its rate, its ratio to pgbench and its costs per sale', async (t) => {
  const table = summaryTable([phase({}), phase({ name: 'one connection', connections: 1, purchases: 200, latency: { p50: 2.5, p95: 4, p99: 6 } })], 400)
  const [header, low, single, pgbench] = table.split('\n')
  t.match(header, /^phase +conns +sales\/s +x pgbench +p50 ms +p95 ms +p99 ms +errors +verify +rows ins +rows upd +hot upd +rows del +idx entries +WAL B +WAL FPI +svc CPU ms +pg CPU ms +pg bg CPU ms +client CPU ms$/)
  t.same(low!.trim().split(/ {2,}/), ['low', '32', '100', '0.25', '10.0', '30.0', '40.0', '0', 'clean', '11.50', '2.00', '1.50', '0.00', '72.0', '9000', '0.25', '2.50', '1.20', '0.10', '0.80'])
  t.same(single!.trim().split(/ {2,}/).slice(0, 5), ['one connection', '1', '20', '0.05', '2.5'])
  t.equal(pgbench, 'pgbench tpcb-like: 400 TPS')
  t.equal(summaryTable([phase({ purchases: 0, errors: 5, verifyClean: false })], 400).split('\n')[1]!.trim().split(/ {2,}/).slice(7, 10).join(' '), '5 FAILED 0.00', 'no sale: nothing per sale, and the failures show')
})

t.test('the per-table breakdown is per sale', async (t) => {
  t.equal(tableBreakdown(phase({})), '    postings                     ins 3.00  upd 0.00 (hot 0.00)  del 0.00  index entries 12.00')
})

t.test('each target of issue 16 says whether it is met, with the measured value', async (t) => {
  const tps = 400
  const met = targetChecks({ low: phase({ purchases: 2000 }), hot: phase({ purchases: 1400 }), single: phase({ connections: 1, latency: { p50: 2.9, p95: 4, p99: 5 } }), batch: phase({ purchases: 4000 }), pgbenchTps: tps })
  t.same(met, [
    'met      low contention >= 0.5x pgbench: 0.50x',
    'met      hot wallets >= 0.35x pgbench: 0.35x',
    'met      0 errors: 0',
    'met      ledger verify clean after every phase',
    'met      p99 < 50 ms at 32 connections: 40.0 / 40.0 ms',
    'met      p50 < 3 ms at 1 connection: 2.9 ms',
    'met      batch upload >= 2x the purchase rate: 2.00x',
  ])
  const missed = targetChecks({ low: phase({ purchases: 1999, latency: { p50: 10, p95: 30, p99: 50 } }), hot: phase({ purchases: 1399, errors: 2 }), single: phase({ connections: 1, verifyClean: false }), batch: undefined, pgbenchTps: tps })
  t.same(missed, [
    'NOT met  low contention >= 0.5x pgbench: 0.50x',
    'NOT met  hot wallets >= 0.35x pgbench: 0.35x',
    'NOT met  0 errors: 2',
    'NOT met  ledger verify clean after every phase',
    'NOT met  p99 < 50 ms at 32 connections: 50.0 / 40.0 ms',
    'NOT met  p50 < 3 ms at 1 connection: 10.0 ms',
    'NOT met  batch upload >= 2x the purchase rate: endpoint not present',
  ])
})

t.test('a phase prints its rate and latency, then its writes, CPU and the WAL of other databases per sale', async (t) => {
  t.equal(
    phaseReport(phase({})),
    [
      'low: 100 sales/s (1000 sales + 50 returns in 10.0 s, 32 connections), latency p50 10.0 ms, p95 30.0 ms, p99 40.0 ms, errors 0',
      '  per sale: rows inserted 11.50, updated 2.00 (HOT 1.50), deleted 0.00, index entries 72.0, WAL 9000 B (full-page images 0.25); CPU ms (idle polling taken out): service 2.50, PostgreSQL sessions 1.20 + server processes 0.10, benchmark client 0.80',
      '    postings                     ins 3.00  upd 0.00 (hot 0.00)  del 0.00  index entries 12.00',
      "  window 25.0 s; server WAL while the benchmark was quiet: 2.0 kB/s (at that rate 51 B of the WAL per sale is other databases')",
    ].join('\n'),
  )
})
