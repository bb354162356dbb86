// A gift card's PIN: asked at every check, wrong PINs counted on the card, the fifth in a row
// locking its checks for 15 minutes (423 with the seconds left), a right PIN clearing the count,
// and on PostgreSQL a burst of concurrent guesses counted one after the other.
import t from 'tap'
import { sql } from 'drizzle-orm'
import { startTestApp, onRealPostgres } from '../../helpers/app.js'
import { GiftCardDesk } from './helpers.js'
import { PIN_MAX_FAILURES } from '../../../src/modules/gift-cards/pin-policy.js'

const ctx = await startTestApp(t)
const shop = await ctx.createProgram()
const desk = new GiftCardDesk(ctx, shop.token)

t.test('the PIN is required, a wrong one counted, a right one clears the count', async (t) => {
  const card = await desk.issue({ pin: '4821', initialValue: '90000', tender: 'cash', storeId: 'S1' })
  t.equal(card.hasPin, true)
  const none = await desk.check(card.code)
  t.equal(none.statusCode, 422)
  t.equal(none.json().code, 'GIFT_CARD_PIN_REQUIRED')
  const wrong = await desk.check(card.code, '0000')
  t.equal(wrong.statusCode, 422)
  t.match(wrong.json(), { code: 'GIFT_CARD_PIN_INCORRECT', attemptsLeft: PIN_MAX_FAILURES - 1 })
  t.match((await desk.check(card.code, '1111')).json(), { attemptsLeft: PIN_MAX_FAILURES - 2 })
  const right = await desk.check(card.code, '4821')
  t.equal(right.statusCode, 200, right.body)
  t.equal(right.json().balance, '90000')
  t.match((await desk.check(card.code, '0000')).json(), { attemptsLeft: PIN_MAX_FAILURES - 1 }, 'a right PIN started the count again')
})

t.test('the fifth wrong PIN in a row locks the card: the right PIN too is refused until the lock ends', async (t) => {
  const card = await desk.issue({ pin: '77889900' })
  for (let i = 1; i < PIN_MAX_FAILURES; i++) t.equal((await desk.check(card.code, '12345678')).json().code, 'GIFT_CARD_PIN_INCORRECT')
  const fifth = await desk.check(card.code, '12345678')
  t.equal(fifth.statusCode, 423)
  t.match(fifth.json(), { code: 'GIFT_CARD_LOCKED', retryAfterSeconds: 900 })
  const right = await desk.check(card.code, '77889900')
  t.equal(right.statusCode, 423, 'locked even for the right PIN')
  t.ok(right.json().retryAfterSeconds > 0 && right.json().retryAfterSeconds <= 900)
  // Nobody can read the card by code meanwhile, but its id still answers for the staff.
  t.equal((await ctx.call(shop.token, 'GET', `/v1/gift-cards/${card.id}`)).statusCode, 200)
  // The lock ends: moved into the past as 15 minutes would.
  await ctx.database.db.execute(sql`update gift_cards set pin_locked_until = date_trunc('milliseconds', now()) - interval '1 second' where program_id = ${shop.id} and id = ${card.id}`)
  t.equal((await desk.check(card.code, '77889900')).statusCode, 200, 'after the lock, the right PIN works')
})

t.test('concurrent wrong guesses are counted one after another: no more than the limit get an answer', { skip: !onRealPostgres && 'concurrency only means something on PostgreSQL' }, async (t) => {
  const card = await desk.issue({ pin: '2468' })
  const answers = await Promise.all(Array.from({ length: 12 }, (_, i) => desk.check(card.code, String(1000 + i))))
  const codes = answers.map((a) => a.json().code)
  const incorrect = codes.filter((c) => c === 'GIFT_CARD_PIN_INCORRECT').length
  t.ok(incorrect <= PIN_MAX_FAILURES - 1, `${incorrect} told incorrect (${codes.join(', ')})`)
  t.ok(codes.every((c) => c === 'GIFT_CARD_PIN_INCORRECT' || c === 'GIFT_CARD_LOCKED' || c === 'RETRY_LATER'), 'incorrect, locked, or retry')
  t.equal((await desk.check(card.code, '2468')).statusCode, 423, 'the card is locked after the burst')
})
