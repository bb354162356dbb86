import fp from 'fastify-plugin'
import { voidExpiredHolds } from '../modules/jobs/void-expired-holds.js'

/** Runs the periodic jobs in process; each is safe when several instances run it at once. */
export default fp(
  async (app) => {
    const seconds = app.config.jobs.intervalSeconds
    if (seconds === 0) return
    let running = false
    const timer = setInterval(() => {
      if (running) return
      running = true
      voidExpiredHolds(app.db, new Date())
        .then(({ voided }) => voided > 0 && app.log.info({ job: 'void-expired-holds', voided }, 'job ran'))
        .catch((err: unknown) => app.log.error({ err, job: 'void-expired-holds' }, 'job failed'))
        .finally(() => {
          running = false
        })
    }, seconds * 1000)
    timer.unref()
    app.addHook('onClose', async () => clearInterval(timer))
  },
  { name: 'scheduler', dependencies: ['db'] },
)
