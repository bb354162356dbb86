import { z } from 'zod'

/** Development credentials used only in embedded mode when none are configured. */
export const DEV_ADMIN_CLIENT_ID = 'admin'
export const DEV_ADMIN_CLIENT_SECRET = 'dev-admin-secret-change-me'

/**
 * 8 MiB: 500 sales of a few lines are about 0.5 MB of JSON; this leaves room for long names and
 * many lines (16 kB a sale on average) without letting one request hold much more memory.
 */
export const DEFAULT_BATCH_BODY_LIMIT = 8 * 1024 * 1024

const booleanFlag = z
  .enum(['true', 'false', '1', '0'])
  .transform((v) => v === 'true' || v === '1')

const envSchema = z.object({
  PORT: z.coerce.number().int().min(0).max(65535).default(3000),
  HOST: z.string().min(1).default('0.0.0.0'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  DATABASE_URL: z
    .string()
    .regex(/^postgres(ql)?:\/\//, 'must be a postgres:// or postgresql:// URL')
    .optional(),
  DATABASE_POOL_SIZE: z.coerce.number().int().min(1).max(200).default(10),
  DATABASE_TRANSACTION_TIMEOUT_MS: z.coerce.number().int().min(100).max(3_600_000).default(15_000),
  DATA_DIR: z.string().min(1).default('./.data'),
  MIGRATE_ON_START: booleanFlag.default(false),
  ADMIN_CLIENT_ID: z.string().min(1).max(100).optional(),
  ADMIN_CLIENT_SECRET: z.string().min(1).optional(),
  SIGNING_KEY: z.string().min(1).optional(),
  SIGNING_KEY_ID: z.string().min(1).max(100).optional(),
  VERIFICATION_JWKS: z.string().min(1).optional(),
  /** Absent: PUBLIC_BASE_URL, so the tokens' `iss` is the RFC 8414 issuer OAuth clients discover. */
  TOKEN_ISSUER: z.string().min(1).optional(),
  TOKEN_AUDIENCE: z.string().min(1).default('loyalty-ledger-api'),
  TOKEN_TTL_SECONDS: z.coerce.number().int().min(60).max(86_400).default(3600),
  BODY_LIMIT_BYTES: z.coerce.number().int().min(1024).max(50 * 1024 * 1024).default(1024 * 1024),
  BATCH_BODY_LIMIT_BYTES: z.coerce.number().int().min(1024).max(64 * 1024 * 1024).default(DEFAULT_BATCH_BODY_LIMIT),
  TRUST_PROXY: booleanFlag.default(false),
  JOBS_INTERVAL_SECONDS: z.coerce.number().int().min(0).max(86_400).default(60),
  RATE_LIMIT_PER_MINUTE: z.coerce.number().int().min(0).max(10_000_000).default(12_000),
  IDEMPOTENCY_RETENTION_DAYS: z.coerce.number().int().min(1).max(3650).default(30),
  ANALYTICS_SNAPSHOT_MIN_PURCHASES: z.coerce.number().int().min(0).max(1_000_000_000).default(1_000_000),
  TOKEN_FAILURES_PER_MINUTE: z.coerce.number().int().min(1).max(10_000).default(10),
  PUBLIC_BASE_URL: z
    .url({ protocol: /^https?$/ })
    .max(80, 'at most 80 characters: receipt links must fit in one SMS')
    .transform((u) => u.replace(/\/+$/, ''))
    .optional(),
  WEBHOOK_DISPATCH_INTERVAL_MS: z.coerce.number().int().min(0).max(3_600_000).default(1000),
  WEBHOOK_ALLOW_PRIVATE_URLS: booleanFlag.optional(),
  METRICS_TOKEN: z.string().min(16, "at least 16 characters").optional(),
})

export interface Config {
  port: number
  host: string
  logLevel: string
  database: {
    /** Absent: embedded PGlite in `dataDir` ('memory://' keeps it in memory). */
    url?: string
    dataDir: string
    poolSize: number
    /** See DatabaseOptions.transactionTimeoutMs. */
    transactionTimeoutMs?: number
    migrateOnStart: boolean
  }
  admin: { clientId: string; clientSecret: string; usingDevDefaults: boolean }
  tokens: {
    issuer: string
    audience: string
    ttlSeconds: number
    /** PKCS#8 PEM of an Ed25519 or P-256 key. Absent in embedded mode: generated and kept in dataDir. */
    signingKeyPem?: string
    signingKeyId?: string
    /** Extra public keys (a JWKS JSON document) still accepted during a key rotation. */
    verificationJwks?: string
  }
  /**
   * `batchBodyLimit`: the largest body of POST /v1/purchases/batch (500 sales), never below
   * `bodyLimit`; absent: DEFAULT_BATCH_BODY_LIMIT.
   */
  http: { bodyLimit: number; trustProxy: boolean; batchBodyLimit?: number }
  /** Background jobs (expired holds); 0 turns the in-process schedule off. */
  jobs: { intervalSeconds: number }
  /**
   * Requests per minute per authenticated client (per IP before authentication); 0 turns it off.
   * Failed token requests per minute per client id and IP, after which the token endpoint refuses
   * that pair (even a right secret) until the minute ends. Both counted per instance.
   */
  rateLimit: { perMinute: number; tokenFailuresPerMinute: number }
  /**
   * How long an Idempotency-Key is remembered (1 to 3650 days, default 30): past it the key is new
   * again and the purge-idempotency-keys job deletes its record. Absent: 30.
   */
  idempotency?: { retentionDays: number }
  /**
   * The analytics-snapshot job computes the reports of programs with at least this many purchases
   * (0: every program); the others always answer live. Absent: 1,000,000.
   */
  analytics?: { snapshotMinPurchases: number }
  /** Where receipts' public links point (`{publicBaseUrl}/r/{token}`): the service as customers reach it. */
  publicBaseUrl: string
  /**
   * The webhook dispatcher polls every `dispatchIntervalMs` (0: off; tests call dispatchOnce).
   * `allowPrivateUrls` lets endpoints be http:// or resolve to loopback and private addresses
   * (development); otherwise only https:// to public addresses.
   */
  webhooks: { dispatchIntervalMs: number; allowPrivateUrls: boolean }
  /** `token`: GET /metrics asks for `Authorization: Bearer <token>`; absent, it is open (scrape it on a private network). */
  metrics?: { token?: string }
}

export class ConfigError extends Error {
  override name = 'ConfigError'
}

/** Parses the environment once; throws ConfigError with every problem listed. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const parsed = envSchema.safeParse(stripEmpty(env))
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `  ${i.path.join('.')}: ${i.message}`)
    throw new ConfigError(`Invalid configuration:\n${lines.join('\n')}`)
  }
  const e = parsed.data
  const realDatabase = e.DATABASE_URL !== undefined
  const problems: string[] = []

  if (realDatabase) {
    if (!e.ADMIN_CLIENT_SECRET) problems.push('ADMIN_CLIENT_SECRET is required when DATABASE_URL is set')
    else if (e.ADMIN_CLIENT_SECRET === DEV_ADMIN_CLIENT_SECRET)
      problems.push('ADMIN_CLIENT_SECRET must not be the development default when DATABASE_URL is set')
    else if (e.ADMIN_CLIENT_SECRET.length < 24)
      problems.push('ADMIN_CLIENT_SECRET must be at least 24 characters when DATABASE_URL is set')
    if (!e.SIGNING_KEY) problems.push('SIGNING_KEY (PKCS#8 PEM, Ed25519 or P-256) is required when DATABASE_URL is set')
  }
  if (problems.length > 0) throw new ConfigError(`Invalid configuration:\n  ${problems.join('\n  ')}`)

  const usingDevDefaults = !e.ADMIN_CLIENT_SECRET
  const publicBaseUrl = e.PUBLIC_BASE_URL ?? `http://localhost:${e.PORT}`
  return {
    port: e.PORT,
    host: e.HOST,
    logLevel: e.LOG_LEVEL,
    database: {
      url: e.DATABASE_URL,
      dataDir: e.DATA_DIR,
      poolSize: e.DATABASE_POOL_SIZE,
      transactionTimeoutMs: e.DATABASE_TRANSACTION_TIMEOUT_MS,
      // Embedded mode always migrates: nobody else can.
      migrateOnStart: realDatabase ? e.MIGRATE_ON_START : true,
    },
    admin: {
      clientId: e.ADMIN_CLIENT_ID ?? DEV_ADMIN_CLIENT_ID,
      clientSecret: e.ADMIN_CLIENT_SECRET ?? DEV_ADMIN_CLIENT_SECRET,
      usingDevDefaults,
    },
    tokens: {
      issuer: e.TOKEN_ISSUER ?? publicBaseUrl,
      audience: e.TOKEN_AUDIENCE,
      ttlSeconds: e.TOKEN_TTL_SECONDS,
      signingKeyPem: e.SIGNING_KEY?.replace(/\\n/g, '\n'),
      signingKeyId: e.SIGNING_KEY_ID,
      verificationJwks: e.VERIFICATION_JWKS,
    },
    http: { bodyLimit: e.BODY_LIMIT_BYTES, trustProxy: e.TRUST_PROXY, batchBodyLimit: e.BATCH_BODY_LIMIT_BYTES },
    jobs: { intervalSeconds: e.JOBS_INTERVAL_SECONDS },
    rateLimit: { perMinute: e.RATE_LIMIT_PER_MINUTE, tokenFailuresPerMinute: e.TOKEN_FAILURES_PER_MINUTE },
    idempotency: { retentionDays: e.IDEMPOTENCY_RETENTION_DAYS },
    analytics: { snapshotMinPurchases: e.ANALYTICS_SNAPSHOT_MIN_PURCHASES },
    publicBaseUrl,
    // Embedded mode is development: local receivers are allowed unless said otherwise.
    webhooks: { dispatchIntervalMs: e.WEBHOOK_DISPATCH_INTERVAL_MS, allowPrivateUrls: e.WEBHOOK_ALLOW_PRIVATE_URLS ?? !realDatabase },
    metrics: { token: e.METRICS_TOKEN },
  }
}

/** An empty variable (`FOO=`) means "not set", as most shells and orchestrators intend. */
function stripEmpty(env: NodeJS.ProcessEnv): Record<string, string> {
  const out: Record<string, string> = {}
  for (const [k, v] of Object.entries(env)) if (v !== undefined && v !== '') out[k] = v
  return out
}
