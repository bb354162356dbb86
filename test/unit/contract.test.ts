// The answer check of test/helpers/contract.ts can fail: each kind of disagreement with the
// document is reported, an answer that matches is not, and what is outside the document is skipped.
import t from 'tap'
import { ContractLog, documentPath, documentedRoute, violationsOf, type Answer } from '../helpers/contract.js'

const memberId = '01a23765-f155-73bf-9099-104b4e965b39'
const balances = { memberId, points: { balance: 10, available: 10, pending: 0 }, storedValue: { currency: 'VND', balance: '0', available: '0', pending: '0' }, pointsExpiring: [], giftCards: [] }
const ok: Answer = {
  method: 'GET',
  route: '/v1/members/:memberId/balances',
  url: `/v1/members/${memberId}/balances`,
  status: 200,
  headers: { 'content-type': 'application/json; charset=utf-8', 'x-request-id': 'r1' },
  body: JSON.stringify(balances),
}

t.test('an answer as the document says has no violation', async (t) => {
  t.same(violationsOf(ok), [])
})

t.test('each kind of disagreement is named', async (t) => {
  t.match(violationsOf({ ...ok, status: 418 }), [/status 418 is not declared/])
  t.match(violationsOf({ ...ok, headers: { ...ok.headers, 'content-type': 'text/csv' } }), [/content type text\/csv is not declared/])
  t.match(violationsOf({ ...ok, body: JSON.stringify({ ...balances, points: { ...balances.points, balance: 'ten' } }) }), [/body: \/points\/balance must be integer/])
  t.match(violationsOf({ ...ok, body: 'not json' }), [/not JSON/])
  t.match(violationsOf({ ...ok, body: '' }), [/an empty body where the response declares application\/json/])
  t.match(violationsOf({ ...ok, headers: { ...ok.headers, 'content-disposition': 'attachment' } }), [/header content-disposition is sent but not declared/])
  t.match(violationsOf({ ...ok, route: '/v1/nowhere/:id' }), [/route GET \/v1\/nowhere\/:id is not in the document/])
})

t.test('a problem answer is checked against its declared codes', async (t) => {
  const problem = { type: '/problems/forbidden', title: 'Forbidden', status: 403, detail: 'no', code: 'NOT_A_DECLARED_CODE', requestId: 'r1' }
  const answer = { ...ok, status: 403, headers: { 'content-type': 'application/problem+json', 'x-request-id': 'r1' }, body: JSON.stringify(problem) }
  t.match(violationsOf(answer), [/\/code must be equal to one of the allowed values \(got "NOT_A_DECLARED_CODE"\)/])
  t.same(violationsOf({ ...answer, body: JSON.stringify({ ...problem, code: 'FORBIDDEN' }) }), [])
})

t.test('what is outside the document is skipped by name, and unrouted answers are not checked', async (t) => {
  t.same(violationsOf({ ...ok, route: '/metrics', url: '/metrics', headers: { 'content-type': 'text/plain' } }), [])
  t.same(violationsOf({ ...ok, route: undefined, status: 404 }), [])
})

t.test('routes map to document paths', async (t) => {
  t.equal(documentPath('/v1/members/:memberId/balances'), '/v1/members/{memberId}/balances')
  t.equal(documentedRoute('GET', `/v1/members/${memberId}/balances?x=1`), '/v1/members/{memberId}/balances')
  t.equal(documentedRoute('GET', '/v1/programs'), '/v1/programs')
  t.equal(documentedRoute('GET', '/v1/nowhere'), undefined)
})

t.test('the log groups the same disagreement and reports it', async (t) => {
  const log = new ContractLog()
  log.record(ok)
  t.equal(log.report(), undefined)
  log.record({ ...ok, status: 418 })
  log.record({ ...ok, status: 418 })
  t.equal(log.violations.length, 1)
  t.match(log.report(), /1 kind\(s\) of answer disagree.*\n {2}GET \/v1\/members\/\{memberId\}\/balances -> 418: status 418 is not declared .*\(x2\)/)
})
