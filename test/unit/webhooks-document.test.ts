import t from 'tap'
import { z } from 'zod'
import { EVENT_CATEGORIES, type EventType } from '../../src/modules/events/catalog.js'
import { birthdayTodayInput, pointsExpiringSoonInput, storedValueLowPayload } from '../../src/modules/events/care.js'
import { deliveredEventSchemas, EVENT_PAYLOADS, eventSchemaName } from '../../src/modules/events/payloads.js'
import { webhooksDocument } from '../../src/modules/events/webhooks-document.js'

const program = { id: '00000000-0000-4000-8000-000000000001', timezone: 'Asia/Ho_Chi_Minh', rules: {}, currency: 'VND' }
const memberId = '00000000-0000-4000-8000-000000000002'

t.test('every event type of the catalog has a webhook: a POST with its body component and the Standard Webhooks headers', async (t) => {
  const doc = webhooksDocument() as Record<string, { post: { operationId: string; parameters: { name: string; required: boolean }[]; requestBody: { content: Record<string, { schema: { $ref: string } }> }; responses: Record<string, unknown> } }>
  t.same(Object.keys(doc).sort(), Object.keys(EVENT_CATEGORIES).sort())
  const ids = new Set<string>()
  for (const type of Object.keys(EVENT_CATEGORIES) as EventType[]) {
    const op = doc[type]!.post
    ids.add(op.operationId)
    t.same(op.parameters.map((p) => [p.name, p.required]), [['webhook-id', true], ['webhook-timestamp', true], ['webhook-signature', true]], type)
    t.equal(op.requestBody.content['application/json']!.schema.$ref, `#/components/schemas/${eventSchemaName(type)}`)
    t.equal(z.globalRegistry.get(deliveredEventSchemas[type])?.id, eventSchemaName(type), 'the body schema is a named component')
    t.ok(op.responses['2XX'] && op.responses.default, 'says what a 2xx and anything else mean')
  }
  t.equal(ids.size, Object.keys(EVENT_CATEGORIES).length, 'operationIds are unique')
  t.equal(eventSchemaName('storedValue.toppedUp'), 'StoredValueToppedUpEvent')
})

t.test('the payloads the emitters build validate against their schemas; a wrong one does not', async (t) => {
  const now = new Date('2026-12-02T03:00:00Z')
  const expiring = pointsExpiringSoonInput({ memberId, points: 120n, expiresAt: now, balance: 500n })
  t.ok(EVENT_PAYLOADS['points.expiringSoon'].safeParse(expiring.payload).success)
  const birthday = birthdayTodayInput(program, { memberId, offer: { points: 100, couponCode: 'HPBD' } }, now)
  t.ok(EVENT_PAYLOADS['birthday.today'].safeParse(birthday.payload).success)
  const low = storedValueLowPayload(program, memberId, 20_000n, 50_000n, '00000000-0000-4000-8000-000000000003')
  t.ok(EVENT_PAYLOADS['storedValue.low'].safeParse(low).success)
  t.notOk(EVENT_PAYLOADS['storedValue.low'].safeParse({ ...low, balance: 20000 }).success, 'an amount as a number is refused')
  t.notOk(deliveredEventSchemas['storedValue.low'].safeParse({ type: 'storedValue.low', timestamp: now.toISOString(), data: low }).success, 'a delivered body carries the member')
})
