// What one dispatcher pass did: both halves (fan-out.ts, deliver.ts) count into it, so it lives
// apart from either of them (they would otherwise import each other).

export interface DispatchReport {
  dispatched: number
  suppressed: number
  postponed: number
  delivered: number
  failedAttempts: number
  exhausted: number
}

export const emptyReport = (): DispatchReport => ({ dispatched: 0, suppressed: 0, postponed: 0, delivered: 0, failedAttempts: 0, exhausted: 0 })
