import t from 'tap'
import { ConfigError, DEV_ADMIN_CLIENT_SECRET, loadConfig } from '../../src/config.js'

const PEM = '-----BEGIN PRIVATE KEY-----\\nMC4CAQAwBQYDK2VwBCIEIKk=\\n-----END PRIVATE KEY-----'

t.test('embedded mode needs nothing and uses the documented development admin', async (t) => {
  const c = loadConfig({})
  t.equal(c.port, 3000)
  t.equal(c.database.url, undefined)
  t.equal(c.database.dataDir, './.data')
  t.equal(c.database.migrateOnStart, true)
  t.equal(c.admin.usingDevDefaults, true)
  t.equal(c.admin.clientSecret, DEV_ADMIN_CLIENT_SECRET)
})

t.test('a real database refuses to start without a real admin secret and signing key', async (t) => {
  const url = 'postgres://u@localhost/db'
  t.throws(() => loadConfig({ DATABASE_URL: url }), ConfigError)
  t.throws(() => loadConfig({ DATABASE_URL: url, ADMIN_CLIENT_SECRET: DEV_ADMIN_CLIENT_SECRET, SIGNING_KEY: PEM }), /development default/)
  t.throws(() => loadConfig({ DATABASE_URL: url, ADMIN_CLIENT_SECRET: 'short', SIGNING_KEY: PEM }), /at least 24/)
  t.throws(() => loadConfig({ DATABASE_URL: url, ADMIN_CLIENT_SECRET: 'x'.repeat(32) }), /SIGNING_KEY/)
  const c = loadConfig({ DATABASE_URL: url, ADMIN_CLIENT_SECRET: 'x'.repeat(32), SIGNING_KEY: PEM })
  t.equal(c.database.migrateOnStart, false, 'with DATABASE_URL, migrating at start is opt-in')
  t.match(c.tokens.signingKeyPem, /\n/, 'escaped newlines in the key become real ones')
  t.equal(loadConfig({ DATABASE_URL: url, ADMIN_CLIENT_SECRET: 'x'.repeat(32), SIGNING_KEY: PEM, MIGRATE_ON_START: 'true' }).database.migrateOnStart, true)
})

t.test('bad values stop start-up with every problem named', async (t) => {
  const err = t.throws(() => loadConfig({ PORT: 'eighty', LOG_LEVEL: 'loud', DATABASE_URL: 'mysql://x' })) as Error
  t.match(err.message, /PORT/)
  t.match(err.message, /LOG_LEVEL/)
  t.match(err.message, /DATABASE_URL/)
  t.same(loadConfig({ PORT: '' }).port, 3000, 'an empty variable means unset')
})

t.test('a batch upload may be 8 MiB unless BATCH_BODY_LIMIT_BYTES says otherwise', async (t) => {
  t.equal(loadConfig({}).http.batchBodyLimit, 8 * 1024 * 1024)
  t.equal(loadConfig({ BATCH_BODY_LIMIT_BYTES: '16777216' }).http.batchBodyLimit, 16 * 1024 * 1024)
  t.throws(() => loadConfig({ BATCH_BODY_LIMIT_BYTES: '100' }), /BATCH_BODY_LIMIT_BYTES/)
})
