import type { TestApp } from './app.js'

/**
 * Registers a webhook endpoint for the program (every event type unless `eventTypes`): the outbox
 * writes a transactional event only when an endpoint may receive it. The dispatcher is off in
 * tests, so nothing is sent to the URL unless a test dispatches.
 */
export async function subscribeWebhook(ctx: TestApp, token: string, body: { url?: string; eventTypes?: string[] } = {}): Promise<{ id: string; secret: string }> {
  const res = await ctx.call(token, 'POST', '/v1/webhooks', { url: 'https://hooks.example.test/loyalty', ...body })
  if (res.statusCode !== 201) throw new Error(`webhook endpoint: ${res.statusCode} ${res.body}`)
  return res.json()
}
