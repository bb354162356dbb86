import { z } from 'zod'
import { isSupportedDate, isSupportedInstant, SUPPORTED_RANGE_TEXT } from '../../shared/date-bounds.js'
import { AppError, validationFailed } from '../../shared/errors.js'
import { localDate, startOfDayIn } from '../../shared/period.js'

const DATE = /^\d{4}-\d{2}-\d{2}$/
const PATH = 'body/asOf'

const invalidAsOf = (message: string) => new AppError(422, 'INVALID_AS_OF', 'Invalid asOf', `asOf: ${message}`, { errors: [{ path: PATH, message }] })

const outOfRange = () => validationFailed(`${PATH}: must be ${SUPPORTED_RANGE_TEXT}`, [{ path: PATH, message: `must be ${SUPPORTED_RANGE_TEXT}` }])

/**
 * asOf as an instant: a date is the start of that day in the program's zone; an instant needs an
 * offset. Malformed text is 422 INVALID_AS_OF; a well-formed date or instant outside the supported
 * calendar is 400 VALIDATION_FAILED on body/asOf, like every other date the service refuses.
 */
export function resolveAsOf(text: string | undefined, timezone: string, now: Date): Date {
  if (text === undefined) return now
  if (DATE.test(text)) {
    if (!z.iso.date().safeParse(text).success) throw invalidAsOf('not a calendar date')
    if (!isSupportedDate(text)) throw outOfRange()
    return startOfDayIn(text, timezone)
  }
  if (!z.iso.datetime({ offset: true }).safeParse(text).success) {
    throw invalidAsOf('expected YYYY-MM-DD or an ISO 8601 date-time with offset, e.g. 2026-03-15T08:00:00+07:00')
  }
  const at = new Date(text)
  if (Number.isNaN(at.getTime())) throw invalidAsOf('not a valid instant')
  if (!isSupportedInstant(at)) throw outOfRange()
  return at
}

/**
 * May a run as of `asOf` change live data? Not when it is later than now (a date later than
 * today in the program zone, or an instant still to come): it would expire points that are still
 * valid, review tiers early and grant birthdays before the day, and the real run on that day
 * would be a replay. Not when its local date is before the program's creation day: there is
 * nothing to run for. A dry run, which writes nothing, may be dated anywhere in the calendar.
 */
export function refuseRunDate(asOf: Date, now: Date, program: { createdAt: Date; timezone: string }): AppError | undefined {
  const runDate = localDate(asOf, program.timezone)
  if (asOf.getTime() > now.getTime()) {
    const today = localDate(now, program.timezone)
    return new AppError(
      422,
      'AS_OF_IN_FUTURE',
      'asOf is in the future',
      `asOf ${asOf.toISOString()} (${runDate}) is later than now (${now.toISOString()}, ${today} in ${program.timezone}): a job cannot run ahead of time; use dryRun to see what it would do`,
      { today, now: now.toISOString(), errors: [{ path: PATH, message: `must not be later than now (today is ${today})` }] },
    )
  }
  const created = localDate(program.createdAt, program.timezone)
  if (runDate < created) {
    return new AppError(422, 'AS_OF_BEFORE_PROGRAM', 'asOf is before the program existed', `asOf ${runDate} is before the program was created (${created} in ${program.timezone})`, {
      programCreatedOn: created,
      errors: [{ path: PATH, message: `must not be before ${created}, the day the program was created` }],
    })
  }
  return undefined
}
