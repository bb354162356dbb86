import t from 'tap'
import { startTestApp } from '../../helpers/app.js'

const ctx = await startTestApp(t)
const program = await ctx.createProgram()
const other = await ctx.createProgram()

let keyCounter = 0
const key = () => `adj-${process.pid}-${++keyCounter}`

const adjust = (memberId: string, points: number, reason = 'goodwill gesture', idempotencyKey = key(), token = program.token) =>
  ctx.call(token, 'POST', `/v1/members/${memberId}/points/adjustments`, { points, reason }, { 'idempotency-key': idempotencyKey })

const balances = async (memberId: string, token = program.token) => (await ctx.call(token, 'GET', `/v1/members/${memberId}/balances`)).json()
const verify = async (token = program.token) => (await ctx.call(token, 'GET', '/v1/ledger/verify')).json()

t.test('a new member has zero balances in the program currency', async (t) => {
  const m = await ctx.enrol(program.token)
  t.same(await balances(m.id), {
    memberId: m.id,
    points: { balance: 0, available: 0, pending: 0 },
    storedValue: { currency: 'VND', balance: '0', available: '0', pending: '0' },
    pointsExpiring: [],
    giftCards: [],
  })
})

t.test('a positive adjustment grants points through a balanced entry', async (t) => {
  const m = await ctx.enrol(program.token)
  const res = await adjust(m.id, 250, 'welcome bonus')
  t.equal(res.statusCode, 201)
  const body = res.json()
  t.equal(body.balances.points.balance, 250)
  t.equal(body.entry.kind, 'adjustment')
  t.equal(body.entry.reason, 'welcome bonus')
  t.same(
    body.entry.postings.map((p: { accountType: string; debit: string | null; credit: string | null }) => [p.accountType, p.debit, p.credit]),
    [
      ['points_adjustments', '250', null],
      ['member_points', null, '250'],
    ],
  )
  t.equal(body.entry.postings[1].balanceAfter, '250')
  const entry = await ctx.call(program.token, 'GET', `/v1/ledger/entries/${body.entry.id}`)
  t.same(entry.json(), body.entry, 'the entry reads back as posted')
})

t.test('a negative adjustment cannot take more than the member has', async (t) => {
  const m = await ctx.enrol(program.token)
  await adjust(m.id, 100)
  const res = await adjust(m.id, -101)
  t.equal(res.statusCode, 422)
  t.equal(res.json().code, 'INSUFFICIENT_FUNDS')
  t.equal((await balances(m.id)).points.balance, 100, 'nothing moved')
  const ok = await adjust(m.id, -100)
  t.equal(ok.statusCode, 201)
  t.equal(ok.json().balances.points.balance, 0)
})

t.test('adjustments need a reason, a non-zero integer and an Idempotency-Key', async (t) => {
  const m = await ctx.enrol(program.token)
  for (const [body, why] of [
    [{ points: 10 }, 'no reason'],
    [{ points: 10, reason: '' }, 'empty reason'],
    [{ points: 0, reason: 'zero' }, 'zero points'],
    [{ points: 1.5, reason: 'fraction' }, 'fractional points'],
    [{ points: '10', reason: 'string' }, 'string points'],
    [{ points: 1e12, reason: 'huge' }, 'huge'],
  ] as const) {
    const res = await ctx.call(program.token, 'POST', `/v1/members/${m.id}/points/adjustments`, body, { 'idempotency-key': key() })
    t.equal(res.statusCode, 400, why)
  }
  const noKey = await ctx.call(program.token, 'POST', `/v1/members/${m.id}/points/adjustments`, { points: 5, reason: 'no key' })
  t.equal(noKey.statusCode, 400)
  t.match(noKey.json().errors[0].path, /idempotency-key/)
  t.equal((await balances(m.id)).points.balance, 0)
})

t.test('a replay returns the original response and posts nothing more; another body with the key is refused', async (t) => {
  const m = await ctx.enrol(program.token)
  const k = key()
  const first = await adjust(m.id, 40, 'replayed grant', k)
  const second = await adjust(m.id, 40, 'replayed grant', k)
  t.equal(second.statusCode, 201)
  t.same(second.json(), first.json())
  t.equal(second.headers['idempotent-replayed'], 'true')
  t.equal((await balances(m.id)).points.balance, 40, 'credited once')

  const reused = await adjust(m.id, 41, 'replayed grant', k)
  t.equal(reused.statusCode, 422)
  t.equal(reused.json().code, 'IDEMPOTENCY_KEY_REUSED')

  const refusedKey = key()
  const refused = await adjust(m.id, -1000, 'too much', refusedKey)
  t.equal(refused.statusCode, 422)
  await adjust(m.id, 2000)
  const again = await adjust(m.id, -1000, 'too much', refusedKey)
  t.equal(again.statusCode, 422, 'a refusal is part of the answer: the retry gets it again')
  t.equal(again.json().code, 'INSUFFICIENT_FUNDS')
  t.equal(again.headers['idempotent-replayed'], 'true')
})

t.test('activity lists entries newest first with the balance after each', async (t) => {
  const m = await ctx.enrol(program.token)
  await adjust(m.id, 100, 'first')
  await adjust(m.id, -30, 'second')
  await adjust(m.id, 5, 'third')
  const res = await ctx.call(program.token, 'GET', `/v1/members/${m.id}/activity?limit=2`)
  t.equal(res.statusCode, 200)
  const page1 = res.json()
  t.same(
    page1.data.map((a: { reason: string; points: number; pointsBalanceAfter: number }) => [a.reason, a.points, a.pointsBalanceAfter]),
    [
      ['third', 5, 75],
      ['second', -30, 70],
    ],
  )
  t.equal(page1.data[0].storedValue, null)
  const page2 = (await ctx.call(program.token, 'GET', `/v1/members/${m.id}/activity?limit=2&cursor=${page1.nextCursor}`)).json()
  t.same(page2.data.map((a: { reason: string }) => a.reason), ['first'])
  t.equal(page2.nextCursor, null)
})

t.test('reversal mirrors an entry once, links both ways, and respects the floor', async (t) => {
  const m = await ctx.enrol(program.token)
  const grant = (await adjust(m.id, 300, 'mistaken grant')).json().entry
  const rev = await ctx.call(program.token, 'POST', `/v1/ledger/entries/${grant.id}/reversal`, { reason: 'granted by mistake' }, { 'idempotency-key': key() })
  t.equal(rev.statusCode, 201)
  const reversal = rev.json()
  t.equal(reversal.kind, 'reversal')
  t.equal(reversal.reversesEntryId, grant.id)
  t.same(
    reversal.postings.map((p: { accountType: string; amount: string }) => [p.accountType, p.amount]),
    grant.postings.map((p: { accountType: string; amount: string }) => [p.accountType, String(-Number(p.amount))]),
  )
  t.equal((await ctx.call(program.token, 'GET', `/v1/ledger/entries/${grant.id}`)).json().reversedByEntryId, reversal.id)
  t.equal((await balances(m.id)).points.balance, 0)

  const twice = await ctx.call(program.token, 'POST', `/v1/ledger/entries/${grant.id}/reversal`, { reason: 'again' }, { 'idempotency-key': key() })
  t.equal(twice.statusCode, 409)
  t.equal(twice.json().code, 'ALREADY_REVERSED')
  const ofReversal = await ctx.call(program.token, 'POST', `/v1/ledger/entries/${reversal.id}/reversal`, { reason: 'undo undo' }, { 'idempotency-key': key() })
  t.equal(ofReversal.json().code, 'CANNOT_REVERSE_REVERSAL')

  const spent = (await adjust(m.id, 50, 'spent later')).json().entry
  await adjust(m.id, -40, 'spending')
  const refused = await ctx.call(program.token, 'POST', `/v1/ledger/entries/${spent.id}/reversal`, { reason: 'claw back' }, { 'idempotency-key': key() })
  t.equal(refused.statusCode, 422)
  t.equal(refused.json().code, 'INSUFFICIENT_FUNDS')
  const forced = await ctx.call(program.token, 'POST', `/v1/ledger/entries/${spent.id}/reversal`, { reason: 'claw back', allowNegativeBalance: true }, { 'idempotency-key': key() })
  t.equal(forced.statusCode, 201)
  t.same((await balances(m.id)).points, { balance: -40, available: -40, pending: 0 }, 'the policy-allowed debt is visible')
  const report = await verify()
  t.equal(report.ok, true, 'a policy overdraft is not a discrepancy')
})

t.test('verify is clean and counts what it checked; other programs are invisible', async (t) => {
  const report = await verify()
  t.equal(report.ok, true)
  t.same(report.discrepancies, [])
  t.ok(report.entries > 5)
  t.ok(report.postings >= report.entries * 2)
  t.same(report.assets, [{ asset: 'POINTS', total: '0' }])

  const m = await ctx.enrol(program.token)
  const entry = (await adjust(m.id, 10)).json().entry
  t.equal((await ctx.call(other.token, 'GET', `/v1/ledger/entries/${entry.id}`)).statusCode, 404)
  t.equal((await ctx.call(other.token, 'GET', `/v1/members/${m.id}/balances`)).statusCode, 404)
  t.equal((await ctx.call(other.token, 'GET', `/v1/members/${m.id}/activity`)).statusCode, 404)
  t.equal((await adjust(m.id, 10, 'cross-tenant', key(), other.token)).statusCode, 404)
  t.equal((await ctx.call(other.token, 'POST', `/v1/ledger/entries/${entry.id}/reversal`, { reason: 'cross-tenant' }, { 'idempotency-key': key() })).statusCode, 404)
  t.equal((await verify(other.token)).entries, 0)
  t.equal((await balances(m.id)).points.balance, 10, 'nothing changed')
})

t.test('scopes: balances:read reads balances but cannot adjust or verify', async (t) => {
  const reader = await ctx.createClient(program.id, ['balances:read'])
  const m = await ctx.enrol(program.token)
  t.equal((await ctx.call(reader.token, 'GET', `/v1/members/${m.id}/balances`)).statusCode, 200)
  t.equal((await adjust(m.id, 10, 'nope', key(), reader.token)).statusCode, 403)
  t.equal((await ctx.call(reader.token, 'GET', '/v1/ledger/verify')).statusCode, 403)
})
