/**
 * The calendar the service supports. Every date or instant a caller sends must fall in these
 * years (read in the program's zone for a date, in UTC for an instant); outside them the request
 * is refused with 400 VALIDATION_FAILED naming the field. 1900 keeps every living member's
 * birthday; 2999 is far past any business date and keeps every derived bound (the end of a day,
 * a month, a window) inside what JavaScript and PostgreSQL both represent exactly.
 */
export const FIRST_SUPPORTED_YEAR = 1900
export const LAST_SUPPORTED_YEAR = 2999

export const FIRST_SUPPORTED_DATE = `${FIRST_SUPPORTED_YEAR}-01-01`
export const LAST_SUPPORTED_DATE = `${LAST_SUPPORTED_YEAR}-12-31`

export const SUPPORTED_RANGE_TEXT = `between ${FIRST_SUPPORTED_DATE} and ${LAST_SUPPORTED_DATE}`

/** True when the calendar date YYYY-MM-DD lies in the supported years. */
export const isSupportedDate = (date: string): boolean => date >= FIRST_SUPPORTED_DATE && date <= LAST_SUPPORTED_DATE

/** True when the instant's UTC year lies in the supported years. */
export function isSupportedInstant(at: Date): boolean {
  const year = at.getUTCFullYear()
  return !Number.isNaN(year) && year >= FIRST_SUPPORTED_YEAR && year <= LAST_SUPPORTED_YEAR
}
