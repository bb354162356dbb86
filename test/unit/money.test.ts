import t from 'tap'
import { currencyExponent, isSupportedCurrency } from '../../src/shared/money.js'

t.test('ISO 4217 exponents decide minor units', async (t) => {
  t.equal(currencyExponent('VND'), 0)
  t.equal(currencyExponent('USD'), 2)
  t.equal(currencyExponent('JPY'), 0)
  t.equal(currencyExponent('KWD'), 3)
  t.equal(isSupportedCurrency('VND'), true)
  t.equal(isSupportedCurrency('XXX'), false, 'no-currency code')
  t.equal(isSupportedCurrency('XAU'), false, 'gold has no minor unit')
  t.equal(isSupportedCurrency('usd'), false)
})

t.test('amounts parse into minor units only when the currency allows them', async (t) => {
  const { parseMinorUnits, formatMinorUnits } = await import('../../src/shared/money.js')
  t.equal(parseMinorUnits('125000', 0), 125000n)
  t.equal(parseMinorUnits('125000.5', 0), undefined, 'VND has no minor unit')
  t.equal(parseMinorUnits('125000.', 0), undefined)
  t.equal(parseMinorUnits('12.34', 2), 1234n)
  t.equal(parseMinorUnits('12.3', 2), 1230n)
  t.equal(parseMinorUnits('12.345', 2), undefined)
  t.equal(parseMinorUnits('-0.05', 2), -5n)
  t.equal(parseMinorUnits('0012', 2), undefined, 'no leading zeros')
  for (const bad of ['', '1e5', '1,000', ' 1', '+1', 'NaN', '0x10', '١٢٣']) t.equal(parseMinorUnits(bad, 2), undefined, JSON.stringify(bad))
  t.equal(parseMinorUnits('92233720368547758070', 0), 92233720368547758070n, 'big values stay exact (range is checked by callers)')

  t.equal(formatMinorUnits(125000n, 0), '125000')
  t.equal(formatMinorUnits(1234n, 2), '12.34')
  t.equal(formatMinorUnits(5n, 2), '0.05')
  t.equal(formatMinorUnits(-5n, 2), '-0.05')
  t.equal(formatMinorUnits(1n, 3), '0.001')
  for (const v of [0n, 1n, 99n, 100n, 123456789n, -42n]) for (const e of [0, 2, 3]) t.equal(parseMinorUnits(formatMinorUnits(v, e), e), v, `round trip ${v} e${e}`)
})

t.test('an amount a caller sends is taken up to 10^15 minor units, and positive where it must be', async (t) => {
  const { readAmount } = await import('../../src/shared/money.js')
  t.same(readAmount('1000000000000000', 0, 'VND'), { value: 10n ** 15n }, 'the largest amount')
  t.same(readAmount('1000000000000001', 0, 'VND'), { problem: 'too large' })
  t.same(readAmount('9223372036854775808', 0, 'VND'), { problem: 'too large' }, '2^63 never reaches an int8 column')
  t.same(readAmount('10000000000000.01', 2, 'USD'), { problem: 'too large' })
  t.same(readAmount('0', 0, 'VND'), { value: 0n })
  t.same(readAmount('0', 0, 'VND', { positive: true }), { problem: 'must be greater than zero' })
  t.same(readAmount('1.5', 0, 'VND'), { problem: 'not a valid VND amount (0 decimal places at most)' })
})
