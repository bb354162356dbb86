/**
 * A settable clock for startTestApp's `now`: a test lives on the day it needs (the job route
 * refuses runs later than the service's now). Unset, it is the system clock.
 */
export class TestClock {
  private at: Date | undefined
  readonly now = (): Date => this.at ?? new Date()

  set(at: Date): void {
    this.at = at
  }

  /** An instant as it is; a date YYYY-MM-DD at 12:00 UTC, which is that date in every zone from UTC-12 to UTC+11. */
  setTo(asOf: string): void {
    this.at = new Date(/^\d{4}-\d{2}-\d{2}$/.test(asOf) ? `${asOf}T12:00:00Z` : asOf)
  }
}
