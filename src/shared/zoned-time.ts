/** Wall-clock time in an IANA zone, with no library: Intl gives the parts, an offset search gives the inverse. */
export interface ZonedParts {
  year: number
  month: number
  day: number
  hour: number
  minute: number
  second: number
}

const formatters = new Map<string, Intl.DateTimeFormat>()

function formatterOf(timeZone: string): Intl.DateTimeFormat {
  let f = formatters.get(timeZone)
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
    })
    formatters.set(timeZone, f)
  }
  return f
}

function formattedParts(at: Date, timeZone: string): ZonedParts {
  const parts: Record<string, number> = {}
  for (const p of formatterOf(timeZone).formatToParts(at)) if (p.type !== 'literal') parts[p.type] = Number(p.value)
  return { year: parts.year!, month: parts.month!, day: parts.day!, hour: parts.hour! % 24, minute: parts.minute!, second: parts.second! }
}

const MINUTE_MS = 60_000

/**
 * The zone's offset (whole seconds, in ms) throughout each UTC minute asked for, or null when it
 * changes within that minute. formatToParts costs tens of microseconds and a sale asked it several
 * times (its receipt number, its lots' expiry): every later call in the same minute and zone is
 * arithmetic. Bounded: cleared when full.
 */
const minuteOffsets = new Map<string, number | null>()

const offsetOfSecond = (t: number, timeZone: string) => {
  const p = formattedParts(new Date(t), timeZone)
  return Date.UTC(p.year, p.month - 1, p.day, p.hour, p.minute, p.second) - Math.floor(t / 1000) * 1000
}

export function zonedParts(at: Date, timeZone: string): ZonedParts {
  const t = at.getTime()
  if (!Number.isFinite(t)) return formattedParts(at, timeZone)
  const start = Math.floor(t / MINUTE_MS) * MINUTE_MS
  const key = `${timeZone} ${start}`
  let offset = minuteOffsets.get(key)
  if (offset === undefined) {
    const first = offsetOfSecond(start, timeZone)
    offset = first === offsetOfSecond(start + MINUTE_MS - 1, timeZone) ? first : null
    if (minuteOffsets.size >= 10_000) minuteOffsets.clear()
    minuteOffsets.set(key, offset)
  }
  if (offset === null) return formattedParts(at, timeZone)
  const local = new Date(t + offset)
  return {
    year: local.getUTCFullYear(),
    month: local.getUTCMonth() + 1,
    day: local.getUTCDate(),
    hour: local.getUTCHours(),
    minute: local.getUTCMinutes(),
    second: local.getUTCSeconds(),
  }
}

/** The zone's offset from UTC at `t` (ms since the epoch), in ms: what its clock shows minus UTC. */
function offsetAt(t: number, timeZone: string): number {
  const p = zonedParts(new Date(t), timeZone)
  return Date.UTC(p.year, p.month - 1, p.day, p.hour, p.minute, p.second) - Math.floor(t / 1000) * 1000
}

const DAY_MS = 86_400_000

/**
 * The instant at which the zone's clock shows `local`. When a change of offset repeats it (clocks
 * going back), the earlier instant; when the change skips it (clocks going forward, or a skipped
 * day), the instant the clocks jump, so the start of a day is always the first instant of that day.
 * The candidate offsets are the zone's offsets a day either side: a local time lies within 14 h of
 * UTC, and no zone changes its offset twice within two days. Offsets may have seconds (local mean time).
 */
export function zonedToUtc(local: Omit<ZonedParts, 'second'> & { second?: number }, timeZone: string): Date {
  const wall = Date.UTC(local.year, local.month - 1, local.day, local.hour, local.minute, local.second ?? 0)
  const offsets = [offsetAt(wall - DAY_MS, timeZone), offsetAt(wall + DAY_MS, timeZone)]
  const shownAt = offsets.map((o) => wall - o).filter((t) => offsetAt(t, timeZone) === wall - t)
  if (shownAt.length > 0) return new Date(Math.min(...shownAt))
  // Skipped: the jump lies between the instants the two offsets give; find its second.
  let before = wall - Math.max(...offsets)
  let after = wall - Math.min(...offsets)
  while (after - before > 1000) {
    const mid = before + Math.floor((after - before) / 2000) * 1000
    if (mid + offsetAt(mid, timeZone) >= wall) after = mid
    else before = mid
  }
  return new Date(after)
}

/** Minutes since local midnight. */
export const minuteOfDay = (p: ZonedParts) => p.hour * 60 + p.minute

export const pad2 = (n: number) => String(n).padStart(2, '0')
