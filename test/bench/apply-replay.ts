// Replays captured ll_apply calls on one PostgreSQL connection and measures what the server spends
// on them (docs/where-a-sale-goes-pg.md): not a test. The statement is the service's own
// (`select ll_apply($1::jsonb, $2::boolean)`, prepared, the group's JSON a text parameter).
//
//   REPLAY_URL=postgres://... npx tsx test/bench/apply-replay.ts <file> [options]
//
// <file>: one group (a JSON array of plans) per line. Options (environment):
//   REPLAY_MODE=same   the first line N times (REPLAY_N, default 300), each in BEGIN ... ROLLBACK,
//                      so the same ids apply again (default)
//   REPLAY_MODE=each   every line once, in order, committed (REPLAY_END=commit, default: the
//                      statement alone, in its implicit transaction, as the service sends it) or
//                      in BEGIN ... ROLLBACK (REPLAY_END=rollback)
//   REPLAY_WARMUP      calls before measuring (default 20 in `same` mode, 3 in `each`), rolled
//                      back: in `each` mode the first lines, which the loop then applies again
//   REPLAY_STATEMENT   another statement of the same two parameters, e.g. `select jsonb_typeof($1::jsonb),
//                      $2::boolean` (what parsing the argument costs) or `select length($1), $2::boolean`
//   REPLAY_PROFILE=1   plprofiler in this session only (the extension must be created in the
//                      database): prints per function and the top lines by time
//   REPLAY_PERF=1      prints the backend pid and waits 3 s before the loop (attach perf record -p)
//   REPLAY_CALLGRIND=<dir>  the server runs under `valgrind --tool=callgrind --trace-children=yes
//                      --callgrind-out-file=<dir>/cg.%p` (a private cluster): prints the instructions
//                      the backend ran, connection to exit (written when it exits). Two runs of
//                      different lengths give the instructions a call, which, unlike time, the load
//                      of the machine does not move
// Prints wall and backend CPU time (/proc/<pid>/schedstat: the server runs on this machine) per
// call and per plan.
import { existsSync, readFileSync } from 'node:fs'
import { setTimeout as sleep } from 'node:timers/promises'
import postgres from 'postgres'

const url = process.env.REPLAY_URL
const file = process.argv[2]
if (!url || !file) {
  console.error('usage: REPLAY_URL=postgres://... npx tsx test/bench/apply-replay.ts <file, one group a line>')
  process.exit(1)
}
const mode = process.env.REPLAY_MODE ?? 'same'
const n = Number(process.env.REPLAY_N ?? 300)
const warmup = Number(process.env.REPLAY_WARMUP ?? (mode === 'same' ? 20 : 3))
const end = (process.env.REPLAY_END ?? (mode === 'same' ? 'rollback' : 'commit')).toUpperCase()
const groups = readFileSync(file, 'utf8').split('\n').filter((l) => l.trim() !== '')
const APPLY_SQL = process.env.REPLAY_STATEMENT ?? 'select ll_apply($1::jsonb, $2::boolean) as out'

const sql = postgres(url, { max: 1, onnotice: () => {} })
// As the service's client after drizzle wrapped it: a jsonb parameter is sent as the text given.
;(sql.options.serializers as Record<string, (x: unknown) => unknown>)['3802'] = (x) => x
const pid = (await sql<{ pid: number }[]>`select pg_backend_pid() as pid`)[0]!.pid
/** Nanoseconds the backend has run on a CPU. */
const cpuNs = () => Number(readFileSync(`/proc/${pid}/schedstat`, 'utf8').split(' ')[0])
/** User and system CPU milliseconds of the backend (/proc/<pid>/stat, clock ticks of 10 ms). */
const userSys = () => {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ')
  return [Number(f[11]) * 10, Number(f[12]) * 10] as const
}

const profile = process.env.REPLAY_PROFILE === '1'
if (profile) {
  await sql.unsafe(`load 'plprofiler'`)
  await sql.unsafe('select pl_profiler_set_enabled_local(true)')
}

/** Committed as the service does, in the statement's implicit transaction; else BEGIN ... ROLLBACK. */
async function call(json: string, finish = end) {
  if (finish === 'COMMIT') return void (await sql.unsafe(APPLY_SQL, [json, false], { prepare: true }))
  await sql.unsafe('begin')
  try {
    await sql.unsafe(APPLY_SQL, [json, false], { prepare: true })
  } finally {
    await sql.unsafe(finish)
  }
}

const todo = mode === 'same' ? Array.from({ length: n }, () => groups[0]!) : groups
for (let i = 0; i < warmup; i++) await call(mode === 'same' ? groups[0]! : groups[i % groups.length]!, 'ROLLBACK')
if (profile) await sql.unsafe('select pl_profiler_reset_local()')
if (process.env.REPLAY_PERF === '1') {
  console.log(`backend pid ${pid}`)
  await sleep(3000)
}
const plans = todo.reduce((s, g) => s + (JSON.parse(g) as unknown[]).length, 0)
const lsn = async () => (await sql<{ lsn: string }[]>`select pg_current_wal_insert_lsn()::text as lsn`)[0]!.lsn
const walBytes = async (from: string) => Number((await sql<{ b: string }[]>`select pg_wal_lsn_diff(pg_current_wal_insert_lsn(), ${from}::pg_lsn)::text as b`)[0]!.b)
const lsn0 = await lsn()
const halves: number[] = []
const w0 = performance.now()
const c0 = cpuNs()
const us0 = userSys()
for (let i = 0; i < todo.length; i++) {
  if (i === Math.floor(todo.length / 2)) halves.push(cpuNs() - c0)
  await call(todo[i]!)
}
const cpu = cpuNs() - c0
const us1 = userSys()
const wall = performance.now() - w0
halves.push(cpu - halves[0]!)
const wal = (await walBytes(lsn0)) / plans
const f = (x: number) => x.toFixed(3)
console.log(
  `${mode} ${end.toLowerCase()}: ${todo.length} calls, ${plans} plans; wall ${f(wall / todo.length)} ms a call, ${f(wall / plans)} a plan; ` +
    `backend CPU ${f(cpu / 1e6 / todo.length)} ms a call, ${f(cpu / 1e6 / plans)} a plan (halves ${halves.map((h) => f(h / 1e6 / (todo.length / 2))).join(' / ')} a call; user ${f((us1[0] - us0[0]) / plans)} + system ${f((us1[1] - us0[1]) / plans)} a plan); WAL ${wal.toFixed(0)} B a plan (the whole server's)`,
)

if (profile) {
  await sql.unsafe('select pl_profiler_set_enabled_local(false)')
  const lines = await sql.unsafe<{ fn: string; line: number; calls: string; us: string; src: string }[]>(`
    with s as (select * from pl_profiler_linestats_local()),
    src as (select * from pl_profiler_funcs_source(pl_profiler_func_oids_local()))
    select p.proname as fn, s.line_number::int as line, s.exec_count::text as calls, s.total_time::text as us, trim(coalesce(src.source, '')) as src
      from s join pg_proc p on p.oid = s.func_oid
      left join src on src.func_oid = s.func_oid and src.line_number = s.line_number
     order by s.total_time desc`)
  const per = (us: string) => f(Number(us) / 1000 / plans)
  console.log('\nper function (line 0 = the whole function), ms a plan, calls a plan:')
  for (const l of lines.filter((x) => x.line === 0)) console.log(`  ${l.fn}: ${per(l.us)} ms, ${(Number(l.calls) / plans).toFixed(2)} calls`)
  console.log(`\ntop ${process.env.REPLAY_TOP ?? 15} lines, ms a plan:`)
  for (const l of lines.filter((x) => x.line > 0).slice(0, Number(process.env.REPLAY_TOP ?? 15))) {
    console.log(`  ${per(l.us)}  ${l.fn}:${l.line} x${(Number(l.calls) / plans).toFixed(2)}  ${l.src.slice(0, 110)}`)
  }
  const graph = await sql.unsafe<{ stack: string[]; calls: string; total: string; self: string }[]>(`
    select pl_profiler_get_stack(stack) as stack, call_count::text as calls, us_total::text as total, us_self::text as self
      from pl_profiler_callgraph_local() order by us_total desc`)
  console.log('\ncall graph (stack: calls a plan, total / self ms a plan):')
  for (const g of graph) {
    const names = g.stack.map((s) => s.replace(/^.*?=(\w+)\(.*$/, '$1').replace(/\(.*$/, ''))
    console.log(`  ${names.join(' > ')}: ${(Number(g.calls) / plans).toFixed(2)}, ${per(g.total)} / ${per(g.self)}`)
  }
}
await sql.end()
const callgrind = process.env.REPLAY_CALLGRIND
if (callgrind) {
  const out = `${callgrind}/cg.${pid}`
  for (let i = 0; i < 600 && !(existsSync(out) && /^totals: /m.test(readFileSync(out, 'utf8'))); i++) await sleep(100)
  const total = Number(readFileSync(out, 'utf8').match(/^totals: (\d+)/m)?.[1])
  console.log(`callgrind: backend ${pid} ran ${total} instructions, ${todo.length} calls measured after ${warmup} warm-up calls`)
}
