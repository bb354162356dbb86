import { generateKeyPairSync } from 'node:crypto'
import type { FastifyInstance, InjectOptions, LightMyRequestResponse } from 'fastify'
import { buildApp } from '../../src/app.js'
import type { Config } from '../../src/config.js'
import { openDatabase, type Database } from '../../src/db/client.js'
import { migrateDatabase } from '../../src/db/migrate.js'
import { migratedTemplate } from './pglite-template.js'
import { checkAnswers } from './contract-hooks.js'
import { idemKey } from './pos.js'

export const ADMIN = { clientId: 'test-admin', clientSecret: 'test-admin-secret-0123456789abcdef' }

/** Real PostgreSQL when TEST_DATABASE_URL is set (migrated once by test/setup/migrate.ts), else in-memory PGlite. */
export const testDatabaseUrl = process.env.TEST_DATABASE_URL || undefined
export const onRealPostgres = testDatabaseUrl !== undefined

const signingKeyPem = generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }).toString()

export function testConfig(overrides: Partial<Config> = {}): Config {
  return {
    port: 0,
    host: '127.0.0.1',
    logLevel: process.env.TEST_LOG_LEVEL ?? 'silent',
    // Sales as plans: the suite drives the executor's path (every captured sale, by id, phone or card); the pipelined one is held sales with coupons or tiers.
    database: { url: testDatabaseUrl, dataDir: 'memory://', poolSize: 10, migrateOnStart: false },
    admin: { ...ADMIN, usingDevDefaults: false },
    tokens: { issuer: 'loyalty-ledger', audience: 'loyalty-ledger-api', ttlSeconds: 3600, signingKeyPem },
    http: { bodyLimit: 1024 * 1024, trustProxy: false },
    jobs: { intervalSeconds: 0 },
    // Off unless a test turns it on: every file drives many requests through one client.
    rateLimit: { perMinute: 0, tokenFailuresPerMinute: 10_000 },
    publicBaseUrl: 'https://receipts.example.test',
    // The dispatcher is off in tests; a test calls app.dispatcher.dispatchOnce(now) or turns it on.
    webhooks: { dispatchIntervalMs: 0, allowPrivateUrls: true },
    ...overrides,
  }
}

export async function openTestDatabase(): Promise<Database> {
  if (onRealPostgres) return openDatabase({ url: testDatabaseUrl, dataDir: 'memory://', poolSize: 10 })
  return openPgliteTestDatabase(10)
}

/** An in-memory PGlite of its own, whatever the suite runs on, started from the migrated template. */
export async function openPgliteTestDatabase(poolSize: number): Promise<Database> {
  const database = await openDatabase({ dataDir: 'memory://', poolSize, loadDataDir: await migratedTemplate() })
  await migrateDatabase(database) // already migrated: checks that nothing is missing
  return database
}

export interface Teardown {
  teardown(fn: () => unknown): void
}

/** One database and one app per test file; both close when the file's tests end. */
export async function startTestApp(t: Teardown, overrides: Partial<Config> = {}, options: { now?: () => Date } = {}): Promise<TestApp> {
  const database = await openTestDatabase()
  const app = await buildApp(testConfig(overrides), { database, now: options.now })
  checkAnswers(app, t)
  await app.ready()
  t.teardown(async () => {
    await app.close()
    await database.close()
  })
  return new TestApp(app, database)
}

export interface ProgramFixture {
  id: string
  currency: string
  /** A token of a client of this program holding every program scope. */
  token: string
}

export class TestApp {
  private adminTokenValue?: string
  constructor(
    readonly app: FastifyInstance,
    readonly database: Database,
  ) {}

  inject(opts: InjectOptions): Promise<LightMyRequestResponse> {
    return this.app.inject(opts)
  }

  /** A request with a bearer token and a JSON body. */
  call(token: string | undefined, method: InjectOptions['method'], url: string, body?: unknown, headers: Record<string, string> = {}) {
    return this.app.inject({
      method,
      url,
      headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...headers },
      ...(body === undefined ? {} : { payload: body as InjectOptions['payload'] }),
    })
  }

  async token(clientId: string, clientSecret: string, scope?: string): Promise<string> {
    const res = await this.inject({
      method: 'POST',
      url: '/v1/oauth/token',
      payload: { grant_type: 'client_credentials', client_id: clientId, client_secret: clientSecret, ...(scope ? { scope } : {}) },
    })
    if (res.statusCode !== 200) throw new Error(`token request failed: ${res.statusCode} ${res.body}`)
    return res.json().access_token as string
  }

  async adminToken(): Promise<string> {
    const { clientId, clientSecret } = this.app.config.admin
    this.adminTokenValue ??= await this.token(clientId, clientSecret)
    return this.adminTokenValue
  }

  async createProgram(body: Record<string, unknown> = {}): Promise<ProgramFixture> {
    const res = await this.call(await this.adminToken(), 'POST', '/v1/programs', { name: 'Test program', currency: 'VND', ...body }, { 'idempotency-key': idemKey() })
    if (res.statusCode !== 201) throw new Error(`program creation failed: ${res.statusCode} ${res.body}`)
    const program = res.json()
    const client = await this.createClient(program.id, ['program:manage', 'pos', 'members:read', 'members:write', 'balances:read', 'finance:read'])
    return { id: program.id, currency: program.currency, token: client.token }
  }

  async createClient(programId: string, scopes: string[], name = 'test client'): Promise<{ clientId: string; clientSecret: string; token: string }> {
    const res = await this.call(await this.adminToken(), 'POST', `/v1/programs/${programId}/clients`, { name, scopes }, { 'idempotency-key': idemKey() })
    if (res.statusCode !== 201) throw new Error(`client creation failed: ${res.statusCode} ${res.body}`)
    const { clientId, clientSecret } = res.json()
    return { clientId, clientSecret, token: await this.token(clientId, clientSecret) }
  }

  /** Enrols a member with a fresh valid Vietnamese mobile number unless one is given. */
  async enrol(token: string, body: Record<string, unknown> = {}): Promise<{ id: string; phone: string }> {
    const res = await this.call(token, 'POST', '/v1/members', { name: 'Nguyễn Văn A', phone: uniqueVnMobile(), ...body }, { 'idempotency-key': idemKey() })
    if (res.statusCode !== 201) throw new Error(`enrolment failed: ${res.statusCode} ${res.body}`)
    return res.json()
  }

  /** GET /v1/ledger/verify with a program's token: asserts it is clean, naming the discrepancies when it is not. */
  async assertLedgerClean(t: { ok(value: unknown, message: string): unknown }, token: string, what = 'ledger verify clean'): Promise<void> {
    const report = (await this.call(token, 'GET', '/v1/ledger/verify')).json()
    t.ok(report.ok, `${what}: ${JSON.stringify(report.discrepancies)}`)
  }
}

let phoneCounter = Math.floor(Math.random() * 5_000_000)
/** Valid Viettel numbers (098xxxxxxx), unique within a test process. */
export function uniqueVnMobile(): string {
  phoneCounter += 1
  return `098${String(phoneCounter % 10_000_000).padStart(7, '0')}`
}

export type { FastifyInstance }
