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

export function zonedParts(at: Date, timeZone: string): ZonedParts {
  const parts: Record<string, number> = {}
  for (const p of formatterOf(timeZone).formatToParts(at)) if (p.type !== 'literal') parts[p.type] = Number(p.value)
  return { year: parts.year!, month: parts.month!, day: parts.day!, hour: parts.hour! % 24, minute: parts.minute!, second: parts.second! }
}

/** The instant at which the zone's clock shows `local` (the earlier one when a DST change repeats it). */
export function zonedToUtc(local: Omit<ZonedParts, 'second'> & { second?: number }, timeZone: string): Date {
  const asUtc = Date.UTC(local.year, local.month - 1, local.day, local.hour, local.minute, local.second ?? 0)
  let guess = asUtc
  // Two passes settle the offset, DST transitions included.
  for (let i = 0; i < 2; i++) {
    const p = zonedParts(new Date(guess), timeZone)
    const shown = Date.UTC(p.year, p.month - 1, p.day, p.hour, p.minute, p.second)
    guess += asUtc - shown
  }
  return new Date(guess)
}

/** Minutes since local midnight. */
export const minuteOfDay = (p: ZonedParts) => p.hour * 60 + p.minute

export const pad2 = (n: number) => String(n).padStart(2, '0')
