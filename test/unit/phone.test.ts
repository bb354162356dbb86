import t from 'tap'
import { maskPhone, normalizePhone } from '../../src/modules/members/phone.js'

t.test('Vietnamese mobile numbers of every carrier normalise to E.164', async (t) => {
  const cases: [string, string][] = [
    ['0912345678', '+84912345678'], // Vinaphone
    ['0981234567', '+84981234567'], // Viettel
    ['0321234567', '+84321234567'], // Viettel 03x
    ['0701234567', '+84701234567'], // Mobifone
    ['0561234567', '+84561234567'], // Vietnamobile
    ['0591234567', '+84591234567'], // Gmobile
    ['+84 91 234 5678', '+84912345678'],
    ['84912345678', '+84912345678'],
    ['091-234-5678', '+84912345678'],
  ]
  for (const [input, e164] of cases) t.equal(normalizePhone(input, 'VN'), e164, input)
})

t.test('invalid numbers are refused', async (t) => {
  for (const input of ['012345', '0912', '+8491234567890', 'abc', '0000000000', '']) t.equal(normalizePhone(input, 'VN'), undefined, input)
})

t.test('other regions read their own national form; E.164 is read the same everywhere', async (t) => {
  t.equal(normalizePhone('(212) 456-7890', 'US'), '+12124567890')
  t.equal(normalizePhone('+84912345678', 'US'), '+84912345678')
  t.equal(normalizePhone('0912345678', 'US'), undefined)
})

t.test('masking keeps the country code and the last four digits', async (t) => {
  t.equal(maskPhone('+84912345678'), '+84*****5678')
  t.equal(maskPhone('+12124567890'), '+1******7890')
})
