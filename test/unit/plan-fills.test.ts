// filled: the facts a plan's fills name written into a copy of the answer, as ll_fill writes them
// into the stored answer (test/integration/write-path/apply.test.ts compares the two end to end).
import t from 'tap'
import { filled, type Fill } from '../../src/db/apply.js'

const template = { id: 'p1', lines: [{ sku: 'A' }], balances: null as unknown, receipt: { points: { balanceAfter: 0 }, storedValue: { balanceAfter: '' } } }
const fills: Fill[] = [
  { path: ['balances'], fact: 'balances' },
  { path: ['receipt', 'points', 'balanceAfter'], fact: 'points.available' },
  { path: ['receipt', 'storedValue', 'balanceAfter'], fact: 'entry.0.2', exponent: 2 },
]
const facts = { balances: { memberId: 'm1' }, 'points.available': 42, 'entry.0.2': '-12345' }

t.test('writes each fact at its path, minor units with an exponent as the API writes money', async (t) => {
  const out = filled(template, fills, facts)
  t.same(out, { id: 'p1', lines: [{ sku: 'A' }], balances: { memberId: 'm1' }, receipt: { points: { balanceAfter: 42 }, storedValue: { balanceAfter: '-123.45' } } })
})

t.test('the template is left as it was, and what no fill touches is shared, not copied', async (t) => {
  const before = JSON.stringify(template)
  const out = filled(template, fills, facts)
  t.equal(JSON.stringify(template), before)
  t.equal(out.lines, template.lines, 'untouched branches are the same objects')
  t.not(out.receipt, template.receipt, 'objects on a fill path are copies')
})

t.test('a fill naming a fact the database did not give is a bug, not a silent hole', async (t) => {
  t.throws(() => filled(template, [{ path: ['balances'], fact: 'member.phone' }], facts), /unknown fact member.phone/)
})
