import fp from 'fastify-plugin'
import { composeReceiptsWith } from '../modules/events/compose.js'
import { createDispatcher, type Dispatcher } from '../modules/events/dispatcher.js'
import { onNudge } from '../modules/events/signal.js'
import { webhookReceipt } from '../modules/receipts/webhook.js'

declare module 'fastify' {
  interface FastifyInstance {
    /** The webhook dispatcher: tests call dispatchOnce(now); it polls only when WEBHOOK_DISPATCH_INTERVAL_MS > 0. */
    dispatcher: Dispatcher
  }
}

/** Delivers outbox events to webhooks in process; safe with several instances (SKIP LOCKED claims). */
export default fp(
  async (app) => {
    const { webhooks, publicBaseUrl } = app.config
    // Events whose payload names a receipt carry it; the events module reads it through receipts.
    composeReceiptsWith(webhookReceipt)
    const dispatcher = createDispatcher({ database: app.db, publicBaseUrl, allowPrivateUrls: webhooks.allowPrivateUrls, log: app.log.child({ job: 'webhooks' }) })
    app.decorate('dispatcher', dispatcher)
    if (webhooks.dispatchIntervalMs > 0) {
      const unsubscribe = onNudge(() => dispatcher.kick())
      app.addHook('onReady', async () => dispatcher.start(webhooks.dispatchIntervalMs))
      app.addHook('onClose', async () => {
        unsubscribe()
        await dispatcher.stop()
      })
    } else {
      app.addHook('onClose', async () => dispatcher.stop())
    }
  },
  { name: 'dispatcher', dependencies: ['db'] },
)
