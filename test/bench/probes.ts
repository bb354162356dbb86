// What a benchmark phase cost PostgreSQL and the service, read from the outside: row counters of
// pg_stat_user_tables, the WAL position, and CPU ticks of the processes from /proc (Linux, with the
// PostgreSQL server on this machine). The arithmetic is in figures.ts.
import { execFileSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { setTimeout as sleep } from 'node:timers/promises'
import postgres from 'postgres'
import { parseProcStat, ticksBetween, type TableCounters } from './figures.js'

const MS_PER_TICK = 1000 / Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim())

/** WAL position and CPU ticks, read at the instant a phase starts or ends. */
export interface Instant {
  lsn: string
  /** pg_stat_wal.wal_fpi: full-page images written to the WAL, by the whole server. */
  fullPageImages: number
  service: Map<number, number>
  backends: Map<number, number>
  background: Map<number, number>
}

function ticksOf(pids: readonly number[]): Map<number, number> {
  const ticks = new Map<number, number>()
  for (const pid of pids) {
    try {
      ticks.set(pid, parseProcStat(readFileSync(`/proc/${pid}/stat`, 'utf8')).ticks)
    } catch {
      // the process ended between the listing and the read
    }
  }
  return ticks
}

export type Probe = Awaited<ReturnType<typeof openProbe>>

/** One connection to the benchmark's database; `servicePid` is the service process. */
export async function openProbe(url: string, servicePid: number) {
  const sql = postgres(url, { max: 1, onnotice: () => undefined })

  /** Row counters of every user table of this database, with its number of indexes. */
  async function counters(): Promise<TableCounters[]> {
    const rows = await sql<{ table: string; ins: string; upd: string; hot: string; del: string; indexes: number }[]>`
      select s.relname as table, s.n_tup_ins as ins, s.n_tup_upd as upd, s.n_tup_hot_upd as hot, s.n_tup_del as del,
             (select count(*)::int from pg_index i where i.indrelid = s.relid) as indexes
      from pg_stat_user_tables s`
    return rows.map((r) => ({ table: r.table, inserted: Number(r.ins), updated: Number(r.upd), hotUpdated: Number(r.hot), deleted: Number(r.del), indexes: r.indexes }))
  }

  /**
   * Waits until the counters hold everything the service did, the work it does after answering (the
   * webhook dispatcher marking events) included, and returns the server's WAL rate (bytes/s) over
   * the quiet stretch at the end. A backend flushes its counters when it goes idle, but at most once
   * a second: one that flushed less than a second before flushes PGSTAT_IDLE_INTERVAL (10 s) later
   * (PostgreSQL 15). So counters unchanged for 11 s are complete. (pg_stat_force_next_flush() only
   * flushes the session calling it, and the service's sessions are not ours to call it from; they
   * cannot be watched for idleness either, since the dispatcher polls every second.)
   */
  async function settle(): Promise<number> {
    let last: { total: number; at: number; lsn: string } | undefined
    for (let waited = 0; waited < 180_000; waited += 1000) {
      const [r] = await sql<{ total: string; lsn: string }[]>`
        select coalesce(sum(n_tup_ins + n_tup_upd + n_tup_del), 0)::text as total, pg_current_wal_lsn()::text as lsn from pg_stat_user_tables`
      const now = performance.now()
      const total = Number(r!.total)
      if (!last || last.total !== total) last = { total, at: now, lsn: r!.lsn }
      else if (now - last.at >= 11_000) {
        const [d] = await sql<{ bytes: string }[]>`select pg_wal_lsn_diff(${r!.lsn}::pg_lsn, ${last.lsn}::pg_lsn)::text as bytes`
        return (Number(d!.bytes) * 1000) / (now - last.at)
      }
      await sleep(1000)
    }
    console.warn('  warning: the row counters still moved after 3 minutes; the figures may be short')
    return 0
  }

  /** The WAL position and the CPU ticks of the service and of PostgreSQL's processes. */
  async function instant(): Promise<Instant> {
    const [wal] = await sql<{ lsn: string; fpi: string }[]>`select pg_current_wal_lsn()::text as lsn, (select wal_fpi from pg_stat_wal)::text as fpi`
    // The service's sessions (client backends of this database but ours), and the server's own
    // processes (writer, WAL writer, checkpointer...), which serve every database of the server.
    const procs = await sql<{ pid: number; client: boolean }[]>`
      select pid, backend_type = 'client backend' as client from pg_stat_activity
      where pid <> pg_backend_pid() and (datname = current_database() or (datname is null and backend_type <> 'client backend'))`
    return {
      lsn: wal!.lsn,
      fullPageImages: Number(wal!.fpi),
      service: ticksOf([servicePid]),
      backends: ticksOf(procs.filter((p) => p.client).map((p) => p.pid)),
      background: ticksOf(procs.filter((p) => !p.client).map((p) => p.pid)),
    }
  }

  /** WAL bytes and full-page images, and CPU milliseconds, between two instants. */
  async function between(a: Instant, b: Instant) {
    const [d] = await sql<{ bytes: string }[]>`select pg_wal_lsn_diff(${b.lsn}::pg_lsn, ${a.lsn}::pg_lsn)::text as bytes`
    return {
      walBytes: Number(d!.bytes),
      walFullPageImages: b.fullPageImages - a.fullPageImages,
      serviceCpuMs: ticksBetween(a.service, b.service) * MS_PER_TICK,
      postgresBackendCpuMs: ticksBetween(a.backends, b.backends) * MS_PER_TICK,
      postgresBackgroundCpuMs: ticksBetween(a.background, b.background) * MS_PER_TICK,
    }
  }

  /**
   * Fresh planner statistics for the benchmark database. The server here runs with autovacuum off,
   * so nothing else analyzes it: the service's sessions would keep plans made when the tables were
   * empty (a scan of a whole program where the primary key finds one row), as pgbench vacuums its own
   * tables before it runs. ANALYZE invalidates those plans.
   */
  async function analyze(): Promise<void> {
    await sql`analyze`
  }

  return { counters, settle, instant, between, analyze, close: () => sql.end() }
}
