// Which birthdays a run of the birthday job celebrates: pure calendar arithmetic on YYYY-MM-DD
// strings (the program's local dates), unit-tested without a database.

/** How many days before the run date a missed birthday is still celebrated (a late or missed run). */
export const CATCH_UP_DAYS = 7

export const isLeapYear = (year: number) => (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0

const parse = (date: string) => date.split('-').map(Number) as [number, number, number]

/** `date` plus `days` (negative: earlier), as YYYY-MM-DD. */
export function addDays(date: string, days: number): string {
  const [y, m, d] = parse(date)
  return new Date(Date.UTC(y, m - 1, d + days)).toISOString().slice(0, 10)
}

/** The day a birthday is celebrated in `year`: the same month and day; Feb 29 on Feb 28 when `year` is not a leap year. */
export function celebratedOn(birthday: string, year: number): string {
  const monthDay = birthday.slice(5)
  const shown = monthDay === '02-29' && !isLeapYear(year) ? '02-28' : monthDay
  return `${String(year).padStart(4, '0')}-${shown}`
}

export interface CelebrationDay {
  /** The local date, YYYY-MM-DD. */
  date: string
  /** The birthday year it counts for (a catch-up over New Year celebrates last year's). */
  year: number
  /** Birthdays (MM-DD) celebrated that day: Feb 28 of a common year also celebrates Feb 29. */
  monthDays: string[]
}

/** The days one run celebrates: the run date and the `catchUpDays` before it, oldest first. */
export function celebrationWindow(runDate: string, catchUpDays = CATCH_UP_DAYS): CelebrationDay[] {
  const days: CelebrationDay[] = []
  for (let back = catchUpDays; back >= 0; back--) {
    const date = addDays(runDate, -back)
    const year = Number(date.slice(0, 4))
    const monthDay = date.slice(5)
    days.push({ date, year, monthDays: monthDay === '02-28' && !isLeapYear(year) ? ['02-28', '02-29'] : [monthDay] })
  }
  return days
}
