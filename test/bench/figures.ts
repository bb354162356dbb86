// Pure arithmetic of the purchase benchmark (`npm run bench`): latency percentiles, what a phase
// wrote per purchase from two snapshots of PostgreSQL's counters, CPU from /proc, the summary table
// and the issue 16 targets. No I/O here, so test/unit/bench-figures.test.ts can check every figure.

/** Nearest-rank percentile of ascending `sorted` (0 for no samples). */
export const percentile = (sorted: readonly number[], p: number) =>
  sorted.length === 0 ? 0 : sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!

export interface Latency {
  p50: number
  p95: number
  p99: number
}

export function latency(samples: readonly number[]): Latency {
  const sorted = [...samples].sort((a, b) => a - b)
  return { p50: percentile(sorted, 50), p95: percentile(sorted, 95), p99: percentile(sorted, 99) }
}

/** One table's cumulative counters from pg_stat_user_tables, and how many indexes it has (pg_index). */
export interface TableCounters {
  table: string
  inserted: number
  updated: number
  hotUpdated: number
  deleted: number
  indexes: number
}

export interface TableActivity {
  table: string
  inserted: number
  updated: number
  hotUpdated: number
  deleted: number
  /** Index entries written: (inserted + non-HOT updated) x indexes of the table. */
  indexEntries: number
}

/**
 * What happened between two snapshots, per table, busiest first. An inserted row adds one entry to
 * every index of its table, and so does a non-HOT update (a HOT update adds none); deletes add none.
 * A partial index whose predicate a row fails gets no entry, so for those this is an upper bound.
 */
export function tableActivity(before: readonly TableCounters[], after: readonly TableCounters[]): TableActivity[] {
  const start = new Map(before.map((t) => [t.table, t]))
  return after
    .map((t) => {
      const s = start.get(t.table)
      const inserted = t.inserted - (s?.inserted ?? 0)
      const updated = t.updated - (s?.updated ?? 0)
      const hotUpdated = t.hotUpdated - (s?.hotUpdated ?? 0)
      const deleted = t.deleted - (s?.deleted ?? 0)
      return { table: t.table, inserted, updated, hotUpdated, deleted, indexEntries: (inserted + updated - hotUpdated) * t.indexes }
    })
    .filter((t) => t.inserted + t.updated + t.deleted > 0)
    .sort((a, b) => b.inserted + b.updated + b.deleted - (a.inserted + a.updated + a.deleted) || a.table.localeCompare(b.table))
}

export interface Writes {
  inserted: number
  updated: number
  hotUpdated: number
  deleted: number
  indexEntries: number
}

export function totalWrites(tables: readonly TableActivity[]): Writes {
  const sum = (pick: (t: TableActivity) => number) => tables.reduce((s, t) => s + pick(t), 0)
  return {
    inserted: sum((t) => t.inserted),
    updated: sum((t) => t.updated),
    hotUpdated: sum((t) => t.hotUpdated),
    deleted: sum((t) => t.deleted),
    indexEntries: sum((t) => t.indexEntries),
  }
}

/** CPU ticks (utime + stime) of one /proc/<pid>/stat line, and the command name. */
export function parseProcStat(line: string): { comm: string; ticks: number } {
  // comm is in parentheses and may itself hold spaces and parentheses: fields follow the last ')'.
  const close = line.lastIndexOf(')')
  const comm = line.slice(line.indexOf('(') + 1, close)
  const fields = line.slice(close + 2).split(' ')
  // After comm: state is field 3 (index 0 here), utime field 14, stime field 15.
  return { comm, ticks: Number(fields[11]) + Number(fields[12]) }
}

/**
 * CPU ticks spent between two readings of per-process ticks. A process that started in between
 * counts from 0; one that ended in between is lost (its ticks are no longer readable).
 */
export function ticksBetween(before: ReadonlyMap<number, number>, after: ReadonlyMap<number, number>): number {
  let ticks = 0
  for (const [pid, t] of after) ticks += t - (before.get(pid) ?? 0)
  return ticks
}

/** CPU milliseconds of the service, PostgreSQL's sessions of the benchmark database, and its server processes. */
export interface CpuCost {
  serviceCpuMs: number
  postgresBackendCpuMs: number
  postgresBackgroundCpuMs: number
}

/** What the benchmark measured in one phase. */
export interface Phase extends CpuCost {
  name: string
  connections: number
  /** Sales acknowledged (201) in the measured window. */
  purchases: number
  returns: number
  errors: number
  seconds: number
  latency: Latency
  verifyClean: boolean
  writes: Writes
  tables: TableActivity[]
  walBytes: number
  /**
   * Full-page images in that WAL: the first change of a page after a checkpoint logs the whole
   * page (8 kB), so WAL bytes per sale jump when a checkpoint falls in the window.
   */
  walFullPageImages: number
  /** The benchmark process's own CPU over the load (the HTTP client; it shares the machine). */
  driverCpuMs: number
  /** The measuring window: the load and the settling after it. */
  windowSeconds: number
  /** The server's WAL rate while the benchmark's counters stood still: other databases' work. */
  quietWalBytesPerSecond: number
}

/**
 * The CPU a phase's work cost: its window's CPU less what the same processes burn idle (the
 * dispatcher's and jobs' polling, read over `quietSeconds` of quiet just before the window), at
 * that rate over the window. A window is mostly its settling (11 s and more of quiet after the
 * load), so without this the idle polling is charged to the sales.
 */
export function lessIdle<T extends CpuCost>(window: T, windowSeconds: number, quiet: CpuCost, quietSeconds: number): T {
  const scale = quietSeconds > 0 ? windowSeconds / quietSeconds : 0
  const less = (used: number, idle: number) => Math.max(0, used - idle * scale)
  return {
    ...window,
    serviceCpuMs: less(window.serviceCpuMs, quiet.serviceCpuMs),
    postgresBackendCpuMs: less(window.postgresBackendCpuMs, quiet.postgresBackendCpuMs),
    postgresBackgroundCpuMs: less(window.postgresBackgroundCpuMs, quiet.postgresBackgroundCpuMs),
  }
}

export const rate = (p: Phase) => p.purchases / p.seconds
export const perPurchase = (value: number, p: Phase) => (p.purchases === 0 ? 0 : value / p.purchases)

const fixed = (n: number, digits: number) => n.toFixed(digits)

/** One line per phase: the figures the issue asks for, per acknowledged purchase. */
export function summaryTable(phases: readonly Phase[], pgbenchTps: number): string {
  const header = ['phase', 'conns', 'sales/s', 'x pgbench', 'p50 ms', 'p95 ms', 'p99 ms', 'errors', 'verify', 'rows ins', 'rows upd', 'hot upd', 'rows del', 'idx entries', 'WAL B', 'WAL FPI', 'svc CPU ms', 'pg CPU ms', 'pg bg CPU ms', 'client CPU ms']
  const rows = phases.map((p) => [
    p.name,
    String(p.connections),
    fixed(rate(p), 0),
    fixed(rate(p) / pgbenchTps, 2),
    fixed(p.latency.p50, 1),
    fixed(p.latency.p95, 1),
    fixed(p.latency.p99, 1),
    String(p.errors),
    p.verifyClean ? 'clean' : 'FAILED',
    fixed(perPurchase(p.writes.inserted, p), 2),
    fixed(perPurchase(p.writes.updated, p), 2),
    fixed(perPurchase(p.writes.hotUpdated, p), 2),
    fixed(perPurchase(p.writes.deleted, p), 2),
    fixed(perPurchase(p.writes.indexEntries, p), 1),
    fixed(perPurchase(p.walBytes, p), 0),
    fixed(perPurchase(p.walFullPageImages, p), 2),
    fixed(perPurchase(p.serviceCpuMs, p), 2),
    fixed(perPurchase(p.postgresBackendCpuMs, p), 2),
    fixed(perPurchase(p.postgresBackgroundCpuMs, p), 2),
    fixed(perPurchase(p.driverCpuMs, p), 2),
  ])
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)))
  const line = (cells: string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ')
  return [line(header), ...rows.map(line), `pgbench tpcb-like: ${fixed(pgbenchTps, 0)} TPS`].join('\n')
}

export interface Targets {
  low: Phase
  hot: Phase
  single: Phase
  batch: Phase | undefined
  pgbenchTps: number
}

/** The targets of issue 16 on this machine, each with the measured value and whether it is met. */
export function targetChecks({ low, hot, single, batch, pgbenchTps }: Targets): string[] {
  const check = (met: boolean, text: string) => `${met ? 'met    ' : 'NOT met'}  ${text}`
  const all = [low, hot, single, ...(batch ? [batch] : [])]
  const errors = all.reduce((s, p) => s + p.errors, 0)
  return [
    check(rate(low) / pgbenchTps >= 0.5, `low contention >= 0.5x pgbench: ${fixed(rate(low) / pgbenchTps, 2)}x`),
    check(rate(hot) / pgbenchTps >= 0.35, `hot wallets >= 0.35x pgbench: ${fixed(rate(hot) / pgbenchTps, 2)}x`),
    check(errors === 0, `0 errors: ${errors}`),
    check(all.every((p) => p.verifyClean), `ledger verify clean after every phase`),
    check(Math.max(low.latency.p99, hot.latency.p99) < 50, `p99 < 50 ms at ${low.connections} connections: ${fixed(low.latency.p99, 1)} / ${fixed(hot.latency.p99, 1)} ms`),
    check(single.latency.p50 < 3, `p50 < 3 ms at ${single.connections} connection: ${fixed(single.latency.p50, 1)} ms`),
    batch
      ? check(rate(batch) >= 2 * rate(low), `batch upload >= 2x the purchase rate: ${fixed(rate(batch) / rate(low), 2)}x`)
      : check(false, 'batch upload >= 2x the purchase rate: endpoint not present'),
  ]
}

/** Per-purchase writes of the busiest tables of a phase, one table a line. */
export function tableBreakdown(p: Phase, top = 10): string {
  const per = (n: number) => fixed(perPurchase(n, p), 2)
  return p.tables
    .slice(0, top)
    .map((t) => `    ${t.table.padEnd(28)} ins ${per(t.inserted)}  upd ${per(t.updated)} (hot ${per(t.hotUpdated)})  del ${per(t.deleted)}  index entries ${per(t.indexEntries)}`)
    .join('\n')
}

/** What the benchmark prints after a phase: rate and latency, writes and CPU per sale, busiest tables. */
export function phaseReport(p: Phase): string {
  const per = (n: number, digits: number) => fixed(perPurchase(n, p), digits)
  const w = p.writes
  const quietWal = p.quietWalBytesPerSecond * p.windowSeconds
  return [
    `${p.name}: ${fixed(rate(p), 0)} sales/s (${p.purchases} sales + ${p.returns} returns in ${fixed(p.seconds, 1)} s, ${p.connections} connections), ` +
      `latency p50 ${fixed(p.latency.p50, 1)} ms, p95 ${fixed(p.latency.p95, 1)} ms, p99 ${fixed(p.latency.p99, 1)} ms, errors ${p.errors}`,
    `  per sale: rows inserted ${per(w.inserted, 2)}, updated ${per(w.updated, 2)} (HOT ${per(w.hotUpdated, 2)}), deleted ${per(w.deleted, 2)}, ` +
      `index entries ${per(w.indexEntries, 1)}, WAL ${per(p.walBytes, 0)} B (full-page images ${per(p.walFullPageImages, 2)}); ` +
      `CPU ms (idle polling taken out): service ${per(p.serviceCpuMs, 2)}, PostgreSQL sessions ${per(p.postgresBackendCpuMs, 2)} + server processes ${per(p.postgresBackgroundCpuMs, 2)}, benchmark client ${per(p.driverCpuMs, 2)}`,
    tableBreakdown(p),
    // WAL and the server processes serve every database of the server.
    `  window ${fixed(p.windowSeconds, 1)} s; server WAL while the benchmark was quiet: ${fixed(p.quietWalBytesPerSecond / 1024, 1)} kB/s ` +
      `(at that rate ${per(quietWal, 0)} B of the WAL per sale is other databases')`,
  ].join('\n')
}
