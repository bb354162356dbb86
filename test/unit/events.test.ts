import t from 'tap'
import { Webhook } from 'standardwebhooks'
import { assessUnusual, crossedBelow } from '../../src/modules/events/care.js'
import { retryDelayMs } from '../../src/modules/events/dispatcher.js'
import { subscribed } from '../../src/modules/events/fan-out.js'
import { isPrivateAddress, webhookUrlProblem } from '../../src/modules/events/http.js'
import { capReleaseTime, endOfLocalDay, insideWindow, nextSendingTime } from '../../src/modules/events/marketing.js'
import { defaultNotificationRules, notificationRulesProblems, notificationRulesSchema } from '../../src/modules/programs/notification-rules.js'
import { newWebhookSecret, verifyWebhookSignature, webhookHeaders } from '../../src/modules/events/signing.js'
import { zonedParts, zonedToUtc } from '../../src/shared/zoned-time.js'

const VN = 'Asia/Ho_Chi_Minh'
const window = { sendFrom: '07:00', sendUntil: '22:00' }
const hanoi = (hh: number, mm = 0, day = 1) => new Date(Date.UTC(2026, 5, day, hh - 7, mm))

t.test('the sending window is read on the program clock', async (t) => {
  t.equal(insideWindow(hanoi(6, 59), VN, window), false)
  t.equal(insideWindow(hanoi(7, 0), VN, window), true)
  t.equal(insideWindow(hanoi(21, 59), VN, window), true)
  t.equal(insideWindow(hanoi(22, 0), VN, window), false)
  t.same(nextSendingTime(hanoi(12), VN, window), hanoi(12), 'open: now')
  t.same(nextSendingTime(hanoi(23, 30), VN, window), hanoi(7, 0, 2), 'after closing: tomorrow 07:00')
  t.same(nextSendingTime(hanoi(3), VN, window), hanoi(7), 'before opening: today 07:00')
  // A window across midnight (a night-shift business).
  const night = { sendFrom: '20:00', sendUntil: '02:00' }
  t.equal(insideWindow(hanoi(1), VN, night), true)
  t.equal(insideWindow(hanoi(12), VN, night), false)
  t.same(nextSendingTime(hanoi(12), VN, night), hanoi(20))
})

t.test('windows and days follow daylight saving time where there is one', async (t) => {
  const NY = 'America/New_York'
  // 2026-03-08: clocks go from 02:00 to 03:00. At 23:00 on the 7th (EST), 07:00 on the 8th is EDT (UTC-4).
  t.same(nextSendingTime(new Date('2026-03-08T04:00:00Z'), NY, window), new Date('2026-03-08T11:00:00Z'))
  t.same(endOfLocalDay(new Date('2026-11-01T12:00:00Z'), NY), new Date('2026-11-02T05:00:00Z'), 'the day clocks fall back lasts 25 hours')
  t.same(zonedParts(zonedToUtc({ year: 2026, month: 12, day: 31, hour: 23, minute: 59 }, VN), VN), { year: 2026, month: 12, day: 31, hour: 23, minute: 59, second: 0 })
})

t.test('at most N per 24 hours: the next slot is when the oldest counted send is a day old', async (t) => {
  const now = new Date('2026-06-01T10:00:00Z')
  const h = (n: number) => new Date(now.getTime() - n * 3_600_000)
  t.equal(capReleaseTime([], 3, now), null)
  t.equal(capReleaseTime([h(1), h(2)], 3, now), null)
  t.same(capReleaseTime([h(1), h(5), h(20)], 3, now), new Date(h(20).getTime() + 86_400_000))
  t.equal(capReleaseTime([h(1), h(5), h(25)], 3, now), null, 'a send older than 24 h no longer counts')
  t.same(capReleaseTime([h(1), h(2), h(3), h(4)], 3, now), new Date(h(3).getTime() + 86_400_000), 'the third newest decides')
})

t.test('storedValue.low: once per crossing', async (t) => {
  t.equal(crossedBelow(50000n, 100000n, 40000n), true)
  t.equal(crossedBelow(50000n, 50000n, 49999n), true, 'from exactly the threshold')
  t.equal(crossedBelow(50000n, 40000n, 30000n), false, 'already below: quiet')
  t.equal(crossedBelow(50000n, 60000n, 50000n), false, 'at the threshold is not below it')
  t.equal(crossedBelow(null, 100000n, 0n), false, 'no threshold: never')
})

t.test('unusual purchases: absolute limit, k times the average once the history is long enough', async (t) => {
  const settings = notificationRulesSchema.parse({ unusualPurchase: { above: '5000000', timesAverage: '3', minPurchases: 3 } }).unusualPurchase
  const history = { count: 4, sum: 400000n } // average 100,000
  t.match(assessUnusual(settings, 'VND', 300000n, history), { unusual: false, average: 100000n })
  t.match(assessUnusual(settings, 'VND', 300001n, history), { unusual: true, reasons: ['above_average'] })
  t.match(assessUnusual(settings, 'VND', 6000000n, { count: 0, sum: 0n }), { unusual: true, reasons: ['above_limit'], average: null })
  t.match(assessUnusual(settings, 'VND', 900000n, { count: 2, sum: 100000n }), { unusual: false, average: null }, 'two purchases are not a history')
  t.match(assessUnusual({ ...settings, timesAverage: '2.5' }, 'VND', 250001n, history), { unusual: true })
  t.match(assessUnusual({ ...settings, action: 'hold' }, 'VND', 1n, history), { unusual: false, action: 'hold' })
})

t.test('notification settings: defaults from the decree, amounts in the program currency', async (t) => {
  t.same(defaultNotificationRules(), {
    lowStoredValue: null,
    unusualPurchase: { above: null, timesAverage: '5', minPurchases: 5, lookback: 20, action: 'flag' },
    marketing: { maxPer24Hours: 3, sendFrom: '07:00', sendUntil: '22:00' },
  })
  const rules = notificationRulesSchema.parse({ lowStoredValue: '50000.5', unusualPurchase: { above: '0', timesAverage: '1' }, marketing: { sendFrom: '08:00', sendUntil: '08:00' } })
  t.same(
    notificationRulesProblems(rules, 'VND', 'body/rules/notifications').map((p) => p.path),
    ['body/rules/notifications/lowStoredValue', 'body/rules/notifications/unusualPurchase/above', 'body/rules/notifications/unusualPurchase/timesAverage', 'body/rules/notifications/marketing/sendUntil'],
  )
  t.same(notificationRulesProblems(notificationRulesSchema.parse({ lowStoredValue: '5.50' }), 'USD', 'x'), [])
})

t.test('webhook signatures follow Standard Webhooks: the reference library verifies ours', async (t) => {
  const secret = newWebhookSecret()
  t.match(secret, /^whsec_[A-Za-z0-9+/]{43}=$/)
  const body = JSON.stringify({ type: 'member.enrolled', timestamp: '2026-06-01T00:00:00.000Z', data: { memberId: 'm' } })
  const ts = Math.floor(Date.now() / 1000)
  const headers = webhookHeaders(secret, 'evt_1', ts, body)
  t.match(headers['webhook-signature'], /^v1,[A-Za-z0-9+/]{43}=$/)
  t.same(new Webhook(secret).verify(body, headers), JSON.parse(body))
  t.equal(verifyWebhookSignature(secret, { id: 'evt_1', timestamp: String(ts), signature: `v1,bogus ${headers['webhook-signature']}` }, body), true, 'any of several signatures')
  t.equal(verifyWebhookSignature(secret, { id: 'evt_2', timestamp: String(ts), signature: headers['webhook-signature']! }, body), false, 'the id is signed')
  t.equal(verifyWebhookSignature(secret, { id: 'evt_1', timestamp: String(ts + 1), signature: headers['webhook-signature']! }, body), false, 'the time is signed')
  t.equal(verifyWebhookSignature(newWebhookSecret(), { id: 'evt_1', timestamp: String(ts), signature: headers['webhook-signature']! }, body), false)
})

t.test('retries back off exponentially with a little jitter, up to 12 hours', async (t) => {
  t.equal(retryDelayMs(1, 0.5), 30_000)
  t.equal(retryDelayMs(2, 0.5), 60_000)
  t.equal(retryDelayMs(5, 0.5), 480_000)
  t.equal(retryDelayMs(30, 0.5), 12 * 3_600_000)
  t.equal(retryDelayMs(1, 0), 27_000)
  t.equal(retryDelayMs(1, 1), 33_000)
})

t.test('subscriptions: the listed types, or every type but webhook.test when none is listed', async (t) => {
  t.ok(subscribed([], 'purchase.completed'))
  t.ok(subscribed([], 'birthday.today'))
  t.notOk(subscribed([], 'webhook.test'), 'a test event goes only to the endpoint tested')
  t.ok(subscribed(['tier.changed', 'purchase.completed'], 'purchase.completed'))
  t.notOk(subscribed(['tier.changed'], 'purchase.completed'))
  t.ok(subscribed('{tier.changed,purchase.completed}', 'purchase.completed'), 'a text[] literal')
  t.notOk(subscribed('{tier.changed}', 'purchase.completed'))
  t.ok(subscribed('{}', 'member.enrolled'), 'an empty literal is every type')
})

t.test('webhook URLs: https to public hosts in production; local receivers only when allowed', async (t) => {
  t.equal(webhookUrlProblem('https://hooks.example.com/x', false), null)
  t.equal(webhookUrlProblem('http://hooks.example.com/x', false), 'must be an https URL')
  for (const url of ['https://127.0.0.1/x', 'https://localhost:8080/x', 'https://10.1.2.3/x', 'https://192.168.1.1/', 'https://169.254.169.254/latest', 'https://[::1]/x', 'https://[fd00::1]/x'])
    t.equal(webhookUrlProblem(url, false), 'must not point to a private or loopback address', url)
  t.equal(webhookUrlProblem('http://127.0.0.1:3000/hooks', true), null)
  t.equal(webhookUrlProblem('https://user:pw@example.com/', true), 'must not contain credentials')
  t.equal(webhookUrlProblem('ftp://example.com/', true), 'must be an https URL')
  t.equal(isPrivateAddress('::ffff:10.0.0.1'), true, 'IPv4-mapped IPv6')
  t.equal(isPrivateAddress('8.8.8.8'), false)
})

t.test('PUBLIC_BASE_URL: an http(s) URL short enough for an SMS link; the dispatcher can be turned off', async (t) => {
  const { loadConfig, ConfigError } = await import('../../src/config.js')
  const config = loadConfig({ PUBLIC_BASE_URL: 'https://ll.example.vn/', WEBHOOK_DISPATCH_INTERVAL_MS: '0' })
  t.equal(config.publicBaseUrl, 'https://ll.example.vn', 'trailing slash dropped')
  t.same(config.webhooks, { dispatchIntervalMs: 0, allowPrivateUrls: true })
  t.equal(loadConfig({}).publicBaseUrl, 'http://localhost:3000')
  t.throws(() => loadConfig({ PUBLIC_BASE_URL: `https://${'x'.repeat(80)}.vn` }), ConfigError)
  t.throws(() => loadConfig({ PUBLIC_BASE_URL: 'ftp://x.vn' }), ConfigError)
})
