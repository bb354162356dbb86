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
