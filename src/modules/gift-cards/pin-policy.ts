// The wrong-PIN policy of a gift card, pure: PIN_MAX_FAILURES wrong PINs in a row lock the card's
// PIN checks for PIN_LOCK_MINUTES; a right PIN clears the count. Every check, right or wrong, is
// written to the card at the count its load saw (`expect`), so concurrent guesses are counted one
// after the other: a burst of guesses cannot get more than PIN_MAX_FAILURES answers a window.
export const PIN_MAX_FAILURES = 5
export const PIN_LOCK_MINUTES = 15

export interface PinState {
  pinFailures: number
  pinLockedUntil: Date | null
}

export type PinGate = { open: true; failures: number } | { open: false; retryAfterSeconds: number }

/** Whether a PIN may be checked now, and the failures that count (a lock that has ended starts a new count). */
export function pinGate(state: PinState, now: Date): PinGate {
  if (state.pinLockedUntil && state.pinLockedUntil.getTime() > now.getTime()) {
    return { open: false, retryAfterSeconds: Math.ceil((state.pinLockedUntil.getTime() - now.getTime()) / 1000) }
  }
  return { open: true, failures: state.pinLockedUntil ? 0 : state.pinFailures }
}

/** The card after a check: cleared when right; one more failure when wrong, the lock set (and the count restarted) at the limit. */
export function afterPinCheck(state: PinState, right: boolean, now: Date): PinState & { attemptsLeft: number } {
  if (right) return { pinFailures: 0, pinLockedUntil: null, attemptsLeft: PIN_MAX_FAILURES }
  const gate = pinGate(state, now)
  const failures = (gate.open ? gate.failures : 0) + 1
  if (failures >= PIN_MAX_FAILURES) return { pinFailures: 0, pinLockedUntil: new Date(now.getTime() + PIN_LOCK_MINUTES * 60_000), attemptsLeft: 0 }
  return { pinFailures: failures, pinLockedUntil: null, attemptsLeft: PIN_MAX_FAILURES - failures }
}
