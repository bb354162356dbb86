import t from 'tap'
import { admit } from '../../src/lifecycle.js'

t.test('while starting only the liveness probe is answered; the rest, readiness included, is refused', async (t) => {
  t.same(admit('starting', 'GET', '/health/live'), { to: 'live' })
  t.same(admit('starting', 'HEAD', '/health/live?probe=1'), { to: 'live' })
  t.match(admit('starting', 'GET', '/health/ready'), { to: 'refuse', detail: /starting/ })
  t.match(admit('starting', 'POST', '/v1/purchases'), { to: 'refuse', detail: /starting/ })
  t.match(admit('starting', 'POST', '/health/live'), { to: 'refuse' }, 'only GET and HEAD are a probe')
})

t.test('serving hands everything to the app, the probes included', async (t) => {
  for (const url of ['/health/live', '/health/ready', '/v1/purchases', '/nope']) t.same(admit('serving', 'GET', url), { to: 'app' }, url)
})

t.test('closing refuses every new request but the liveness probe', async (t) => {
  t.same(admit('closing', 'GET', '/health/live'), { to: 'live' })
  t.match(admit('closing', 'GET', '/health/ready'), { to: 'refuse', detail: /shutting down/ })
  t.match(admit('closing', 'POST', '/v1/purchases'), { to: 'refuse', detail: /shutting down/ })
})
