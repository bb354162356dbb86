import t from 'tap'
import { AppError } from '../../src/shared/errors.js'
import { MAX_REDELIVERY_WINDOW_DAYS, redeliveryRefusal, redeliveryWindow } from '../../src/modules/events/redelivery.js'

const live = { enabled: true, deletedAt: null }
const codeOf = (e: AppError | undefined) => e?.code

t.test('redeliveryRefusal: a finished delivery of a live endpoint can be sent again; pending, disabled and deleted cannot', async (t) => {
  for (const status of ['failed', 'succeeded', 'cancelled']) t.equal(redeliveryRefusal(live, { status }), undefined, status)
  t.equal(codeOf(redeliveryRefusal(live, { status: 'pending' })), 'WEBHOOK_DELIVERY_PENDING')
  t.equal(redeliveryRefusal(live, { status: 'pending' })!.status, 409)
  const disabled = redeliveryRefusal({ enabled: false, deletedAt: null }, { status: 'failed' })!
  t.match(disabled, { status: 409, code: 'WEBHOOK_DISABLED', message: /disabled/ })
  const deleted = redeliveryRefusal({ enabled: true, deletedAt: new Date() }, { status: 'failed' })!
  t.match(deleted, { status: 409, code: 'WEBHOOK_DISABLED', message: /deleted/ })
  t.equal(codeOf(redeliveryRefusal({ enabled: false, deletedAt: null }, { status: 'pending' })), 'WEBHOOK_DISABLED', 'the endpoint is told first')
  t.equal(codeOf(redeliveryRefusal({ enabled: false, deletedAt: null })), 'WEBHOOK_DISABLED', 'without a delivery: the endpoint alone (bulk)')
  t.equal(redeliveryRefusal(live), undefined)
})

t.test('redeliveryWindow: since inclusive to until (default now), at most 30 days, not empty', async (t) => {
  const now = new Date('2026-05-31T12:00:00Z')
  t.same(redeliveryWindow({ since: '2026-05-30T12:00:00+07:00' }, now), { since: new Date('2026-05-30T05:00:00Z'), until: now }, 'until defaults to now')
  t.same(redeliveryWindow({ since: '2026-05-01T00:00:00Z', until: '2026-05-31T00:00:00Z' }, now), { since: new Date('2026-05-01T00:00:00Z'), until: new Date('2026-05-31T00:00:00Z') }, 'exactly 30 days')
  t.equal(MAX_REDELIVERY_WINDOW_DAYS, 30)
  const refused = (body: { since: string; until?: string }) => {
    try {
      redeliveryWindow(body, now)
    } catch (e) {
      return e as AppError
    }
    return undefined
  }
  t.match(refused({ since: '2026-05-01T00:00:00Z', until: '2026-05-31T00:00:00.001Z' }), { status: 400, code: 'VALIDATION_FAILED', extensions: { errors: [{ path: 'body/until', message: /30 days/ }] } }, 'one millisecond over')
  t.match(refused({ since: '2026-04-30T11:59:59Z' }), { code: 'VALIDATION_FAILED', extensions: { errors: [{ path: 'body/since', message: /30 days/ }] } }, 'over 30 days before now')
  t.match(refused({ since: '2026-05-02T00:00:00Z', until: '2026-05-02T00:00:00Z' }), { code: 'VALIDATION_FAILED', extensions: { errors: [{ path: 'body/since', message: /before until/ }] } }, 'empty window')
  t.match(refused({ since: '2026-05-03T00:00:00Z', until: '2026-05-02T00:00:00Z' }), { code: 'VALIDATION_FAILED' }, 'until before since')
  t.match(refused({ since: '2026-06-01T00:00:00Z' }), { code: 'VALIDATION_FAILED', extensions: { errors: [{ path: 'body/since', message: /before now/ }] } }, 'since in the future')
})
