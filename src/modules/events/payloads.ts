import { z } from 'zod'
import type { EventType } from './catalog.js'

// The payload of every event type, typed once: the emitters build them as EventPayload<T>
// (emit.ts's EventInput), the OpenAPI document's `webhooks` is generated from them
// (webhooks-document.ts), so what is sent and what is documented cannot drift apart.
// `payload` is what the outbox stores; the body a receiver gets (deliveredEventSchemas) adds the
// member's contact and, for an event with a receipt, the receipt and its SMS text (compose.ts).

const money = z.string().describe('Decimal string in major units of `currency`')
const memberId = z.uuid().describe('The member the event is about')
const currency = z.string().length(3).describe('ISO 4217 currency of the amounts')

export const EVENT_PAYLOADS = {
  'member.enrolled': z.object({ memberId, enrolledAt: z.string().optional().describe('When the member was enrolled (ISO 8601)') }),
  'purchase.completed': z.object({
    memberId,
    purchaseId: z.uuid(),
    receiptId: z.uuid(),
    storeId: z.string(),
    currency,
    total: money.describe('The purchase total'),
  }),
  'return.completed': z.object({
    memberId,
    purchaseId: z.uuid(),
    returnId: z.uuid(),
    receiptId: z.uuid(),
    currency,
    amount: money.describe('The amount returned'),
  }),
  'storedValue.toppedUp': z.object({
    memberId,
    receiptId: z.uuid(),
    entryId: z.uuid().describe('The ledger entry of the top-up'),
    currency,
    amount: money.describe('The amount topped up'),
    balance: money.describe('The available stored value after it'),
  }),
  'storedValue.low': z.object({
    memberId,
    currency,
    balance: money.describe('The available stored value, now below the threshold'),
    threshold: money.describe('The program’s threshold (rules.notifications.lowStoredValue)'),
    receiptId: z.uuid().optional().describe('The receipt of the purchase that crossed it'),
  }),
  'points.expiringSoon': z.object({
    memberId,
    points: z.number().int().describe('Points expiring'),
    expiresAt: z.string().describe('When the first of them expire (ISO 8601)'),
    balance: z.number().int().optional().describe('The member’s points balance'),
  }),
  'tier.changed': z.object({
    memberId,
    from: z.string().nullable().describe('The tier code before; null: none'),
    to: z.string().describe('The tier code after (`none`: no tier)'),
    direction: z.enum(['up', 'down']),
    reason: z.string().optional().describe('upgrade (a purchase), review (the periodic review), ...'),
  }),
  'purchase.unusual': z.object({
    memberId,
    purchaseId: z.uuid(),
    receiptId: z.uuid(),
    currency,
    total: money.describe('The purchase total'),
    held: z.boolean().describe('Whether the purchase was held for review'),
    reasons: z.array(z.enum(['above_limit', 'above_average'])).min(1),
    memberAverage: money.nullable().describe('The member’s average purchase when trusted (enough purchases), else null'),
  }),
  'birthday.today': z.object({
    memberId,
    offer: z
      .object({ points: z.number().int().optional().describe('Points granted'), couponCode: z.string().optional().describe('A coupon issued') })
      .optional()
      .describe('What the program gives for the birthday'),
  }),
  'campaign.granted': z.object({
    memberId,
    campaignId: z.uuid().describe('The segment campaign (GET /v1/segment-campaigns/{campaignId})'),
    name: z.string().describe('The campaign’s name'),
    offer: z
      .object({ points: z.number().int().optional().describe('Points granted'), couponCode: z.string().optional().describe('A coupon issued to the member') })
      .describe('What the campaign gave the member'),
  }),
  'webhook.test': z.object({ message: z.string(), endpointId: z.uuid() }),
} as const satisfies Record<EventType, z.ZodObject>

export type EventPayload<T extends EventType> = z.output<(typeof EVENT_PAYLOADS)[T]>

/** Event types whose payload names a receipt: the body carries it with its SMS text. */
const WITH_RECEIPT: readonly EventType[] = ['purchase.completed', 'return.completed', 'storedValue.toppedUp', 'storedValue.low', 'purchase.unusual']

export const webhookMemberSchema = z
  .object({ id: z.uuid(), name: z.string().nullable(), phone: z.string().nullable().describe('E.164'), email: z.string().nullable() })
  .describe('The member’s contact as it is when the delivery is attempted (all null once the member is erased)')
  .meta({ id: 'WebhookMember' })

const receiptSchema = z
  .looseObject({
    id: z.uuid(),
    number: z.string(),
    kind: z.string(),
    links: z.object({ public: z.string(), jws: z.string() }),
    sms: z.string(),
  })
  .describe('The receipt as GET /v1/receipts/{receiptId} answers it (schema Receipt), read when the delivery is attempted')

const smsSchema = z.object({ to: z.string().nullable().describe('The member’s phone (E.164); null: none'), text: z.string().describe('One GSM-7 SMS of at most 160 characters') })

const pascal = (type: string) => type.replace(/(^|\.)(\w)/g, (_m, _dot, c: string) => c.toUpperCase())

/** The component name of an event type's body: purchase.completed → PurchaseCompletedEvent. */
export const eventSchemaName = (type: EventType) => `${pascal(type)}Event`

function deliveredSchema<T extends EventType>(type: T) {
  const payload = EVENT_PAYLOADS[type] as z.ZodObject
  const withMember = type === 'webhook.test' ? payload : payload.extend({ member: webhookMemberSchema })
  const data = WITH_RECEIPT.includes(type) ? withMember.extend({ receipt: receiptSchema.optional(), sms: smsSchema.optional() }) : withMember
  return z
    .object({
      type: z.literal(type),
      timestamp: z.string().describe('When the event happened (ISO 8601)'),
      data,
    })
    .meta({ id: eventSchemaName(type) })
}

/** The body a receiver gets for each event type (Standard Webhooks style: type, timestamp, data). */
export const deliveredEventSchemas = Object.fromEntries((Object.keys(EVENT_PAYLOADS) as EventType[]).map((t) => [t, deliveredSchema(t)])) as unknown as Record<EventType, z.ZodObject>
