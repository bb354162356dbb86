import { randomUUID } from 'node:crypto'
import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http'
import { PROBLEM_CONTENT_TYPE, problemType } from './plugins/errors.js'

/**
 * Where the process is in its life: `starting` listens before the app and its database are
 * ready (a probe sees the process is up), `serving` hands every request to the app, `closing`
 * answers what is in flight and refuses the rest.
 */
export type Phase = 'starting' | 'serving' | 'closing'

/** Seconds a refused client is told to wait: another instance, or this one once started, answers. */
export const RETRY_AFTER_SECONDS = 1

export type Admission = { to: 'app' } | { to: 'live' } | { to: 'refuse'; detail: string }

/** What the gate does with a request in a phase: pure, so the rules are tested without a server. */
export function admit(phase: Phase, method: string | undefined, url: string | undefined): Admission {
  if (phase === 'serving') return { to: 'app' }
  const path = (url ?? '').split('?')[0]
  if (path === '/health/live' && (method === 'GET' || method === 'HEAD')) return { to: 'live' }
  return { to: 'refuse', detail: phase === 'starting' ? 'The service is starting: its database is not ready yet' : 'The service is shutting down' }
}

const REQUEST_ID = /^[A-Za-z0-9._-]{1,64}$/

/**
 * The process's HTTP front: listens before the app exists and stays in front of it, so that
 * start-up and shutdown answer like the app does (problem+json, a request id) whatever phase
 * the process is in. Busy keep-alive connections are told `Connection: close` once closing.
 */
export function createGate() {
  let phase: Phase = 'starting'
  let app: RequestListener | undefined
  const inFlight = new Set<ServerResponse>()

  const listener: RequestListener = (req: IncomingMessage, res: ServerResponse) => {
    const admission = admit(phase, req.method, req.url)
    if (admission.to === 'app') {
      inFlight.add(res)
      res.once('close', () => inFlight.delete(res))
      return app!(req, res)
    }
    if (phase === 'closing') res.setHeader('connection', 'close')
    const given = req.headers['x-request-id']
    const requestId = typeof given === 'string' && REQUEST_ID.test(given) ? given : randomUUID()
    res.setHeader('x-request-id', requestId)
    if (admission.to === 'live') {
      return send(res, 200, 'application/json; charset=utf-8', { status: 'ok' })
    }
    const body = { type: problemType('SERVICE_UNAVAILABLE'), title: 'Service unavailable', status: 503, detail: admission.detail, code: 'SERVICE_UNAVAILABLE', requestId }
    res.setHeader('retry-after', String(RETRY_AFTER_SECONDS))
    send(res, 503, PROBLEM_CONTENT_TYPE, body)
  }

  return {
    listener,
    get phase() {
      return phase
    },
    /** The app takes over every request from now on. */
    serve(handler: RequestListener) {
      app = handler
      phase = 'serving'
    },
    /** Refuses new requests; responses still to be written close their connection after them. */
    close() {
      phase = 'closing'
      for (const res of inFlight) if (!res.headersSent) res.setHeader('connection', 'close')
    },
  }
}

function send(res: ServerResponse, status: number, type: string, body: object): void {
  const text = JSON.stringify(body)
  res.writeHead(status, { 'content-type': type, 'content-length': Buffer.byteLength(text) }).end(text)
}
