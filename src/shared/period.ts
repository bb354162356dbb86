import { z } from 'zod'
import { isSupportedDate, isSupportedInstant, SUPPORTED_RANGE_TEXT } from './date-bounds.js'
import { validationFailed } from './errors.js'
import { pad2, zonedParts, zonedToUtc } from './zoned-time.js'

const DATE = /^\d{4}-\d{2}-\d{2}$/

/**
 * A bound of a reporting period: a calendar date (read in the program's time zone) or an exact
 * instant with an offset. Periods are half-open, [from, to): a date as `from` is the start of that
 * day; a date as `to` or `asOf` is the end of that day (the start of the next), so
 * `from=2025-01-01&to=2025-01-31` is the whole of January.
 */
export const periodBoundSchema = z
  .union([z.iso.date(), z.iso.datetime({ offset: true })])
  .refine((bound) => (DATE.test(bound) ? isSupportedDate(bound) : isSupportedInstant(new Date(bound))), `must be ${SUPPORTED_RANGE_TEXT}`)
  .describe(`YYYY-MM-DD in the program time zone, or an ISO 8601 instant with offset; ${SUPPORTED_RANGE_TEXT}`)

export interface Period {
  from: Date
  to: Date
}

/** The instant a calendar day starts in `tz`. */
export function startOfDayIn(date: string, tz: string): Date {
  const [year, month, day] = date.split('-').map(Number) as [number, number, number]
  return zonedToUtc({ year, month, day, hour: 0, minute: 0 }, tz)
}

function nextDay(date: string): string {
  const [y, m, d] = date.split('-').map(Number) as [number, number, number]
  const next = new Date(Date.UTC(y, m - 1, d + 1))
  return `${next.getUTCFullYear()}-${pad2(next.getUTCMonth() + 1)}-${pad2(next.getUTCDate())}`
}

/** A `from` bound as an instant: a date is the start of that day in `tz`. */
export const boundStart = (bound: string, tz: string): Date => (DATE.test(bound) ? startOfDayIn(bound, tz) : new Date(bound))

/** A `to` / `asOf` bound as an exclusive instant: a date is the end of that day in `tz`. */
export const boundEnd = (bound: string, tz: string): Date => (DATE.test(bound) ? startOfDayIn(nextDay(bound), tz) : new Date(bound))

/** Resolves `from`/`to` in the program's zone; `to` must be later than `from`. */
export function resolvePeriod(query: { from: string; to: string }, tz: string): Period {
  const from = boundStart(query.from, tz)
  const to = boundEnd(query.to, tz)
  if (to.getTime() <= from.getTime()) {
    throw validationFailed('to: must be later than from', [{ path: 'querystring/to', message: 'must be later than from' }])
  }
  return { from, to }
}

/** The calendar date of `instant` in `tz`, YYYY-MM-DD. */
export function localDate(instant: Date, tz: string): string {
  const p = zonedParts(instant, tz)
  return `${p.year}-${pad2(p.month)}-${pad2(p.day)}`
}
