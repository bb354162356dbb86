import t from 'tap'
import { validate, version } from 'uuid'
import { newId } from '../../src/shared/ids.js'

t.test('ids are valid UUIDv7, unique, and increase in the order they were made', async (t) => {
  const ids = Array.from({ length: 20_000 }, () => newId())
  t.ok(ids.every((id) => validate(id) && version(id) === 7), 'every id is a UUIDv7')
  t.ok(ids.every((id) => /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/.test(id)), 'version 7, RFC variant, lower case')
  t.equal(new Set(ids).size, ids.length, 'no repeats')
  t.ok(ids.every((id, i) => i === 0 || id > ids[i - 1]!), 'each id sorts after the one before, also within one millisecond')
})

t.test('an id carries the time it was made', async (t) => {
  const before = Date.now()
  const id = newId()
  const after = Date.now()
  const msecs = parseInt(id.replace(/-/g, '').slice(0, 12), 16)
  t.ok(msecs >= before && msecs <= after + 1, `${msecs} within [${before}, ${after}]`)
})

t.test('the random part differs between ids of one millisecond beyond the counter', async (t) => {
  const tails = new Set(Array.from({ length: 1000 }, () => newId().slice(-12)))
  t.ok(tails.size > 990, `${tails.size} distinct random tails of 1000`)
})
