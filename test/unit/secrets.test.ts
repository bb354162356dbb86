import t from 'tap'
import { constantTimeEquals, generateClientSecret, hashSecret, verifySecret } from '../../src/shared/secrets.js'

t.test('client secrets are stored as salted scrypt hashes', async (t) => {
  const secret = generateClientSecret()
  const a = await hashSecret(secret)
  const b = await hashSecret(secret)
  t.match(a, /^scrypt\$16384\$8\$1\$/)
  t.not(a, b, 'a fresh salt each time')
  t.notOk(a.includes(secret))
  t.equal(await verifySecret(secret, a), true)
  t.equal(await verifySecret(`${secret}x`, a), false)
  t.equal(await verifySecret(secret, 'garbage'), false)
})

t.test('constant-time comparison of unequal lengths does not throw', async (t) => {
  t.equal(constantTimeEquals('abc', 'abc'), true)
  t.equal(constantTimeEquals('abc', 'abcd'), false)
})
