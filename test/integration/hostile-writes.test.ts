import t from 'tap'
import fc from 'fast-check'
import { startTestApp } from '../helpers/app.js'
import { idemKey, Till, VND_RULES } from '../helpers/pos.js'

// Garbage into every write endpoint of the ledger and purchases: never a 5xx, always problem+json,
// and nothing written by a refused request. (The full OpenAPI-driven fuzz is issue 8's.)
const ctx = await startTestApp(t)
const program = await ctx.createProgram({ rules: VND_RULES })
const till = new Till(ctx, program.token)
const member = await ctx.enrol(program.token)
await till.topUp(member.id, '100000')
await till.grantPoints(member.id, 100)
const purchase = (await till.purchase(member.id, [{ sku: 'A', quantity: 2, unitPrice: '50000' }], [{ type: 'cash', amount: '100000' }])).json()
const pending = (await till.purchase(member.id, [{ sku: 'B', quantity: 1, unitPrice: '10000' }], [{ type: 'storedValue', amount: '10000' }], { capture: false })).json()

// Every write whose body has required fields: a random body can only be refused. (Capture takes
// an optional body, so `{}` would rightly capture; it gets the raw garbage below instead.)
const targets = [
  '/v1/purchases',
  `/v1/purchases/${purchase.id}/returns`,
  `/v1/members/${member.id}/stored-value/top-ups`,
  `/v1/members/${member.id}/points/adjustments`,
  `/v1/ledger/entries/${purchase.entryId}/reversal`,
]

const nasty = fc.oneof(
  fc.constantFrom('125000.5', '-1', '1e308', '99999999999999999999999', 'NaN', '', ' ', '0x10', '\u0000', '١٢٣', 'Infinity', '１２３'),
  fc.double(),
  fc.bigInt({ min: -(10n ** 30n), max: 10n ** 30n }).map(String),
  fc.integer(),
  fc.string({ maxLength: 300 }),
  fc.constant(null),
  fc.boolean(),
)
const bodyArb = fc.oneof(
  fc.jsonValue({ maxDepth: 4 }),
  fc.record(
    {
      memberId: fc.oneof(fc.constant(member.id), fc.uuid(), nasty),
      storeId: nasty,
      terminalId: nasty,
      externalId: nasty,
      currency: fc.oneof(fc.constant('VND'), nasty),
      lines: fc.array(fc.record({ sku: nasty, name: nasty, quantity: nasty, unitPrice: nasty, discount: nasty }, { requiredKeys: [] }), { maxLength: 3 }),
      tenders: fc.array(fc.record({ type: fc.constantFrom('cash', 'card', 'points', 'storedValue', 'bitcoin'), amount: nasty, points: nasty }, { requiredKeys: ['type'] }), { maxLength: 3 }),
      amount: nasty,
      points: nasty,
      reason: nasty,
      tender: nasty,
      capture: fc.oneof(fc.boolean(), nasty),
    },
    { requiredKeys: [] },
  ),
)

t.test('random and malformed bodies never cause a 5xx and never write', async (t) => {
  const before = await till.balances(member.id)
  let sent = 0
  const statuses = new Map<number, number>()
  await fc.assert(
    fc.asyncProperty(fc.constantFrom(...targets), bodyArb, fc.oneof(fc.constant(idemKey()), fc.string({ maxLength: 300 })), async (url, body, key) => {
      const res = await ctx.call(program.token, 'POST', url, body, { 'idempotency-key': key.length > 0 && /^[\x21-\x7e]+$/.test(key) ? key : idemKey() })
      sent += 1
      statuses.set(res.statusCode, (statuses.get(res.statusCode) ?? 0) + 1)
      if (res.statusCode < 400) throw new Error(`a random body was accepted by ${url}: ${JSON.stringify(body)}`)
      if (res.statusCode >= 500) throw new Error(`5xx from ${url}: ${res.body} for ${JSON.stringify(body)}`)
      if (res.statusCode >= 400 && !/^application\/problem\+json/.test(String(res.headers['content-type']))) throw new Error(`not a problem: ${res.body}`)
    }),
    { numRuns: 400 },
  )
  t.comment(`sent ${sent} requests: ${JSON.stringify(Object.fromEntries(statuses))}`)
  t.ok(sent >= 400)
  const report = await till.verify()
  t.equal(report.ok, true, 'the ledger still verifies')
  t.equal((await till.balances(member.id)).storedValue.balance, before.storedValue.balance, 'no garbage request moved stored value')
})

t.test('raw garbage: non-JSON, wrong content types, huge numbers as text', async (t) => {
  const raw = ['{', '[]', 'null', '"x"', '{"lines": [' + '1,'.repeat(10_000) + '1]}', '{"amount": 1e999999}', '\u0000\u0001', '{"__proto__": {"x": 1}}']
  for (const url of [...targets, `/v1/purchases/${pending.id}/capture`]) {
    for (const payload of raw.filter((p) => !(url.endsWith('/capture') && p === 'null'))) {
      const res = await ctx.inject({ method: 'POST', url, payload, headers: { authorization: `Bearer ${program.token}`, 'content-type': 'application/json', 'idempotency-key': idemKey() } })
      t.ok(res.statusCode >= 400 && res.statusCode < 500, `${url} ${payload.slice(0, 20)} -> ${res.statusCode}`)
    }
    const form = await ctx.inject({ method: 'POST', url, payload: 'a=1', headers: { authorization: `Bearer ${program.token}`, 'content-type': 'application/x-www-form-urlencoded', 'idempotency-key': idemKey() } })
    t.ok(form.statusCode >= 400 && form.statusCode < 500, `${url} form body -> ${form.statusCode}`)
  }
})
