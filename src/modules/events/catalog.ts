/**
 * Every event the service emits and whether it is transactional (a receipt, a balance notice, a
 * security check: always sent) or marketing (advertising under Decree 91/2020: consent,
 * Do-Not-Call, 3 per 24 h and the 07:00-22:00 window apply).
 */
export const EVENT_CATEGORIES = {
  'member.enrolled': 'transactional',
  'purchase.completed': 'transactional',
  'return.completed': 'transactional',
  'storedValue.toppedUp': 'transactional',
  'storedValue.low': 'transactional',
  'points.expiringSoon': 'transactional',
  'tier.changed': 'transactional',
  'purchase.unusual': 'transactional',
  'birthday.today': 'marketing',
  'campaign.granted': 'marketing',
  'webhook.test': 'transactional',
} as const satisfies Record<string, EventCategory>

export type EventCategory = 'transactional' | 'marketing'
export type EventType = keyof typeof EVENT_CATEGORIES

/** Types an endpoint may subscribe to (webhook.test goes only to the endpoint tested). */
export const SUBSCRIBABLE_EVENT_TYPES = Object.keys(EVENT_CATEGORIES).filter((t) => t !== 'webhook.test') as Exclude<EventType, 'webhook.test'>[]

export const categoryOf = (type: EventType): EventCategory => EVENT_CATEGORIES[type]
