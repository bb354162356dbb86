import t from 'tap'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { guardedLookup, postJson } from '../../src/modules/events/http.js'

const hanging = createServer(() => {})
const answering = createServer((req, res) => {
  let body = ''
  req.on('data', (c) => (body += c))
  req.on('end', () => res.writeHead(202).end(`got ${body.length} bytes ${req.headers['content-type']} ${req.headers['webhook-id']} ` + 'x'.repeat(1000)))
})
for (const s of [hanging, answering]) await new Promise<void>((r) => s.listen(0, '127.0.0.1', r))
t.teardown(() => {
  hanging.closeAllConnections()
  hanging.close()
  answering.close()
})
const url = (s: typeof hanging) => `http://127.0.0.1:${(s.address() as AddressInfo).port}/hook`

t.test('a POST reports the status and the start of the answer', async (t) => {
  const r = await postJson(url(answering), { 'webhook-id': 'evt_1' }, '{"a":1}', { timeoutMs: 5000, allowPrivate: true })
  t.equal(r.statusCode, 202)
  t.match(r.body, /^got 7 bytes application\/json evt_1 x+$/)
  t.equal(r.body!.length, 500, 'kept to 500 characters')
  t.equal(r.error, undefined)
})

t.test('no answer within the timeout, a refused connection, an abort: results, never exceptions', async (t) => {
  t.match(await postJson(url(hanging), {}, '{}', { timeoutMs: 100, allowPrivate: true }), { error: 'no answer within 100 ms', statusCode: undefined })
  const closed = createServer()
  await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r))
  const port = (closed.address() as AddressInfo).port
  await new Promise((r) => closed.close(r))
  t.match(await postJson(`http://127.0.0.1:${port}/`, {}, '{}', { timeoutMs: 1000, allowPrivate: true }), { error: /ECONNREFUSED/ })
  const abort = new AbortController()
  const pending = postJson(url(hanging), {}, '{}', { timeoutMs: 60_000, allowPrivate: true, signal: abort.signal })
  abort.abort()
  t.match(await pending, { error: /abort/i })
})

t.test('in production, private targets are refused before and after DNS', async (t) => {
  t.match(await postJson(url(answering), {}, '{}', { timeoutMs: 1000, allowPrivate: false }), { error: 'refused: must be an https URL' })
  t.match(await postJson('https://10.0.0.1/x', {}, '{}', { timeoutMs: 1000, allowPrivate: false }), { error: /refused: must not point to a private/ })
  const err = await new Promise<NodeJS.ErrnoException | null>((resolve) => guardedLookup('localhost', {}, (e) => resolve(e)))
  t.match(err, { code: 'EPRIVATEADDRESS', message: /localhost resolves to a private address/ }, 'a name resolving to loopback is refused')
})
