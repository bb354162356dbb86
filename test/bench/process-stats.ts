// What the benchmarks read about a process from /proc (Linux): resident memory and CPU time.
import { readFileSync } from 'node:fs'

/** Resident memory of a process in MiB: current and peak (high-water mark). */
export function memoryOf(pid: number): { rss: number; peak: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8')
  const kib = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN)
  return { rss: kib('VmRSS') / 1024, peak: kib('VmHWM') / 1024 }
}

/** CPU seconds (user + system) a process has used, from /proc/<pid>/stat (clock ticks of 1/100 s). */
export function cpuSecondsOf(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ')
  return (Number(fields[11]) + Number(fields[12])) / 100
}

/** Samples a process's resident memory every 25 ms until stopped: the most it reached, in MiB. */
export function sampleMemory(pid: number): { stop: () => { before: number; max: number } } {
  const before = memoryOf(pid).rss
  let max = before
  const timer = setInterval(() => {
    max = Math.max(max, memoryOf(pid).rss)
  }, 25)
  return {
    stop: () => {
      clearInterval(timer)
      return { before, max: Math.max(max, memoryOf(pid).rss) }
    },
  }
}

export const mib = (n: number) => `${n.toFixed(0)} MiB`

/** The machine line every benchmark prints first. */
export async function machineLine(): Promise<string> {
  const [load] = readFileSync('/proc/loadavg', 'utf8').split(' ')
  return `machine: ${(await import('node:os')).cpus().length} CPUs, load average ${load} at start`
}
