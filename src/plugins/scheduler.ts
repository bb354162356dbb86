import fp from 'fastify-plugin'
import { runScheduledJobs, type TickOptions, type TickReport } from '../modules/jobs/schedule.js'

declare module 'fastify' {
  interface FastifyInstance {
    /** The in-process schedule: runs on its own every JOBS_INTERVAL_SECONDS (0: never); tests call tick(now). */
    scheduler: { tick(now: Date, options?: Omit<TickOptions, 'shouldStop'>): Promise<TickReport> }
  }
}

/** How long closing waits for a tick in progress before closing anyway (the run is retried: jobs are idempotent). */
const CLOSE_WAIT_MS = 5000

/**
 * Runs the daily jobs of every program and the expired-holds sweep in process; safe when several
 * instances do it at once (daily runs are claimed by program, job and local date; the sweep voids
 * each purchase once behind its row lock).
 */
export default fp(
  async (app) => {
    const log = app.log.child({ component: 'scheduler' })
    const seen = new Map<string, string>()
    let stopping = false
    let current: Promise<unknown> | undefined

    const tick = (now: Date, options: Omit<TickOptions, 'shouldStop'> = {}) => runScheduledJobs(app.db, log, now, { ...options, shouldStop: () => stopping }, seen)
    app.decorate('scheduler', { tick })

    const seconds = app.config.jobs.intervalSeconds
    let timer: NodeJS.Timeout | undefined
    if (seconds > 0) {
      app.addHook('onReady', async () => {
        timer = setInterval(() => {
          if (current || stopping) return
          current = tick(app.now())
            .catch((err: unknown) => log.error({ err }, 'scheduler tick failed'))
            .finally(() => {
              current = undefined
            })
        }, seconds * 1000)
        timer.unref()
      })
    }
    app.addHook('onClose', async () => {
      stopping = true
      if (timer) clearInterval(timer)
      if (!current) return
      let wait: NodeJS.Timeout | undefined
      await Promise.race([current, new Promise<void>((resolve) => (wait = setTimeout(resolve, CLOSE_WAIT_MS).unref()))])
      clearTimeout(wait)
    })
  },
  { name: 'scheduler', dependencies: ['db'] },
)
