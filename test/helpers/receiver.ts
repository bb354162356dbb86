import { createServer, type IncomingHttpHeaders, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'

export interface Received {
  headers: IncomingHttpHeaders
  body: string
  json: { type: string; timestamp: string; data: Record<string, unknown> }
  /** The status this request was answered with. */
  status: number
}

/**
 * A real HTTP webhook receiver on 127.0.0.1: records every request, answers 200 unless told
 * otherwise (`failNext(500, n)`, `down()` until `up()`), or holds requests open (`hang`).
 */
export class WebhookReceiver {
  readonly received: Received[] = []
  private failures: number[] = []
  private hanging = false
  private downStatus: number | undefined
  private waiters: { count: number; resolve: () => void }[] = []
  private server: Server

  private constructor(server: Server) {
    this.server = server
  }

  static async start(): Promise<WebhookReceiver> {
    let receiver: WebhookReceiver | undefined
    const server = createServer((req, res) => {
      let body = ''
      req.setEncoding('utf8')
      req.on('data', (c: string) => (body += c))
      req.on('end', () => receiver!.handle(req.headers, body, res))
    })
    receiver = new WebhookReceiver(server)
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    return receiver
  }

  get url(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/hooks`
  }

  failNext(status: number, times = 1): void {
    for (let i = 0; i < times; i++) this.failures.push(status)
  }

  /** Answers every request with `status` until `up()` (an outage of unknown length). */
  down(status = 503): void {
    this.downStatus = status
  }

  up(): void {
    this.downStatus = undefined
  }

  hang(): void {
    this.hanging = true
  }

  /** Resolves once `count` requests in all have arrived. */
  waitFor(count: number): Promise<void> {
    if (this.received.length >= count) return Promise.resolve()
    return new Promise((resolve) => this.waiters.push({ count, resolve }))
  }

  of(type: string, memberId?: string): Received[] {
    return this.received.filter((r) => r.json.type === type && (!memberId || (r.json.data as { memberId?: string }).memberId === memberId))
  }

  private handle(headers: IncomingHttpHeaders, body: string, res: import('node:http').ServerResponse): void {
    const status = this.hanging ? 0 : (this.downStatus ?? this.failures.shift() ?? 200)
    this.received.push({ headers, body, json: JSON.parse(body), status })
    for (const w of this.waiters.filter((w) => this.received.length >= w.count)) w.resolve()
    this.waiters = this.waiters.filter((w) => this.received.length < w.count)
    if (this.hanging) return
    res.writeHead(status, { 'content-type': 'text/plain' }).end(status === 200 ? 'ok' : 'boom')
  }

  async close(): Promise<void> {
    this.server.closeAllConnections()
    await new Promise((resolve) => this.server.close(resolve))
  }
}
