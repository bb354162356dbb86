import { EventEmitter } from 'node:events'
import type { PlanData } from './apply.js'

// What the write paths report as they go, for the metrics plugin (src/plugins/metrics.ts) to count:
// one emitter per Database, so that the apps a test builds side by side count only their own.

export interface TelemetryEvents {
  /** A plan the executor applied (committed). */
  applied: [plan: PlanData]
  /** A job run that ended. */
  job: [run: { programId: string; job: string; status: 'succeeded' | 'failed' }]
  /** One webhook delivery attempt that ended: delivered, to be retried, or given up. */
  delivery: [attempt: { programId: string; outcome: 'succeeded' | 'retrying' | 'failed' }]
  /** A transaction or a group of plans that passed its deadline (answered 503). */
  deadline: []
}

export class Telemetry extends EventEmitter<TelemetryEvents> {}
