// pgbench's tpcb-like transaction (4 rows written: 3 updates and an insert) on the benchmark's
// server, in a scratch database beside it, as the yardstick of the purchase rate.
import { execFileSync } from 'node:child_process'

export function pgbenchTps(url: string, clients: number, seconds: number): number {
  const target = new URL(url)
  const db = `${target.pathname.slice(1)}_pgbench`
  const conn = ['-h', target.hostname, '-p', target.port || '5432', '-U', decodeURIComponent(target.username || 'postgres')]
  const psql = (command: string) => execFileSync('psql', [...conn, '-d', 'postgres', '-qc', command], { stdio: 'ignore' })
  psql(`drop database if exists "${db}"`)
  psql(`create database "${db}"`)
  try {
    execFileSync('pgbench', [...conn, '-i', '-q', '-s', '16', db], { stdio: 'ignore' })
    const out = execFileSync('pgbench', [...conn, '-b', 'tpcb-like', '-c', String(clients), '-j', '2', '-T', String(seconds), db], { encoding: 'utf8' })
    const tps = Number(/tps = ([0-9.]+)/.exec(out)?.[1])
    console.log(`pgbench tpcb-like, ${clients} clients, ${seconds} s: ${tps.toFixed(0)} TPS`)
    return tps
  } finally {
    psql(`drop database if exists "${db}"`)
  }
}
