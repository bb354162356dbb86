import t from 'tap'
import { mkdtempSync, rmSync } from 'node:fs'
import { connect } from 'node:net'
import { Readable } from 'node:stream'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import postgres from 'postgres'
import { Client } from 'undici'
import { openDatabase } from '../../src/db/client.js'
import { onRealPostgres, testDatabaseUrl } from '../helpers/app.js'
import { ADMIN_ID, ADMIN_SECRET, freePort, ServiceProcess } from '../helpers/service.js'

// The service as its own process, started with the README's commands, on PGlite in a new data
// folder or on PostgreSQL (TEST_DATABASE_URL) under an application_name of its own, so that its
// sessions can be counted.
const START = [process.execPath, 'scripts/start.mjs']
const appName = `loyalty-lifecycle-${process.pid}`

function service(t: { teardown(fn: () => unknown): void }, command = START): ServiceProcess {
  const dataDir = mkdtempSync(join(tmpdir(), 'loyalty-lifecycle-'))
  t.teardown(() => rmSync(dataDir, { recursive: true, force: true }))
  const url = onRealPostgres ? `${testDatabaseUrl}${testDatabaseUrl!.includes('?') ? '&' : '?'}application_name=${appName}` : ''
  return new ServiceProcess(url, 0, { DATA_DIR: dataDir, MIGRATE_ON_START: 'true' }, command)
}

async function withPort(s: ServiceProcess): Promise<ServiceProcess> {
  Object.defineProperty(s, 'port', { value: await freePort() })
  return s
}

const exitOf = (s: ServiceProcess) => new Promise<{ code: number | null; at: number }>((resolve) => s.child!.once('exit', (code) => resolve({ code, at: performance.now() })))

t.test('while it starts, /health/live answers 200 and /health/ready 503 problem+json until the database is migrated', async (t) => {
  const s = await withPort(service(t))
  t.teardown(() => s.kill())
  s.spawn()
  const seen: string[] = []
  let refusal: Response | undefined
  for (let i = 0; i < 1500 && !seen.includes('ready 200'); i++) {
    const live = await fetch(`${s.base}/health/live`).then((r) => r.status, () => 0)
    const ready = await fetch(`${s.base}/health/ready`).catch(() => undefined)
    if (live === 200 && ready?.status === 503) refusal ??= ready
    const state = `live ${live}, ready ${ready?.status ?? 0}`
    if (seen.at(-1) !== state) seen.push(state)
    if (ready?.status === 200) seen.push('ready 200')
    await sleep(20)
  }
  t.comment(seen.join(' → '))
  t.ok(refusal, 'there was a moment with the liveness probe up and readiness refused')
  t.equal(refusal?.headers.get('content-type'), 'application/problem+json')
  t.equal(refusal?.headers.get('retry-after'), '1')
  t.match(await refusal?.json(), { status: 503, code: 'SERVICE_UNAVAILABLE', detail: /starting/ })
  t.ok(seen.includes('ready 200'), 'then it became ready')
  t.notOk(seen.some((x) => x.startsWith('live 200, ready 200') === false && x.startsWith('live 0, ready 200')), 'readiness never came before liveness')
})

t.test('SIGTERM under keep-alive load: in-flight answered with Connection: close, idle sockets closed at once, newcomers refused, database closed, exit 0', async (t) => {
  const s = await withPort(service(t))
  t.teardown(() => s.kill('SIGKILL'))
  await s.start()
  const exited = exitOf(s)
  const sessions = async () => {
    if (!onRealPostgres) return undefined
    const sql = postgres(testDatabaseUrl!, { max: 1, onnotice: () => {} })
    try {
      return Number((await sql`select count(*) as n from pg_stat_activity where application_name = ${appName}`)[0]!.n)
    } finally {
      await sql.end()
    }
  }

  // An idle keep-alive connection, and one busy with a token request whose body is still coming.
  const idle = new Client(s.base)
  t.teardown(() => idle.destroy().catch(() => {}))
  t.equal((await idle.request({ path: '/health/live', method: 'GET' }).then(async (r) => (await r.body.text(), r.statusCode))), 200)
  let idleClosedAt: number | undefined
  idle.on('disconnect', () => (idleClosedAt ??= performance.now()))

  const busy = new Client(s.base)
  t.teardown(() => busy.destroy().catch(() => {}))
  let finishBody!: () => void
  const bodyHeld = new Promise<void>((r) => (finishBody = r))
  const json = JSON.stringify({ grant_type: 'client_credentials', client_id: ADMIN_ID, client_secret: ADMIN_SECRET })
  const inFlight = busy.request({
    path: '/v1/oauth/token',
    method: 'POST',
    headers: { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(json)) },
    body: Readable.from(
      (async function* () {
        yield json.slice(0, 10)
        await bodyHeld
        yield json.slice(10)
      })(),
    ),
  })

  // A connection that has begun a request (headers not finished): it is busy, not idle.
  const late = connect(s.port, '127.0.0.1')
  await new Promise((r) => late.once('connect', r))
  late.write('GET /v1/programs HTTP/1.1\r\nHost: x\r\n')
  let lateAnswer = ''
  late.on('data', (d) => (lateAnswer += d.toString()))
  const lateEnded = new Promise((r) => late.once('close', r))

  // Keep-alive load: four clients asking for readiness in a loop until the service stops answering.
  const answers: number[] = []
  const load = Array.from({ length: 4 }, async () => {
    const c = new Client(s.base)
    try {
      for (;;) {
        const r = await c.request({ path: '/health/ready', method: 'GET' })
        const body = await r.body.text()
        answers.push(r.statusCode)
        if (r.statusCode === 503) t.match(JSON.parse(body), { code: 'SERVICE_UNAVAILABLE' }, 'a refusal during shutdown is our problem+json')
        else if (r.statusCode !== 200) t.fail(`unexpected ${r.statusCode} ${body}`)
      }
    } catch {
      // connection closed by the server: the load ends
    } finally {
      await c.destroy().catch(() => {})
    }
  })
  await sleep(300)
  const before = await sessions()
  if (onRealPostgres) t.ok(before! > 0, `the service holds ${before} sessions before SIGTERM`)

  const signalledAt = performance.now()
  s.child!.kill('SIGTERM')
  for (let i = 0; i < 100 && idleClosedAt === undefined; i++) await sleep(20)
  t.ok(idleClosedAt !== undefined, `the idle keep-alive connection was closed at once (${Math.round((idleClosedAt ?? NaN) - signalledAt)} ms)`)
  t.ok(s.alive, 'the process waits for the request in flight')
  const refused = await fetch(`${s.base}/health/live`).then(() => 'answered', (err: Error & { cause?: { code?: string } }) => err.cause?.code ?? 'failed')
  t.equal(refused, 'ECONNREFUSED', 'a new connection is refused: the listener is closed')

  late.write('\r\n')
  await lateEnded
  const [head, body] = lateAnswer.split('\r\n\r\n')
  t.match(head, /^HTTP\/1\.1 503/, 'a request that arrives during shutdown is refused 503')
  t.match(head, /content-type: application\/problem\+json/i)
  t.match(head, /retry-after: 1/i)
  t.match(head, /connection: close/i)
  t.match(JSON.parse(body!), { status: 503, code: 'SERVICE_UNAVAILABLE', detail: /shutting down/ })

  finishBody()
  const answer = await inFlight
  const token = (await answer.body.json()) as { access_token?: string }
  const answeredAt = performance.now()
  t.equal(answer.statusCode, 200, 'the request in flight was answered')
  t.ok(token.access_token, 'with its token')
  t.equal(answer.headers.connection, 'close', 'and told its keep-alive connection closes')

  const { code, at } = await exited
  await Promise.all(load)
  t.equal(code, 0, 'the process exits 0')
  t.ok(at - answeredAt < 3000, `it exits soon after the last answer (${Math.round(at - answeredAt)} ms)`)
  t.ok(answers.filter((x) => x === 200).length > 0, `the keep-alive load was answered (${answers.length} answers)`)
  if (onRealPostgres) t.equal(await sessions(), 0, 'no session of the service remains: the pool was closed')
  else {
    const reopened = await openDatabase({ dataDir: s.env.DATA_DIR!, poolSize: 1 })
    t.ok(await reopened.db.execute('select count(*) from api_clients' as never).then(() => true), 'the data folder opens again: the database was closed')
    await reopened.close()
  }
})

t.test('SIGTERM to `npm start` stops the server: nothing is left running', async (t) => {
  const s = await withPort(service(t, ['npm', 'start']))
  t.teardown(() => s.kill('SIGKILL'))
  await s.start()
  let line: string | undefined
  for (let i = 0; i < 100 && !(line = s.logs.find((l) => l.includes('"msg":"ready"'))); i++) await sleep(50)
  const serverPid = Number(JSON.parse(line!).pid)
  t.not(serverPid, s.child!.pid, 'the server runs in a process npm started')
  const exited = exitOf(s)
  s.child!.kill('SIGTERM')
  await exited
  let alive = true
  for (let i = 0; i < 100 && alive; i++) {
    try {
      process.kill(serverPid, 0)
      await sleep(50)
    } catch {
      alive = false
    }
  }
  t.notOk(alive, 'the server process is gone')
  t.equal(await fetch(`${s.base}/health/live`).then(() => 'answered', () => 'refused'), 'refused', 'nothing answers on its port')
})
