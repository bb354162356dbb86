// What an operator finds in the logs for a sale: one line per request when answered (method,
// route pattern, status, duration, client, program; no key twice), and the business events the
// request applied, at info, on the request's logger (its reqId) with their ids.
import t from 'tap'
import { Writable } from 'node:stream'
import { buildCheckedApp } from '../helpers/contract-hooks.js'
import { openTestDatabase, testConfig, TestApp } from '../helpers/app.js'
import { idemKey, Till, VND_RULES } from '../helpers/pos.js'

/** The keys of a JSON object's top level, in order, duplicates kept (JSON.parse would drop them). */
function topLevelKeys(line: string): string[] {
  const keys: string[] = []
  let depth = 0
  let expectKey = false
  for (let i = 0; i < line.length; i++) {
    const c = line[i]
    if (c === '"') {
      let j = i + 1
      while (line[j] !== '"') j += line[j] === '\\' ? 2 : 1
      if (depth === 1 && expectKey) keys.push(JSON.parse(line.slice(i, j + 1)))
      expectKey = false
      i = j
    } else if (c === '{' || c === '[') {
      depth++
      expectKey = c === '{' && depth === 1
    } else if (c === '}' || c === ']') depth--
    else if (c === ',' && depth === 1) expectKey = true
  }
  return keys
}

t.test('the duplicate-key check sees duplicates at the top level only', async (t) => {
  t.same(topLevelKeys('{"a":1,"b":{"a":2,"c":[{"a":3}]},"s":"x\\"y","a":4}'), ['a', 'b', 's', 'a'])
})

t.test('one completion line per request, and the sale’s business events with its request id', async (t) => {
  const lines: string[] = []
  const stream = new Writable({
    write(chunk, _enc, done) {
      lines.push(...String(chunk).split('\n').filter(Boolean))
      done()
    },
  })
  const database = await openTestDatabase()
  const app = await buildCheckedApp(t, testConfig({ logLevel: 'info' }), { database, logStream: stream })
  await app.ready()
  t.teardown(async () => {
    await app.close()
    await database.close()
  })
  const ctx = new TestApp(app, database)
  const p = await ctx.createProgram({ rules: VND_RULES })
  const till = new Till(ctx, p.token)
  const member = await ctx.enrol(p.token)
  await till.topUp(member.id, '100000')
  const before = lines.length
  const sale = await ctx.call(
    p.token,
    'POST',
    '/v1/purchases',
    { memberId: member.id, storeId: 'S1', terminalId: 'T1', externalId: 'LOG-1', currency: 'VND', lines: [{ sku: 'A', name: 'A', quantity: 1, unitPrice: '100000' }], tenders: [{ type: 'cash', amount: '100000' }] },
    { 'idempotency-key': idemKey(), 'x-request-id': 'till-7-req-42' },
  )
  t.equal(sale.statusCode, 201, sale.body)
  const purchaseId = sale.json().id as string
  const mine = lines.slice(before).filter((l) => l.includes('"till-7-req-42"'))
  for (const l of lines) t.same(topLevelKeys(l).filter((k, i, all) => all.indexOf(k) !== i), [], `no key twice: ${l.slice(0, 120)}`)
  const parsed = mine.map((l) => JSON.parse(l) as Record<string, unknown>)
  const completed = parsed.filter((l) => l.msg === 'request completed')
  t.equal(completed.length, 1, 'one completion line')
  t.match(completed[0], { level: 30, reqId: 'till-7-req-42', method: 'POST', route: '/v1/purchases', statusCode: 201, programId: p.id })
  t.type(completed[0]!.durationMs, 'number')
  t.type(completed[0]!.clientId, 'string')
  const posted = parsed.filter((l) => l.msg === 'purchase posted')
  t.equal(posted.length, 1, 'the purchase posted, on the request’s logger')
  t.match(posted[0], { level: 30, reqId: 'till-7-req-42', event: 'purchase.posted', programId: p.id, purchaseId, status: 'completed', storeId: 'S1', externalId: 'LOG-1' })
  t.notOk(mine.some((l) => l.includes(member.phone)), 'no phone number')
  t.notOk(lines.some((l) => l.includes('"incoming request"')), 'fastify’s own request lines are off')
})
