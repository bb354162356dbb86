/**
 * Committed events wake the dispatchers of this process at once instead of at their next poll.
 * Listeners are the running dispatchers; with none (tests, dispatcher off) a nudge does nothing.
 */
const listeners = new Set<() => void>()

export function nudgeDispatchers(): void {
  for (const listener of listeners) listener()
}

export function onNudge(listener: () => void): () => void {
  listeners.add(listener)
  return () => listeners.delete(listener)
}
