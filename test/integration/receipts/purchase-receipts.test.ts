// A return's receipt, posted through the API (a sale, then its return, both plans through the
// executor): it links to the sale's receipt, the link is in the signed JWS too, and return.completed
// names the receipt. The sale, capture and void receipts and their events (purchase.completed,
// storedValue.low once per crossing, purchase.unusual) are asserted on the executor path by
// test/integration/write-path/apply.test.ts, receipts/purchase-wiring.test.ts and
// events/outbox-wanted.test.ts.
import t from 'tap'
import { sql } from 'drizzle-orm'
import { queryRows } from '../../../src/db/client.js'
import { maskPhone } from '../../../src/modules/receipts/format.js'
import { startTestApp } from '../../helpers/app.js'
import { Till, VND_RULES } from '../../helpers/pos.js'
import { subscribeWebhook } from '../../helpers/webhooks.js'

const ctx = await startTestApp(t)
const fixture = await ctx.createProgram({ name: 'Siêu thị Xanh', rules: VND_RULES })
// The outbox keeps the events an endpoint may receive (test/integration/events/outbox-wanted.test.ts).
await subscribeWebhook(ctx, fixture.token)
const till = new Till(ctx, fixture.token)

async function eventsOf(memberId: string) {
  return queryRows<{ type: string; payload: Record<string, unknown> }>(ctx.database.db, sql`select type, payload from events where program_id = ${fixture.id}::uuid and member_id = ${memberId}::uuid order by id`)
}

t.test('a return receipt links to the sale’s receipt, and the link is signed', async (t) => {
  const member = { phone: '+84901112224' }
  const m = await ctx.enrol(fixture.token, member)
  await till.topUp(m.id, '20000')
  const sale = await till.purchase(m.id, [{ sku: 'A', quantity: 2, unitPrice: '60000' }], [{ type: 'storedValue', amount: '20000' }, { type: 'cash', amount: '100000' }])
  t.equal(sale.statusCode, 201, sale.body)
  const saleReceipt = sale.json().receipt
  const saleView = (await ctx.call(fixture.token, 'GET', `/v1/receipts/${saleReceipt.id}`)).json()
  const ret = await till.returnPurchase(sale.json().id, { lines: [{ sku: 'A', quantity: 1 }] })
  t.equal(ret.statusCode, 201, ret.body)
  const returned = ret.json()
  const view = (await ctx.call(fixture.token, 'GET', `/v1/receipts/${returned.receipt.id}`)).json()
  t.match(view, {
    kind: 'return',
    returnId: returned.id,
    originalReceipt: { id: saleReceipt.id, number: saleView.number },
    lines: [{ sku: 'A', quantity: 1, amount: '60000' }],
    totals: { total: '60000' },
    tenders: [{ type: 'storedValue', amount: '10000', balanceAfter: '10000' }, { type: 'cash', amount: '50000' }],
    points: { clawedBack: 6, balanceAfter: 6 },
    member: { phone: maskPhone(member.phone) },
  })
  const { jws } = (await ctx.call(fixture.token, 'GET', `/v1/receipts/${returned.receipt.id}/jws`)).json()
  const payload = JSON.parse(Buffer.from(jws.split('.')[1], 'base64url').toString('utf8'))
  t.same(payload.receipt.originalReceipt, { id: saleReceipt.id, number: saleView.number })
  const [event] = (await eventsOf(m.id)).filter((e) => e.type === 'return.completed')
  t.same(event!.payload, { memberId: m.id, purchaseId: sale.json().id, returnId: returned.id, receiptId: returned.receipt.id, currency: 'VND', amount: '60000' })
})
