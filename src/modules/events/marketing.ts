import { minuteOfDay, zonedParts, zonedToUtc } from '../../shared/zoned-time.js'
import type { NotificationRules } from '../programs/notification-rules.js'

// The anti-spam rules for marketing events (Decree 91/2020), pure: the sending window on the
// program's clock and the cap per member per 24 hours. Consent and Do-Not-Call are read from the
// member row by the callers.

export type SendingWindow = Pick<NotificationRules['marketing'], 'sendFrom' | 'sendUntil'>

const minutesOf = (hhmm: string) => Number(hhmm.slice(0, 2)) * 60 + Number(hhmm.slice(3, 5))

export function insideWindow(at: Date, timeZone: string, window: SendingWindow): boolean {
  const m = minuteOfDay(zonedParts(at, timeZone))
  const from = minutesOf(window.sendFrom)
  const until = minutesOf(window.sendUntil)
  return from < until ? m >= from && m < until : m >= from || m < until
}

/** `at` itself when the window is open, else the moment it next opens (on the program's clock). */
export function nextSendingTime(at: Date, timeZone: string, window: SendingWindow): Date {
  if (insideWindow(at, timeZone, window)) return at
  const p = zonedParts(at, timeZone)
  const from = minutesOf(window.sendFrom)
  // Outside the window and before its opening time: it opens later today; otherwise tomorrow.
  const today = minuteOfDay(p) < from
  const day = new Date(Date.UTC(p.year, p.month - 1, p.day + (today ? 0 : 1)))
  return zonedToUtc({ year: day.getUTCFullYear(), month: day.getUTCMonth() + 1, day: day.getUTCDate(), hour: Math.floor(from / 60), minute: from % 60 }, timeZone)
}

const DAY_MS = 24 * 3_600_000

/**
 * Under the cap: null. At the cap: when a slot frees, i.e. when the oldest of the last `max`
 * messages leaves the 24-hour window. `sentAt` are the member's marketing sends of the last 24 h.
 */
export function capReleaseTime(sentAt: Date[], max: number, now: Date): Date | null {
  const recent = sentAt.filter((t) => now.getTime() - t.getTime() < DAY_MS).sort((a, b) => b.getTime() - a.getTime())
  if (recent.length < max) return null
  if (max === 0) return new Date(now.getTime() + DAY_MS)
  return new Date(recent[max - 1]!.getTime() + DAY_MS)
}

/** The end of the local day of `at` (a birthday greeting is for that day). */
export function endOfLocalDay(at: Date, timeZone: string): Date {
  const p = zonedParts(at, timeZone)
  const next = new Date(Date.UTC(p.year, p.month - 1, p.day + 1))
  return zonedToUtc({ year: next.getUTCFullYear(), month: next.getUTCMonth() + 1, day: next.getUTCDate(), hour: 0, minute: 0 }, timeZone)
}
